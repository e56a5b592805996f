/**
 * The profile alert events beyond crashes, end to end through `onair run` and a local
 * stand-in for Telegram's API: `output_error` (a recording directory that is a file) and
 * `epg_empty` (EPG on, nothing in the store), each once, naming the channel; an event the
 * profile does not enable (`slate_on`) sends nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { until } from "../helpers/pipeline.js";

const BOT_TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const CHANNEL = "ev";

describe.runIf(haveFfmpeg())("onair run: output_error and epg_empty alerts", () => {
  let dir = "";
  let cap: Capture;
  let tg: FakeTelegram;
  let d: Daemon | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-alert-events-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    tg = new FakeTelegram();
    await tg.start();
    writeFileSync(join(dir, "onair.yaml"), `telegram:\n  apiRoot: ${tg.url}\n`);
    cap = await udpCapture();
    const blocker = join(dir, "not-a-dir");
    writeFileSync(blocker, "x");
    const profile = {
      ...testProfileInput({
        id: CHANNEL,
        udpPort: cap.port,
        extraOutputs: [{ kind: "file", path: join(blocker, "rec-%H%M%S.ts"), rotateSeconds: 60, keep: 2 }],
      }),
      alerts: { telegram: { chatIds: [77], botToken: BOT_TOKEN, events: ["output_error", "epg_empty"] } },
    };
    writeFileSync(join(dir, "profiles", `${CHANNEL}.json`), JSON.stringify(profile));
    writeFileSync(join(dir, "api.token"), "tests:alert-events-api-token-0123456789\n", { mode: 0o600 });
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    d = await startDaemon(dir);
    await until(() => cap.datagrams.length > 200, 30_000, "the channel on UDP");
  }, 60_000);

  afterAll(async () => {
    if (d) await stopDaemon(d);
    await tg?.stop();
    await cap?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends one output_error naming the failing recording and one epg_empty, nothing else", async () => {
    await until(() => tg.sent.length >= 2, 15_000, "two alerts");
    // the recording keeps failing (retried on its own): still one alert for the episode
    await new Promise((r) => setTimeout(r, 3000));
    const texts = tg.sent.map((s) => s.text);
    expect(texts).toHaveLength(2);
    const out = texts.find((t) => t.includes("failing"));
    expect(out).toContain(`<b>${CHANNEL}</b>: output <code>file:${join(dir, "not-a-dir", "rec-%H%M%S.ts")}</code> failing`);
    expect(texts.find((t) => t.includes("EPG empty"))).toContain(`<b>${CHANNEL}</b>: EPG empty, no programme now or in the next 2 day(s)`);
    expect(tg.sent.every((s) => String(s.chatId) === "77")).toBe(true);
  }, 30_000);
});
