/**
 * `disk_low` and `disk_ok` end to end through `onair run` and a local stand-in for
 * Telegram's API, with the real `statfs`: `alerts.diskLowFree: 100%` is above any real free
 * space, so the data directory and the channel's recording directory are low at start; the
 * global config lowered to 1k and a SIGHUP bring `disk_ok` for both.
 */
import { statfsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { until } from "../helpers/pipeline.js";

const BOT_TOKEN = "123456:disk-alerts-bot-token";
const CHANNEL = "disk";

interface DiskLine {
  event: string;
  role: string;
  path: string;
  channel?: string;
  freeBytes: number;
  totalBytes: number;
  thresholdBytes: number;
}

describe.runIf(haveFfmpeg())("onair run: disk_low and disk_ok alerts", () => {
  let dir = "";
  let cap: Capture;
  let tg: FakeTelegram;
  let d: Daemon | undefined;
  const config = (diskLowFree: string): void =>
    writeFileSync(join(dir, "onair.yaml"), `telegram:\n  apiRoot: ${tg.url}\nalerts:\n  diskLowFree: "${diskLowFree}"\n`);
  const lines = (event: string): DiskLine[] =>
    d!
      .log()
      .split("\n")
      .filter((l) => l.includes(`"event":"${event}"`))
      .map((l) => JSON.parse(l) as DiskLine);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-disk-alerts-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    mkdirSync(join(dir, "rec"));
    tg = new FakeTelegram();
    await tg.start();
    config("100%");
    writeFileSync(join(dir, "api.token"), "tests:disk-alerts-api-token-0123456789\n", { mode: 0o600 });
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    cap = await udpCapture();
    const p = testProfileInput({
      id: CHANNEL,
      udpPort: cap.port,
      epg: { enabled: false },
      extraOutputs: [{ kind: "file", path: join(dir, "rec", "%Y%m%d-%H%M%S.ts"), rotateSeconds: 60, keep: 2 }],
    }) as {
      encoding: { video: Record<string, unknown> };
    };
    p.encoding.video = { ...p.encoding.video, width: 320, height: 180 };
    writeFileSync(
      join(dir, "profiles", `${CHANNEL}.json`),
      JSON.stringify({ ...p, alerts: { telegram: { chatIds: [81], botToken: BOT_TOKEN, events: [] } } }),
    );
    d = await startDaemon(dir);
  }, 60_000);

  afterAll(async () => {
    if (d) await stopDaemon(d);
    await tg?.stop();
    await cap?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sends disk_low for the data and recording directories over the threshold, then disk_ok after a lower threshold and SIGHUP", async () => {
    await until(() => tg.sent.filter((s) => s.text.includes("disk space low")).length >= 2, 15_000, "two disk_low alerts");
    const low = tg.sent.filter((s) => s.text.includes("disk space low")).map((s) => s.text);
    expect(low.find((t) => t.includes("data directory"))).toContain(`<code>${join(dir, "data")}</code>`);
    expect(low.find((t) => t.includes("recording directory"))).toContain(
      `recording directory of <b>${CHANNEL}</b> <code>${join(dir, "rec")}</code>`,
    );
    // the real statfs: the free space reported is the filesystem's, as the test reads it too
    const fs = statfsSync(dir);
    const [data] = lines("disk_low").filter((l) => l.role === "data");
    expect(data.totalBytes).toBe(fs.blocks * fs.bsize);
    expect(Math.abs(data.freeBytes - fs.bavail * fs.bsize)).toBeLessThan(512 * 1024 ** 2);
    expect(data.thresholdBytes).toBe(data.totalBytes);

    config("1k");
    d!.child.kill("SIGHUP");
    await until(() => tg.sent.filter((s) => s.text.includes("disk space back")).length >= 2, 15_000, "two disk_ok alerts");
    const ok = tg.sent.filter((s) => s.text.includes("disk space back")).map((s) => s.text);
    expect(ok.some((t) => t.includes(`data directory <code>${join(dir, "data")}</code>`))).toBe(true);
    expect(ok.some((t) => t.includes(`recording directory of <b>${CHANNEL}</b>`))).toBe(true);
    expect(lines("disk_ok").every((l) => l.thresholdBytes === 1024 && l.freeBytes > 1024)).toBe(true);
    expect(tg.sent.every((s) => s.chatId === "81")).toBe(true);
    expect(tg.sent).toHaveLength(4);
  }, 40_000);
});
