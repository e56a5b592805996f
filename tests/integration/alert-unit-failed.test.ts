/**
 * `onair alert unit-failed`: the one-shot systemd's OnFailure= runs when an onair unit hit
 * its start limit. No daemon runs: the command reads the global config (telegram.botToken,
 * telegram.chatIds, apiRoot at the local stand-in for Telegram) and sends the message
 * itself; with Telegram down it gives up after --retry-for and leaves the message in the
 * store's outbox, which the next `onair run` delivers.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/db.js";
import { listOutbox } from "../../src/store/outbox.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { until } from "../helpers/pipeline.js";

const BOT_TOKEN = "654321:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const UNIT_FAILED = /onair unit .*onair\.service.* failed on .*; systemd gave up restarting it/;

describe("onair alert unit-failed (no daemon running)", () => {
  let dir = "";
  let tg: FakeTelegram;
  let d: Daemon | undefined;
  const config = (): string => join(dir, "onair.yaml");
  const args = (...more: string[]): string[] => [
    "alert",
    "unit-failed",
    "--unit",
    "onair.service",
    "--config",
    config(),
    "--data-dir",
    join(dir, "data"),
    ...more,
  ];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-unit-failed-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "bot.token"), `${BOT_TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "api.token"), "tests:unit-failed-api-token-0123456789\n", { mode: 0o600 });
    tg = new FakeTelegram();
    await tg.start();
    writeFileSync(config(), `telegram:\n  apiRoot: ${tg.url}\n  botToken: file:${join(dir, "bot.token")}\n  chatIds: [111, "-100222"]\n`);
  });

  afterAll(async () => {
    await stopDaemon(d);
    await tg?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("sends the message to every telegram.chatIds chat with the unit and the host", async () => {
    tg.answer = () => ({ status: 200 });
    const r = await runCli(args());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("unit_failed for onair.service sent to 2 chat(s)");
    expect(tg.sent.map((s) => s.chatId).sort()).toEqual(["-100222", "111"]);
    for (const s of tg.sent) {
      expect(s.text).toMatch(UNIT_FAILED);
      expect(s.text).toContain(hostname());
    }
    expect(tg.tokens).toEqual(new Set([BOT_TOKEN]));
  });

  it("with Telegram answering 503, gives up within --retry-for, leaves it in the outbox, and the next daemon sends it", async () => {
    tg.sent.length = 0;
    tg.answer = () => ({ status: 503 });
    const t0 = Date.now();
    const r = await runCli(args("--retry-for", "2s"));
    const tookMs = Date.now() - t0;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^onair: ONAIR_ALERT_QUEUED: 2 chat\(s\) not reached \(503 [^)]*\); left in the outbox /);
    expect(r.stderr).not.toContain(BOT_TOKEN);
    // the 2 s budget plus the process start (node, config, store)
    expect(tookMs).toBeLessThan(6000);
    expect(tg.requests.filter((q) => q.status === 503).length).toBeGreaterThanOrEqual(2);
    const store = openStore(join(dir, "data", "onair.db"));
    try {
      const rows = listOutbox(store, { pending: true });
      expect(rows.map((x) => [x.kind, x.botId, x.chatId])).toEqual([
        ["unit_failed", "654321", "111"],
        ["unit_failed", "654321", "-100222"],
      ]);
      expect(rows[0].payload).toMatch(UNIT_FAILED);
    } finally {
      store.close();
    }

    // Telegram back; a daemon with no channel at all sends the rows with the global bot token
    tg.answer = () => ({ status: 200 });
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    d = await startDaemon(dir);
    await until(() => tg.sent.length >= 2, 15_000, "the outbox rows delivered by the daemon");
    expect(tg.sent.map((s) => s.chatId).sort()).toEqual(["-100222", "111"]);
    for (const s of tg.sent) expect(s.text).toMatch(UNIT_FAILED);
  }, 30_000);
});
