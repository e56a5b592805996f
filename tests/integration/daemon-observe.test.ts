/**
 * Observability of `onair run` as a real process: its /metrics passes `promtool check
 * metrics`; a local HTTP server standing in for Telegram's API root receives the crash,
 * flapping and recovery alerts when the channel's FFmpeg is killed; the log file of
 * `--log-dir` holds JSON lines with channel and event and no secret, flushed at shutdown.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { livePids, startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { alive, until } from "../helpers/pipeline.js";

const BOT_TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const API_TOKEN = "observe-test-api-token-0123456789";
const CHANNEL = "obs";

const CRASH = /killed by signal|exit code|exited \(no exit code\)/;
const FLAPPING = /is flapping/;
const RECOVERED = /recovered after/;

function logFileText(dir: string): string {
  return readdirSync(dir)
    .filter((f) => /^onair\.\d+\.log$/.test(f))
    .map((f) => readFileSync(join(dir, f), "utf8"))
    .join("");
}

describe.runIf(haveFfmpeg())("onair run: metrics, alerts and logs", () => {
  let dir = "";
  let cap: Capture;
  let tg: FakeTelegram;
  let d: Daemon;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-observe-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `tests:${API_TOKEN}\n`, { mode: 0o600 });
    tg = new FakeTelegram();
    await tg.start();
    writeFileSync(join(dir, "onair.yaml"), `log:\n  level: info\ntelegram:\n  apiRoot: ${tg.url}\n`);
    cap = await udpCapture();
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    const profile = {
      // recovered = back and stable for 3 s (the default is 60 s)
      ...testProfileInput({
        id: CHANNEL,
        udpPort: cap.port,
        epg: { enabled: false },
        restart: { backoffMinSeconds: 0.1, backoffMaxSeconds: 1, stallTimeoutSeconds: 3, stableAfterSeconds: 3 },
      }),
      alerts: { telegram: { chatIds: [123], botToken: BOT_TOKEN } },
    };
    writeFileSync(join(dir, "profiles", `${CHANNEL}.json`), JSON.stringify(profile));
    d = await startDaemon(dir, ["--log-dir", join(dir, "logs")]);
    await until(() => cap.datagrams.length > 200, 30_000, "the channel on UDP");
  }, 60_000);

  afterAll(async () => {
    await stopDaemon(d);
    await tg?.stop();
    await cap?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The current live FFmpeg pid once it has been logged after `after` (a pid already seen). */
  async function nextLivePid(after: number | undefined): Promise<number> {
    await until(
      () => {
        const p = livePids(d.log(), CHANNEL);
        return p.length > 0 && p[p.length - 1] !== after && alive(p[p.length - 1]);
      },
      20_000,
      "a new live FFmpeg",
    );
    const p = livePids(d.log(), CHANNEL);
    return p[p.length - 1];
  }

  it("serves /metrics that promtool check metrics accepts", async () => {
    const text = await (await fetch(`${d.url}/metrics`)).text();
    expect(text).toContain(`onair_channel_up{channel="${CHANNEL}"}`);
    const r = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const p = spawn("promtool", ["check", "metrics"], { stdio: ["pipe", "pipe", "pipe"] });
      let output = "";
      p.stdout.on("data", (c: Buffer) => (output += c.toString()));
      p.stderr.on("data", (c: Buffer) => (output += c.toString()));
      p.on("error", reject);
      p.on("close", (code) => resolve({ code, output }));
      p.stdin.end(text);
    });
    expect(r.output).toBe("");
    expect(r.code).toBe(0);
    // operator metrics of the wired daemon: its store timed, sized and its queue exported
    const lines = text.split("\n");
    expect(Number(/^onair_store_query_duration_seconds_count\{op="statement"\} (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(Number(/^onair_store_size_bytes\{path="[^"]*onair\.db"\} (\d+)/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(lines).toContain("onair_store_write_queue_depth 0");
    const again = await (await fetch(`${d.url}/metrics`)).text();
    expect(again).toMatch(/^onair_http_request_duration_seconds_count\{method="GET",route="\/metrics",status="200"\} [1-9]/m);
  });

  it("sends one crash message naming the channel and the signal when FFmpeg is killed, and one when it recovers", async () => {
    const pid = await nextLivePid(undefined);
    process.kill(pid, "SIGKILL");
    await until(() => tg.count(CRASH) >= 1, 20_000, "the crash alert");
    await until(() => tg.count(RECOVERED) >= 1, 30_000, "the recovery alert");
    await nextLivePid(pid);
    const crash = tg.sent.find((s) => CRASH.test(s.text));
    expect(crash?.chatId).toBe("123");
    expect(crash?.text).toContain(CHANNEL);
    expect(crash?.text).toContain("SIGKILL");
    expect(tg.count(CRASH)).toBe(1);
    expect(tg.count(RECOVERED)).toBe(1);
    expect(tg.count(FLAPPING)).toBe(0);
    expect([...tg.tokens]).toEqual([BOT_TOKEN]);
  }, 60_000);

  it("sends one flapping alert, not a crash message per kill, for 10 kills in a minute, then one recovery", async () => {
    const before = { crash: tg.count(CRASH), recovered: tg.count(RECOVERED) };
    const t0 = Date.now();
    let pid = await nextLivePid(undefined);
    const backOnAir = (): number => (d.log().match(/"event":"slate_off"/g) ?? []).length;
    for (let k = 0; k < 10; k++) {
      const back = backOnAir();
      process.kill(pid, "SIGKILL");
      pid = await nextLivePid(pid);
      // the realistic case: the channel is back on air (briefly) before the next crash
      await until(() => backOnAir() > back, 10_000, `live output back after kill ${k + 1}`).catch((e: unknown) => {
        // say what the daemon did meanwhile
        const events = d
          .log()
          .split("\n")
          .slice(-40)
          .map((l) => /"event":"([^"]+)"/.exec(l)?.[1])
          .filter(Boolean);
        throw new Error(`${String(e)}; last events: ${events.join(" ")}`);
      });
    }
    expect(Date.now() - t0).toBeLessThan(60_000);
    await until(() => tg.count(FLAPPING) >= 1, 20_000, "the flapping alert");
    await until(() => tg.count(RECOVERED) > before.recovered, 30_000, "the recovery alert");
    // let the outbox drain: every queued alert is sent (the log says what was queued)
    const queued = (): number => (d.log().match(/"event":"alert_queued"/g) ?? []).length;
    await until(() => tg.sent.length >= queued(), 20_000, "the outbox to drain");
    expect(tg.count(FLAPPING)).toBe(1);
    expect(tg.count(CRASH) - before.crash).toBeLessThanOrEqual(1);
    expect(tg.count(RECOVERED) - before.recovered).toBe(1);
    expect(tg.sent.find((s) => FLAPPING.test(s.text))?.text).toContain(CHANNEL);
  }, 90_000);

  it("takes a cue through `onair cue` and shows the channel with `onair status`", async () => {
    const status = await runCli(["status", "--url", d.url]);
    expect(status.stderr).toBe("");
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${CHANNEL}\\s+\\S+\\s+(yes|no)\\s+(live|slate)`, "m"));
    const cue = await runCli([
      "cue",
      "--url",
      d.url,
      "--channel",
      CHANNEL,
      "--duration",
      "10",
      "--api-token-file",
      join(dir, "api.token"),
      "--json",
    ]);
    expect(cue.stderr).toBe("");
    expect(cue.code).toBe(0);
    expect(JSON.parse(cue.stdout)).toMatchObject({ channel: CHANNEL, spliceEventId: expect.any(Number) as number });
  }, 30_000);

  it("writes JSON lines with channel and event to the log file, without the bot or API token, flushed at shutdown", async () => {
    const pids = d.ffmpegPids();
    d.child.kill("SIGTERM");
    expect((await d.exited).code).toBe(0);
    await until(() => pids.every((p) => !alive(p)), 10_000, "FFmpeg children to end");
    const text = logFileText(join(dir, "logs"));
    const lines = text.trimEnd().split("\n");
    expect(lines.length).toBeGreaterThan(10);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.some((l) => l.channel === CHANNEL && l.event === "ffmpeg.started")).toBe(true);
    expect(parsed.some((l) => l.channel === CHANNEL && l.event === "cue_requested")).toBe(true);
    expect(parsed.filter((l) => typeof l.event === "string").length).toBeGreaterThan(lines.length / 2);
    // the last line of the shutdown made it to the file
    expect(parsed[parsed.length - 1]).toMatchObject({ event: "stopped" });
    for (const secret of [BOT_TOKEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345", API_TOKEN]) {
      expect(text).not.toContain(secret);
      expect(d.log()).not.toContain(secret);
    }
    // stdout (journald) carries the same lines
    expect(d.log()).toContain('"event":"stopped"');
  }, 30_000);
});
