/**
 * The Alerter when the store cannot be written (full disk): the alert is not lost, it goes
 * to Telegram from memory; once the store takes writes again, held alerts and new ones use
 * the outbox again. A message held in memory takes the one delivery path an outbox row
 * takes: the same answers are handled the same way.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Alerter } from "../../src/alerts/index.js";
import { openStore, type Store } from "../../src/store/db.js";
import { outboxDepth } from "../../src/store/outbox.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { until } from "../helpers/pipeline.js";

const TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
let dir: string;
let store: Store;
let tg: FakeTelegram;
let a: Alerter | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "onair-alert-fallback-"));
  store = openStore(join(dir, "onair.db"));
  tg = new FakeTelegram();
  await tg.start();
});
afterEach(async () => {
  await a?.close();
  a = undefined;
  store.close();
  await tg.stop();
  rmSync(dir, { recursive: true, force: true });
});

const newAlerter = (): Alerter =>
  new Alerter({
    store,
    apiRoot: tg.url,
    channels: { news: { botToken: TOKEN, chatIds: [11, 22], events: ["channel_down", "channel_recovered"] } },
    rateLimit: { minIntervalMs: 0, perMinute: 1000 },
    backoff: { minMs: 20, maxMs: 100 },
  });

const rows = (): number => store.raw.prepare("SELECT count(*) FROM alert_outbox").pluck().get() as number;

describe("Alerter without a writable store", () => {
  it("sends the alert from memory to every chat, and uses the outbox again once the store works", async () => {
    a = newAlerter();
    a.start();
    store.raw.pragma("query_only = ON"); // every write fails, like a full disk
    const r = a.notify({
      kind: "store_write_failed",
      path: store.path,
      code: "ONAIR_STORE_FAILED",
      sqliteCode: "SQLITE_FULL",
      message: "database or disk is full",
      what: "as-run item",
    });
    expect(r).toMatchObject({ enqueued: 2 });
    await until(() => tg.sent.length >= 2, 5000, "both chats");
    expect(tg.sent.map((s) => s.chatId).sort()).toEqual(["11", "22"]);
    expect(tg.sent[0].text).toContain("SQLITE_FULL");
    expect(rows()).toBe(0);
    // counted sent once Telegram's answer is back, a moment after the fake server saw the request
    await until(() => a!.stats().sent === 2, 5000, "both counted sent");

    // Telegram down as well: the held alert waits in memory and goes when it is back
    tg.answer = () => ({ status: 503 });
    a.notify({ kind: "channel_crashed", channel: "news", stderrTail: ["boom"], restartNumber: 1, nextRetryInMs: 100 });
    await until(() => tg.requests.filter((q) => q.status === 503).length >= 2, 5000, "failed attempts");
    expect(a.stats().outboxDepth).toBe(2);
    tg.answer = () => ({ status: 200 });
    await until(() => tg.count(/crashed/) === 2, 5000, "the crash alert from memory");

    // the store heals: the next alert is in the outbox first, then sent
    store.raw.pragma("query_only = OFF");
    a.notify({ kind: "store_recovered", path: store.path, outageMs: 5000, written: 3, dropped: 0 });
    await until(() => tg.count(/work again/) === 2, 5000, "the recovery alert");
    expect(rows()).toBe(2);
    // marked sent once Telegram's answer is in (a moment after the fake server saw the request)
    await until(() => outboxDepth(store) === 0, 5000, "the outbox rows marked sent");
  }, 20_000);

  it("moves alerts held in memory into the outbox when the store takes writes again", async () => {
    tg.answer = () => ({ status: 503 });
    a = newAlerter();
    a.start();
    store.raw.pragma("query_only = ON");
    a.notify({ kind: "channel_crashed", channel: "news", stderrTail: [], restartNumber: 1, nextRetryInMs: 100 });
    await until(() => tg.requests.length >= 2, 5000, "attempts from memory");
    store.raw.pragma("query_only = OFF");
    await until(() => rows() === 2, 5000, "the held alert in the outbox");
    tg.answer = () => ({ status: 200 });
    await until(() => outboxDepth(store) === 0, 10_000, "the outbox drained");
    expect(tg.count(/crashed/)).toBe(2);
  }, 20_000);

  it("handles Telegram's answers to a message held in memory as to an outbox row", async () => {
    a = newAlerter();
    const dropped: unknown[] = [];
    a.on("dropped", (d) => dropped.push(d));
    a.start();
    store.raw.pragma("query_only = ON");
    // HTML refused: sent again at once as plain text
    tg.answer = (r) =>
      r.parseMode === "HTML" ? { status: 400, description: "Bad Request: can't parse entities: unsupported start tag" } : { status: 200 };
    a.notify({ kind: "channel_crashed", channel: "news", stderrTail: ["boom"], restartNumber: 1, nextRetryInMs: 100 });
    await until(() => tg.sent.length >= 2, 5000, "the plain-text crash alerts");
    expect(tg.sent.every((s) => !s.text.includes("<b>"))).toBe(true);
    expect(a.stats().failed.html_parse).toBe(2);

    // refused for good (bot blocked): given up, counted and reported, not retried
    tg.answer = () => ({ status: 403, description: "Forbidden: bot was blocked by the user" });
    a.notify({ kind: "recovered", channel: "news", outageMs: 1000 });
    await until(() => dropped.length >= 2, 5000, "both recovery alerts given up");
    expect(a.stats()).toMatchObject({ dropped: { forbidden: 2 }, outboxDepth: 0, sent: 2 });
    expect(tg.requests.filter((q) => q.status === 403)).toHaveLength(2);
    expect(rows()).toBe(0);
  }, 20_000);
});
