/**
 * `onair run` as a real process, the production duties of issue 9:
 * - sd_notify: with $NOTIFY_SOCKET set, READY=1 once the HTTP server listens and the
 *   channel was started, WATCHDOG=1 every WATCHDOG_USEC/2, STOPPING=1 at shutdown (the
 *   systemd-notify first on $PATH is a script recording its arguments);
 * - the daily backup (the catch-up one, brought forward with the config's
 *   backup.catchUpDelayMs) appears while the channel
 *   writes as-run rows and passes PRAGMA integrity_check;
 * - the as-run log holds every item aired (the one running at start with joined_late, the
 *   next at its boundary) and the break's cue with its planned splice wall time.
 */
import Database from "better-sqlite3";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { YOUNG_GENERATION_FLAG } from "../../src/core/runtime.js";
import { checkBackup, listBackups } from "../../src/store/backup.js";
import { openStore } from "../../src/store/db.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { alive, until } from "../helpers/pipeline.js";

const CHANNEL = "prod";
const WATCHDOG_USEC = 500_000;

interface AsRunRow {
  id: number;
  kind: string;
  scheduled_ms: number | null;
  actual_ms: number;
  pts: number | null;
  event_id: number | null;
  details: string | null;
}

/** Wall ms (the log's `time`) of the first log line with this event. */
function logTime(log: string, event: string): number | undefined {
  for (const line of log.split("\n")) {
    if (!line.includes(`"event":"${event}"`)) continue;
    try {
      const t = (JSON.parse(line) as { time: number | string }).time;
      return typeof t === "number" ? t : Date.parse(t);
    } catch {
      // a partial line
    }
  }
  return undefined;
}

