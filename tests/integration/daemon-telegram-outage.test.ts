/**
 * Telegram down across a daemon restart: while the local stand-in for Telegram's API answers
 * 500 and 429 (retry_after), a real `onair run` queues a crash and a recovery alert, is
 * stopped with SIGTERM and started again on the same data directory, queues two more; when
 * Telegram answers again every alert arrives once, in the order it was raised.
 * (tests/integration/alerts-telegram.test.ts runs the same for two simulated minutes on the
 * Alerter itself; this one is the real process, real time, shorter.)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
const CHANNEL = "outage";
const CRASH = /killed by signal|exit code|exited \(no exit code\)/;
const RECOVERED = /recovered after/;

describe.runIf(haveFfmpeg())("onair run: alerts survive a Telegram outage and a daemon restart", () => {
  let dir = "";
  let cap: Capture;
  let tg: FakeTelegram;
  let d: Daemon | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-tg-outage-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), "tests:outage-test-api-token-0123456789\n", { mode: 0o600 });
    tg = new FakeTelegram();
    await tg.start();
    writeFileSync(join(dir, "onair.yaml"), `log:\n  level: info\ntelegram:\n  apiRoot: ${tg.url}\n`);
    cap = await udpCapture();
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    const profile = {
      ...testProfileInput({
        id: CHANNEL,
        udpPort: cap.port,
        epg: { enabled: false },
        restart: { backoffMinSeconds: 0.1, backoffMaxSeconds: 1, stallTimeoutSeconds: 3, stableAfterSeconds: 2 },
      }),
      alerts: { telegram: { chatIds: [123], botToken: BOT_TOKEN } },
    };
    writeFileSync(join(dir, "profiles", `${CHANNEL}.json`), JSON.stringify(profile));
  }, 30_000);

  afterAll(async () => {
    await stopDaemon(d);
    await tg?.stop();
    await cap?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const queued = (log: string, kind: string): number =>
    (log.match(new RegExp(`"event":"alert_queued","kind":"${kind}"`, "g")) ?? []).length;

  /** Kills the channel's live FFmpeg and waits until the crash and then the recovery are queued. */
  async function crashAndRecover(daemon: Daemon): Promise<void> {
    await until(() => livePids(daemon.log(), CHANNEL).some((p) => alive(p)), 20_000, "a live FFmpeg");
    const pids = livePids(daemon.log(), CHANNEL);
    process.kill(pids[pids.length - 1], "SIGKILL");
    await until(() => queued(daemon.log(), "channel_crashed") >= 1, 20_000, "the crash alert queued");
    await until(() => queued(daemon.log(), "recovered") >= 1, 30_000, "the recovery alert queued");
  }

  it("delivers every alert once, in order, after 500s and 429s and a SIGTERM restart in between", async () => {
    // down: 500 and 429 (retry after 2 s) in turn
    let failing = true;
    let n = 0;
    tg.answer = () => (!failing ? { status: 200 } : n++ % 2 === 0 ? { status: 500 } : { status: 429, retryAfterSeconds: 2 });

    d = await startDaemon(dir);
    await until(() => cap.datagrams.length > 100, 30_000, "the channel on UDP");
    await crashAndRecover(d);
    await until(
      () => tg.requests.some((r) => r.status === 500) && tg.requests.some((r) => r.status === 429),
      30_000,
      "500 and 429 answers",
    );
    const first = d;
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);
    expect(tg.sent).toHaveLength(0);

    d = await startDaemon(dir);
    await crashAndRecover(d);
    const failedRequests = tg.requests.length;
    await until(() => tg.requests.length >= failedRequests + 2, 30_000, "the restarted daemon retrying");
    expect(tg.sent).toHaveLength(0);

    failing = false;
    await until(() => tg.sent.length >= 4, 60_000, "the outbox to drain");
    // a duplicate would come on a later retry: give it time to show
    await new Promise((r) => setTimeout(r, 3000));
    const kinds = tg.sent.map((s) => (CRASH.test(s.text) ? "crash" : RECOVERED.test(s.text) ? "recovered" : `other: ${s.text}`));
    expect(kinds).toEqual(["crash", "recovered", "crash", "recovered"]);
    expect(tg.sent.every((s) => s.chatId === "123" && s.text.includes(CHANNEL))).toBe(true);
    // once each: four accepted sends in all (two alerts of one kind may read the same: "recovered after 2.4 s" twice)
    expect(tg.requests.filter((r) => r.status === 200)).toHaveLength(4);
  }, 180_000);
});
