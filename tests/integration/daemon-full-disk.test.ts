/**
 * A full disk under the daemon (issue 9 acceptance): the data directory is a tiny tmpfs
 * (as root; where it cannot be mounted, a preload makes every store write fail with
 * SQLITE_FULL while a control file exists: tests/helpers/store-fault.mjs), filled with a filler file until ENOSPC while
 * the channel airs items and breaks every few seconds. Playout goes on (no UDP gap over
 * 1 s), the failures are counted (`onair_store_errors_total`) and alerted to a local
 * stand-in for Telegram although the alert outbox is in the same full store; once space is
 * freed the held-back as-run rows are written and the recovery is alerted.
 */
import Database from "better-sqlite3";
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/db.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { storeFaultEnv } from "../helpers/store-fault.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { alive, until } from "../helpers/pipeline.js";

const CHANNEL = "full";
const BOT_TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const FAILED = /store writes failing/;
const RECOVERED = /store writes work again/;

/** Fills the filesystem of `path` until ENOSPC; returns the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, "w");
  let written = 0;
  try {
    for (const size of [1 << 20, 4096, 512]) {
      const buf = Buffer.alloc(size, 0x55);
      for (;;) {
        try {
          written += writeSync(fd, buf);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "ENOSPC") break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe.runIf(haveFfmpeg())("onair run on a full disk", () => {
  let dir = "";
  let dataDir = "";
  let mounted = false;
  let cap: Capture;
  let tg: FakeTelegram;
  let d: Daemon | undefined;
  const fullFile = (): string => join(dir, "store-full");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-fulldisk-"));
    dataDir = join(dir, "data");
    mkdirSync(dataDir);
    if (process.getuid?.() === 0) {
      // 24 MiB: the store, the slate clip cache and a little room
      mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", dataDir], { stdio: "ignore" }).status === 0;
    }
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), "tests:fulldisk-test-api-token-0123456789\n", { mode: 0o600 });
    tg = new FakeTelegram();
    await tg.start();
    // failed store writes retried every 500 ms (default 2 s)
    writeFileSync(join(dir, "onair.yaml"), `log:\n  level: info\nstore:\n  writeRetryMs: 500\ntelegram:\n  apiRoot: ${tg.url}\n`);
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    cap = await udpCapture();
    writeFileSync(
      join(dir, "profiles", `${CHANNEL}.json`),
      JSON.stringify({
        ...testProfileInput({ id: CHANNEL, udpPort: cap.port, epg: { enabled: false } }),
        alerts: { telegram: { chatIds: [123], botToken: BOT_TOKEN } },
      }),
    );
    // 8 s items from now on, each with a 2 s break 4 s in (the first breaks from +14 s)
    const t0 = Date.now();
    const items = [];
    const breaks = [];
    for (let k = 0; k < 40; k++) {
      const startMs = t0 - 4000 + k * 8000;
      items.push({ startMs, durationMs: 8000, title: `Item ${k}` });
      if (startMs + 4000 > t0 + 14_000) breaks.push({ startMs: startMs + 4000, durationMs: 2000, breakId: `b${k}` });
    }
    const store = openStore(join(dataDir, "onair.db"));
    store.replaceItems(CHANNEL, t0 - 60_000, t0 + 600_000, items, breaks);
    store.close();
  }, 30_000);

  afterAll(async () => {
    await stopDaemon(d);
    await tg?.stop();
    await cap?.close();
    if (mounted) spawnSync("umount", [dataDir], { stdio: "ignore" });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const asRun = (): Array<{ kind: string; event_id: number; scheduled_ms: number }> => {
    const db = new Database(join(dataDir, "onair.db"), { readonly: true, fileMustExist: true });
    try {
      return db.prepare("SELECT kind, event_id, scheduled_ms FROM asrun WHERE channel = ? ORDER BY id").all(CHANNEL) as Array<{
        kind: string;
        event_id: number;
        scheduled_ms: number;
      }>;
    } finally {
      db.close();
    }
  };
  const storeErrors = async (): Promise<number> => {
    const text = await (await fetch(`${d!.url}/metrics`)).text();
    const m = /^onair_store_errors_total (\d+)/m.exec(text);
    return m ? Number(m[1]) : Number.NaN;
  };
  /** splice_event_ids of the first sends logged after `from` (an offset into the log). */
  const cuesLoggedSince = (from: number): number[] =>
    d!
      .log()
      .slice(from)
      .split("\n")
      .filter((l) => l.includes('"event":"cue_sent"') && l.includes('"send":1'))
      .map((l) => (JSON.parse(l) as { spliceEventId: number }).spliceEventId);

  it("keeps playing, counts and alerts the failed writes, and writes the held-back as-run rows once space is freed", async () => {
    d = await startDaemon(dir, [], mounted ? {} : storeFaultEnv(fullFile(), "SQLITE_FULL"));
    await until(() => cap.datagrams.length > 100, 30_000, "the channel on UDP");
    await until(() => asRun().some((r) => r.kind === "cue"), 40_000, "a first cue written while the disk has room");
    expect(await storeErrors()).toBe(0);

    // the disk fills up
    const filler = join(dataDir, "filler");
    const fullAt = performance.now();
    const logFrom = d.log().length;
    let filled = 0;
    if (mounted) filled = fill(filler);
    else writeFileSync(fullFile(), ""); // every store write fails with SQLITE_FULL
    await until(() => tg.count(FAILED) >= 1, 30_000, "the store_write_failed alert");
    const errorsDuring = await storeErrors();
    expect(errorsDuring).toBeGreaterThan(0);
    // at least two breaks cued on air while nothing could be written
    await until(() => cuesLoggedSince(logFrom).length >= 2, 30_000, "two cues during the outage");
    const cuesDuring = cuesLoggedSince(logFrom);
    const rowsDuring = asRun();
    for (const id of cuesDuring) expect(rowsDuring.some((r) => r.kind === "cue" && r.event_id === id)).toBe(false);
    expect(d.log()).toContain("SQLITE_FULL");

    // space again: the held-back rows go in, in order, and the recovery is alerted
    const freedAt = performance.now();
    if (mounted) unlinkSync(filler);
    else unlinkSync(fullFile());
    await until(
      () => cuesDuring.every((id) => asRun().some((r) => r.kind === "cue" && r.event_id === id)),
      20_000,
      "the held-back cue rows",
    );
    await until(() => tg.count(RECOVERED) >= 1, 20_000, "the store_recovered alert");
    const recoveredAfterMs = performance.now() - freedAt;
    const gap = cap.maxGap(fullAt);
    expect(gap).toBeLessThan(1000);
    expect(tg.count(FAILED)).toBe(1); // once per outage
    expect(tg.sent.find((s) => FAILED.test(s.text))?.chatId).toBe("123");
    expect(await storeErrors()).toBeGreaterThanOrEqual(errorsDuring);
    const items = asRun().filter((r) => r.kind === "item");
    // item rows stay in airing order although some were written late
    expect(items.map((r) => r.scheduled_ms)).toEqual([...items.map((r) => r.scheduled_ms)].sort((a, b) => a - b));
    console.log(
      `full disk (${mounted ? `tmpfs, ${filled} filler bytes` : "SQLITE_FULL preload"}): ${errorsDuring} store errors counted, ${cuesDuring.length} cues aired during the outage, ` +
        `largest UDP gap ${gap.toFixed(0)} ms, rows written ${recoveredAfterMs.toFixed(0)} ms after space was freed`,
    );

    const pids = d.ffmpegPids();
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
    await until(() => pids.every((p) => !alive(p)), 10_000, "FFmpeg children to end");
  }, 150_000);
});