describe.runIf(haveFfmpeg())("onair run in production: sd_notify, daily backup, as-run of items and cues", () => {
  let dir = "";
  let cap: Capture;
  let d: Daemon;
  let t0 = 0;
  let spawnedAt = 0;
  const item = { a: { startMs: 0, durationMs: 0, eventId: 0 }, b: { startMs: 0, durationMs: 0, eventId: 0 } };
  let breakStartMs = 0;
  const notifyLog = (): Array<{ at: number; args: string }> =>
    existsSync(join(dir, "notify.log"))
      ? readFileSync(join(dir, "notify.log"), "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => ({ at: Number(l.slice(0, l.indexOf(" "))), args: l.slice(l.indexOf(" ") + 1) }))
      : [];
  const asRun = (): AsRunRow[] => {
    const db = new Database(join(dir, "data", "onair.db"), { readonly: true, fileMustExist: true });
    try {
      return db.prepare("SELECT * FROM asrun WHERE channel = ? ORDER BY id").all(CHANNEL) as AsRunRow[];
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-prod-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), "tests:prod-test-api-token-0123456789\n", { mode: 0o600 });
    // the catch-up backup (no backup yet) 4 s after start instead of 5 min
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\nbackup:\n  catchUpDelayMs: 4000\n");
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    cap = await udpCapture();
    writeFileSync(
      join(dir, "profiles", `${CHANNEL}.json`),
      JSON.stringify(testProfileInput({ id: CHANNEL, udpPort: cap.port, epg: { enabled: false } })),
    );
    // a schedule: A is on air at start, B starts 14 s later, a break 20 s in
    t0 = Date.now();
    const store = openStore(join(dir, "data", "onair.db"));
    const a = { startMs: t0 - 60_000, durationMs: 74_000, title: "Already running" };
    const b = { startMs: t0 + 14_000, durationMs: 120_000, title: "Next one" };
    breakStartMs = t0 + 20_000;
    store.replaceItems(CHANNEL, t0 - 120_000, t0 + 600_000, [a, b], [{ startMs: breakStartMs, durationMs: 6000, breakId: "brk-1" }]);
    for (const it of store.listItems(CHANNEL))
      Object.assign(it.startMs === a.startMs ? item.a : item.b, { startMs: it.startMs, durationMs: it.durationMs, eventId: it.eventId });
    store.close();
    // systemd-notify stand-in, first on PATH: records the time (ms) and its arguments
    mkdirSync(join(dir, "bin"));
    const script = join(dir, "bin", "systemd-notify");
    writeFileSync(script, `#!/bin/sh\necho "$(date +%s%3N) $*" >> "${join(dir, "notify.log")}"\n`);
    chmodSync(script, 0o755);
    spawnedAt = Date.now();
    d = await startDaemon(dir, [], {
      NOTIFY_SOCKET: join(dir, "notify.sock"),
      WATCHDOG_USEC: String(WATCHDOG_USEC),
      PATH: [join(dir, "bin"), dirname(process.execPath), process.env.PATH ?? ""].join(delimiter),
    });
    await until(() => cap.datagrams.length > 100, 30_000, "the channel on UDP");
  }, 60_000);

  afterAll(async () => {
    await stopDaemon(d);
    await cap?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("tells systemd READY=1 after the HTTP server listens and the channel started, then pings the watchdog every WATCHDOG_USEC/2", async () => {
    await until(() => notifyLog().filter((n) => n.args === "WATCHDOG=1").length >= 8, 20_000, "eight watchdog pings");
    await until(() => logTime(d.log(), "channel_started") !== undefined, 5000, "the channel_started log line");
    const n = notifyLog();
    const ready = n.find((x) => x.args.startsWith("--ready"));
    expect(ready).toBeDefined();
    expect(n[0]).toBe(ready); // nothing before READY
    expect(ready!.at).toBeGreaterThanOrEqual(logTime(d.log(), "http_listening")!);
    expect(ready!.at).toBeGreaterThanOrEqual(logTime(d.log(), "channel_started")!);
    const pings = n.filter((x) => x.args === "WATCHDOG=1").map((x) => x.at);
    const gaps = pings.slice(1).map((t, i) => t - pings[i]);
    const mean = gaps.reduce((s, g) => s + g, 0) / gaps.length;
    const period = WATCHDOG_USEC / 2000;
    expect(mean).toBeGreaterThan(period * 0.8);
    expect(mean).toBeLessThan(period * 1.5);
    expect(Math.max(...gaps)).toBeLessThan(WATCHDOG_USEC / 1000); // never near the watchdog timeout
    console.log(
      `sd_notify: READY ${ready!.at - logTime(d.log(), "http_listening")!} ms after listening; watchdog mean gap ${mean.toFixed(0)} ms (asked ${period}), max ${Math.max(...gaps)} ms`,
    );
  }, 30_000);

  it("runs with the young generation fixed at 1 MB semi-spaces when executed as the units do (bin/onair.js's shebang)", async () => {
    // node's own command line, as the kernel has it
    const argv = readFileSync(`/proc/${d.child.pid}/cmdline`, "utf8").split("\0");
    expect(argv).toContain(YOUNG_GENERATION_FLAG);
    expect(argv.indexOf(YOUNG_GENERATION_FLAG)).toBeLessThan(argv.findIndex((a) => a.endsWith("onair.js")));
    expect(d.log()).not.toContain("young_generation_default");
    // what V8 made of it, as Prometheus sees it: new space ≤ 2 semi-spaces of 1 MB
    const metrics = await (await fetch(`${d.url}/metrics`)).text();
    const m = /^nodejs_heap_space_size_total_bytes\{space="new"\} (\d+)/m.exec(metrics);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeLessThanOrEqual(2 * 1024 * 1024);
  });

  it("takes the daily backup while the channel runs; it passes PRAGMA integrity_check", async () => {
    await until(() => listBackups(join(dir, "data", "backups")).length > 0, 30_000, "the daily backup");
    const [b] = listBackups(join(dir, "data", "backups"));
    // checks the checksums and the decompressed store's integrity_check
    const manifest = await checkBackup(b);
    expect(manifest.format).toBe(2);
    expect(manifest.rows.asrun).toBeGreaterThanOrEqual(1);
    expect(manifest.rows.schedule_items).toBe(2);
    expect(manifest.createdMs).toBeGreaterThanOrEqual(spawnedAt + 4000);
    await until(() => d.log().includes('"event":"backup_done"'), 5000, "the backup_done log line");
  }, 40_000);

  it("writes every item aired and the break's cue to the as-run log, with scheduled and actual time, PTS and event id", async () => {
    // the cue goes out ~6 s before the break, about when B starts: wait for both
    await until(
      () => asRun().some((r) => r.kind === "cue") && asRun().filter((r) => r.kind === "item").length >= 2,
      40_000,
      "B and the break's cue in the as-run log",
    );
    const rows = asRun();
    const items = rows.filter((r) => r.kind === "item");
    expect(items.map((r) => r.event_id)).toEqual([item.a.eventId, item.b.eventId]);
    const [a, b] = items;
    // A was on air before the daemon: scheduled = its real start, actual = when the output began
    expect(a.scheduled_ms).toBe(item.a.startMs);
    expect(a.actual_ms).toBeGreaterThanOrEqual(spawnedAt);
    expect(JSON.parse(a.details!)).toMatchObject({ title: "Already running", joined_late: true });
    // B at its boundary: measured lateness of the as-run row
    expect(b.scheduled_ms).toBe(item.b.startMs);
    const late = b.actual_ms - item.b.startMs;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    expect(b.pts).not.toBeNull();
    expect(JSON.parse(b.details!)).not.toHaveProperty("joined_late");
    // the cue: scheduled = the break's due wall time, event id = the stored splice_event_id
    const cue = rows.find((r) => r.kind === "cue")!;
    const db = new Database(join(dir, "data", "onair.db"), { readonly: true });
    const stored = db.prepare("SELECT splice_event_id, scheduled_ms, pts FROM cues WHERE channel = ?").all(CHANNEL) as Array<{
      splice_event_id: number;
      scheduled_ms: number;
      pts: number;
    }>;
    db.close();
    expect(stored).toHaveLength(1);
    expect(cue.event_id).toBe(stored[0].splice_event_id);
    expect(cue.pts).toBe(stored[0].pts);
    expect(cue.scheduled_ms).toBe(stored[0].scheduled_ms);
    expect(Math.abs(cue.scheduled_ms! - breakStartMs)).toBeLessThan(20);
    // sent ahead of the splice point by the preroll (6 s, less the time to the next send slot)
    expect(breakStartMs - cue.actual_ms).toBeGreaterThan(4000);
    console.log(
      `as-run: item B written ${late} ms after its start; cue scheduled ${cue.scheduled_ms! - breakStartMs} ms off the break, sent ${breakStartMs - cue.actual_ms} ms ahead`,
    );
  }, 60_000);

  it("tells systemd STOPPING=1 at the start of the shutdown and stops the watchdog", async () => {
    const pids = d.ffmpegPids();
    const killedAt = Date.now();
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
    await until(() => pids.every((p) => !alive(p)), 10_000, "FFmpeg children to end");
    const n = notifyLog();
    const stopping = n.find((x) => x.args === "STOPPING=1");
    expect(stopping).toBeDefined();
    expect(stopping!.at).toBeGreaterThanOrEqual(killedAt);
    // the log says STOPPING came before the channels stopped
    expect(stopping!.at).toBeLessThanOrEqual(logTime(d.log(), "channel_stopped")! + 50);
    const period = WATCHDOG_USEC / 2000;
    expect(n.filter((x) => x.args === "WATCHDOG=1" && x.at > stopping!.at + period)).toHaveLength(0);
  }, 30_000);
});
