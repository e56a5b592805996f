/**
 * `cue_late` and `cue_failed` end to end through `onair run` and a local stand-in for
 * Telegram's API, each with a real trigger:
 * - late: an API cue asked for "now" with a set time (`at`): less than 4 s of lead is left, so
 *   the planner moves it to the first IDR after 4 s, more than one GOP (1 s) later;
 * - failed: a passthrough channel whose H.264 has one IDR only (x264 with an endless GOP), so
 *   the injector never learns a key-frame grid and the break has no IDR in reach.
 * An immediate cue ("now" without `at`) on the first channel sends no `cue_late`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { haveFfmpeg, runTool } from "../helpers/ffmpeg.js";
import { until } from "../helpers/pipeline.js";

const TOKEN = "cue-alerts-api-token-0123456789";
const BOT_TOKEN = "123456:cue-alerts-bot-token";
const LATE = "late";
const NOIDR = "noidr";

describe.runIf(haveFfmpeg())("onair run: cue_late and cue_failed alerts", () => {
  let dir = "";
  const caps: Capture[] = [];
  let tg: FakeTelegram;
  let d: Daemon | undefined;

  const cue = async (channel: string, body: Record<string, unknown>): Promise<number> => {
    const res = await fetch(`${d!.url}/api/v1/channels/${channel}/cues`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { spliceEventId: number }).spliceEventId;
  };
  const profile = (id: string, chatId: number, over: Record<string, unknown>, port: number): string =>
    JSON.stringify({
      ...testProfileInput({ id, udpPort: port, epg: { enabled: false } }),
      ...over,
      alerts: { telegram: { chatIds: [chatId], botToken: BOT_TOKEN, events: ["cue_failed"] } },
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-cue-alerts-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `tests:${TOKEN}\n`, { mode: 0o600 });
    tg = new FakeTelegram();
    await tg.start();
    writeFileSync(join(dir, "onair.yaml"), `telegram:\n  apiRoot: ${tg.url}\n`);
    const media = join(dir, "one-idr.ts");
    await runTool("ffmpeg", [
      "-hide_banner",
      "-nostdin",
      "-loglevel",
      "error",
      "-y",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=320x180:rate=10",
      "-f",
      "lavfi",
      "-i",
      "sine=frequency=1000:sample_rate=48000",
      "-t",
      "40",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-g",
      "100000",
      "-keyint_min",
      "100000",
      "-sc_threshold",
      "0",
      "-c:a",
      "aac",
      "-f",
      "mpegts",
      "-muxrate",
      "1M",
      media,
    ]);
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    for (let i = 0; i < 2; i++) caps.push(await udpCapture());
    const small = testProfileInput({ id: LATE, udpPort: 0 }) as { encoding: { video: Record<string, unknown> } };
    const encoding = { ...small.encoding, video: { ...small.encoding.video, width: 320, height: 180 } };
    writeFileSync(join(dir, "profiles", `${LATE}.json`), profile(LATE, 71, { encoding }, caps[0].port));
    const passthrough = { input: { kind: "file", path: media, loop: false }, encoding: { mode: "passthrough", muxRate: "1200k" } };
    writeFileSync(join(dir, "profiles", `${NOIDR}.json`), profile(NOIDR, 72, passthrough, caps[1].port));
    d = await startDaemon(dir);
    await until(() => caps.every((c) => c.datagrams.length > 100), 30_000, "both channels on UDP");
  }, 60_000);

  afterAll(async () => {
    if (d) await stopDaemon(d);
    await tg?.stop();
    for (const c of caps) await c.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sends cue_late for a set-time cue moved past one GOP, and not for an immediate cue", async () => {
    const now = await cue(LATE, { durationSeconds: 5 });
    const id = await cue(LATE, { durationSeconds: 5, at: new Date().toISOString() });
    await until(() => tg.sent.some((s) => s.text.includes("cue late")), 15_000, "the cue_late alert");
    const late = tg.sent.filter((s) => s.text.includes("cue late"));
    expect(late).toHaveLength(1);
    expect(late[0].chatId).toBe("71");
    expect(late[0].text).toContain(`<b>${LATE}</b>: cue late by `);
    expect(late[0].text).toContain(`splice_event_id <code>${id}</code>`);
    // the alert can reach Telegram before the daemon's log line reaches its stdout pipe
    const breakLates = () =>
      d!
        .log()
        .split("\n")
        .filter((l) => l.includes('"event":"break_late"'))
        .map((l) => JSON.parse(l) as { lateMs: number; spliceEventId: number });
    await until(() => breakLates().some((l) => l.spliceEventId === id), 5_000, "the break_late log line");
    const lates = breakLates();
    expect(lates.some((l) => l.spliceEventId === now)).toBe(false);
    // at least the 4 s minimum lead, less the 1 s an `at` may lie in the past
    expect(lates.find((l) => l.spliceEventId === id)?.lateMs).toBeGreaterThan(3000);
  }, 20_000);

  it("sends cue_failed for a break with no IDR in reach on a passthrough channel", async () => {
    const id = await cue(NOIDR, { durationSeconds: 5, at: new Date().toISOString() });
    await until(() => tg.sent.some((s) => s.chatId === "72"), 15_000, "the cue_failed alert");
    const failed = tg.sent.filter((s) => s.chatId === "72");
    expect(failed).toHaveLength(1);
    expect(failed[0].text).toContain(`<b>${NOIDR}</b>: cue failed`);
    expect(failed[0].text).toContain(`splice_event_id <code>${id}</code>`);
    expect(failed[0].text).toContain("no IDR in reach");
  }, 20_000);
});
