/**
 * The Alerter against a local HTTP server standing in for the Telegram API root, with a
 * real SQLite store in a temp dir and simulated time (a manual clock and the helpers'
 * ManualTimers: the test fires the Alerter's next timer instead of waiting). The server can
 * be switched to answer 500, 429 with retry_after, or 200, and records every request with
 * its simulated time.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { Alerter, routeFromProfile, type AlerterOptions } from "../../src/alerts/alerter.js";
import type { ChannelProfile } from "../../src/config/profile-schema.js";
import type { Alert } from "../../src/alerts/messages.js";
import { TelegramClient, TelegramRequestError } from "../../src/alerts/telegram.js";
import { ManualClock } from "../../src/core/clock.js";
import { createLogger } from "../../src/observe/logger.js";
import { openStore, type Store } from "../../src/store/db.js";
import { getAlertState, listOutbox } from "../../src/store/outbox.js";
import { ManualTimers } from "../helpers/manual-timers.js";

const TOKEN = "123456789:AAH7dGhpc0lzQVRlc3RUb2tlbk5vdFJlYWwxMjM";
const BOT_ID = "123456789";
const T0 = 1_750_000_000_000;

// ── simulated time ───────────────────────────────────────────────────────────

/** Fails after `ms` of real time: a guard around waiting on events, never a wait in itself. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let h: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(h)),
    new Promise<T>((_, reject) => {
      h = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

/** Lets simulated time run (timer by timer) until `cond` holds. */
async function runUntil(timers: ManualTimers, cond: () => boolean, what: string, maxSteps = 500): Promise<void> {
  for (let i = 0; i < maxSteps; i++) {
    if (cond()) return;
    await within(timers.whenPending(), 5000, what);
    if (cond()) return;
    timers.fireNext();
  }
  throw new Error(`gave up: ${what}`);
}

// ── the fake Telegram ────────────────────────────────────────────────────────

interface Req {
  method: string;
  chatId?: string;
  text?: string;
  parseMode?: string;
  offset?: string;
  status: number;
  atMs: number;
}

type Answer = { status: 200 } | { status: 500 } | { status: 429; retryAfter: number } | { status: 400 | 403; description: string };

class FakeTelegram {
  readonly requests: Req[] = [];
  readonly tokens = new Set<string>();
  answer: (r: { method: string; chatId?: string; text?: string; atMs: number }) => Answer = () => ({ status: 200 });
  private updates: unknown[] = [];
  private pollWaiters: (() => void)[] = [];
  private requestWaiters: (() => void)[] = [];
  private server!: http.Server;
  url = "";

  constructor(private readonly clock: ManualClock) {}

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.pollWaiters.splice(0)) w();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Messages Telegram accepted (200), in arrival order. */
  delivered(chatId?: string): Req[] {
    return this.requests.filter((r) => r.method === "sendMessage" && r.status === 200 && (chatId === undefined || r.chatId === chatId));
  }

  pushUpdate(u: unknown): void {
    this.updates.push(u);
    for (const w of this.pollWaiters.splice(0)) w();
  }

  /** Resolves when a request matching `pred` has arrived. */
  async waitFor(pred: (r: Req) => boolean, what: string): Promise<Req> {
    for (;;) {
      const r = this.requests.find(pred);
      if (r) return r;
      await within(new Promise<void>((resolve) => this.requestWaiters.push(resolve)), 5000, what);
    }
  }

  private record(r: Req): void {
    this.requests.push(r);
    for (const w of this.requestWaiters.splice(0)) w();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body = "";
    for await (const chunk of req) body += String(chunk);
    const params = new URLSearchParams(body);
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? "");
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    this.tokens.add(m[1]);
    const method = m[2];
    const reply = (status: number, json: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    };
    if (method === "getUpdates") {
      const offset = Number(params.get("offset") ?? 0);
      const pick = (): unknown[] => this.updates.filter((u) => (u as { update_id: number }).update_id >= offset);
      this.record({ method, offset: params.get("offset") ?? undefined, status: 200, atMs: this.clock.now() });
      let found = pick();
      if (found.length === 0) {
        // long poll: hold the request until an update arrives or the client goes away
        await new Promise<void>((resolve) => {
          this.pollWaiters.push(resolve);
          res.on("close", resolve);
        });
        if (res.destroyed || res.writableEnded) return;
        found = pick();
      }
      reply(200, { ok: true, result: found });
      return;
    }
    const chatId = params.get("chat_id") ?? undefined;
    const at = this.clock.now();
    const a = this.answer({ method, chatId, text: params.get("text") ?? undefined, atMs: at });
    this.record({
      method,
      chatId,
      text: params.get("text") ?? undefined,
      parseMode: params.get("parse_mode") ?? undefined,
      status: a.status,
      atMs: at,
    });
    if (a.status === 200) {
      reply(200, {
        ok: true,
        result: { message_id: this.requests.length, date: Math.floor(at / 1000), chat: { id: Number(chatId), type: "group" } },
      });
    } else if (a.status === 400 || a.status === 403) {
      reply(a.status, { ok: false, error_code: a.status, description: a.description });
    } else if (a.status === 429) {
      reply(429, {
        ok: false,
        error_code: 429,
        description: `Too Many Requests: retry after ${a.retryAfter}`,
        parameters: { retry_after: a.retryAfter },
      });
    } else {
      reply(500, { ok: false, error_code: 500, description: "Internal Server Error" });
    }
  }
}

// ── harness ──────────────────────────────────────────────────────────────────

let dir: string;
let clock: ManualClock;
let tg: FakeTelegram;
let store: Store;
let logLines: string[];
const alerters: Alerter[] = [];

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-alerts-"));
  clock = new ManualClock(T0, 0);
  tg = new FakeTelegram(clock);
  await tg.start();
  store = openStore(path.join(dir, "onair.db"), { clock });
  logLines = [];
});

afterEach(async () => {
  for (const a of alerters.splice(0)) await a.close();
  store.close();
  await tg.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function newAlerter(timers: ManualTimers, over: Partial<AlerterOptions> = {}): Alerter {
  const logger = createLogger({ level: "debug", destination: { write: (l: string) => void logLines.push(l) } });
  const a = new Alerter({
    store,
    clock,
    timers,
    logger,
    apiRoot: tg.url,
    channels: {
      news: {
        botToken: TOKEN,
        chatIds: [-1001, 2002],
        events: ["channel_down", "channel_recovered", "restart_flapping", "slate_on", "slate_off", "cue_failed"],
      },
      sport: { botToken: TOKEN, chatIds: [-1001], events: ["channel_down"] },
    },
    backoff: { minMs: 1000, maxMs: 60_000, random: () => 0.5 },
    owner: "onair-test",
    ...over,
  });
  alerters.push(a);
  a.start();
  return a;
}

async function closeAlerter(a: Alerter): Promise<void> {
  await a.close();
  alerters.splice(alerters.indexOf(a), 1);
}

const crash = (n: number, channel = "news"): Alert => ({
  kind: "channel_crashed",
  channel,
  code: 1,
  stderrTail: ["Connection refused"],
  restartNumber: n,
  nextRetryInMs: 1000,
});

const pendingRows = (): number => listOutbox(store, { pending: true }).length;

// ── tests ────────────────────────────────────────────────────────────────────

describe("Alerter → Telegram", () => {
  it("sends one message per chat for a crash, naming the channel and the exit code, through the configured API root", async () => {
    const timers = new ManualTimers(clock);
    const a = newAlerter(timers);
    expect(a.notify(crash(1))).toMatchObject({ enqueued: 2 });
    await runUntil(timers, () => pendingRows() === 0 && tg.delivered().length === 2, "crash delivered");
    const msgs = tg.delivered();
    expect(msgs.map((m) => m.chatId).sort()).toEqual(["-1001", "2002"]);
    for (const m of msgs) {
      expect(m.text).toContain("<b>news</b> crashed: exit code <code>1</code>");
      expect(m.parseMode).toBe("HTML");
    }
    expect([...tg.tokens]).toEqual([TOKEN]);
    expect(a.stats()).toMatchObject({ sent: 2, outboxDepth: 0 });
  });

  it("sends one flapping alert for 10 crashes in a minute, not 10 crash messages; recovery sends one message", async () => {
    const timers = new ManualTimers(clock);
    const a = newAlerter(timers, {
      channels: { news: { botToken: TOKEN, chatIds: [2002], events: ["channel_down", "channel_recovered", "restart_flapping"] } },
    });
    for (let i = 1; i <= 10; i++) {
      a.notify(crash(i));
      clock.advance(6000);
    }
    await runUntil(timers, () => pendingRows() === 0, "crash alerts delivered");
    const texts = tg.delivered().map((m) => m.text ?? "");
    expect(texts.filter((t) => t.includes("is flapping"))).toHaveLength(1);
    expect(texts.filter((t) => t.includes("crashed"))).toHaveLength(1);
    expect(texts).toHaveLength(2);
    expect(texts[1]).toContain("<b>news</b> is flapping: 5 restarts in 10 min");

    a.notify({ kind: "recovered", channel: "news", outageMs: 95_000 });
    a.notify({ kind: "recovered", channel: "news", outageMs: 95_000 });
    await runUntil(timers, () => pendingRows() === 0 && tg.delivered().length === 3, "recovery delivered");
    expect(tg.delivered().map((m) => m.text)[2]).toContain("<b>news</b> recovered after 1 min 35 s");
    expect(a.stats().suppressed).toMatchObject({ duplicate: 4, flapping: 5 });
  });

  it("applies the channel's enabled events", () => {
    const timers = new ManualTimers(clock);
    const a = newAlerter(timers);
    expect(a.notify({ kind: "slate_on", channel: "sport" })).toEqual({ enqueued: 0, suppressed: "disabled" });
    expect(a.notify({ kind: "slate_on", channel: "unknown" })).toEqual({ enqueued: 0, suppressed: "no_route" });
    expect(a.notify(crash(1, "sport"))).toMatchObject({ enqueued: 1 });
  });

  it("keeps an alert reported while closing and sends it at the next start", async () => {
    const a = newAlerter(new ManualTimers(clock));
    await closeAlerter(a);
    expect(a.notify({ kind: "slate_on", channel: "news" })).toMatchObject({ enqueued: 2 });
    const timers = new ManualTimers(clock);
    newAlerter(timers);
    await runUntil(timers, () => pendingRows() === 0, "delivered after restart");
    expect(tg.delivered().map((m) => m.chatId)).toEqual(["-1001", "2002"]);
  });

  it("builds a route from a profile, with the global default token when the profile has none", () => {
    const profile = { alerts: { telegram: { chatIds: [5], events: ["channel_down"] } } } as unknown as ChannelProfile;
    expect(routeFromProfile(profile, TOKEN)).toEqual({ botToken: TOKEN, chatIds: [5], events: ["channel_down"] });
    expect(routeFromProfile(profile)).toBeUndefined();
    expect(routeFromProfile({ alerts: {} } as unknown as ChannelProfile, TOKEN)).toBeUndefined();
  });

  it("spaces messages to one chat by at least a second", async () => {
    const timers = new ManualTimers(clock);
    const a = newAlerter(timers, {
      channels: { news: { botToken: TOKEN, chatIds: [2002], events: ["slate_on", "slate_off", "cue_failed"] } },
    });
    a.notify({ kind: "slate_on", channel: "news" });
    a.notify({ kind: "cue_failed", channel: "news", reason: "x" });
    a.notify({ kind: "slate_off", channel: "news" });
    await runUntil(timers, () => pendingRows() === 0, "three delivered");
    const at = tg.delivered().map((m) => m.atMs);
    expect(at).toHaveLength(3);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(1000);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(1000);
  });

  it("delivers every alert after 2 minutes of 500 and 429, in order, exactly once, across an Alerter and store restart", async () => {
    // Telegram is broken for two simulated minutes: 500 for the first, 429 (retry after 7 s) for the second
    tg.answer = ({ atMs }) =>
      atMs < T0 + 60_000 ? { status: 500 } : atMs < T0 + 120_000 ? { status: 429, retryAfter: 7 } : { status: 200 };
    const before: Alert[] = [
      crash(1),
      { kind: "slate_on", channel: "news", reason: "input lost" },
      { kind: "cue_failed", channel: "news", spliceEventId: 7, reason: "no IDR" },
    ];
    const after: Alert[] = [
      { kind: "slate_off", channel: "news" },
      { kind: "recovered", channel: "news", outageMs: 90_000 },
      { kind: "disk_low", role: "data", path: "/var/lib/onair", freeBytes: 1024 },
    ];
    const marker = (t: string | undefined): string =>
      ["crashed", "slate on air", "cue failed", "slate off", "recovered", "disk space low"].find((k) => t?.includes(k)) ?? `?${t}`;
    const expected = ["crashed", "slate on air", "cue failed", "slate off", "recovered", "disk space low"];

    let timers = new ManualTimers(clock);
    let a = newAlerter(timers);
    for (const e of before) expect(a.notify(e)).toMatchObject({ enqueued: 2 });
    await runUntil(timers, () => clock.now() >= T0 + 50_000, "50 s of failures");
    expect(tg.delivered()).toHaveLength(0);
    expect(a.stats().failed.server_error).toBeGreaterThan(2);

    // restart: close the Alerter, close the store, reopen it, a new Alerter
    await closeAlerter(a);
    store.close();
    store = openStore(path.join(dir, "onair.db"), { clock });
    expect(pendingRows()).toBe(6);
    timers = new ManualTimers(clock);
    a = newAlerter(timers);
    await runUntil(timers, () => clock.now() >= T0 + 70_000, "into the 429 minute");
    for (const e of after) expect(a.notify(e)).toMatchObject({ enqueued: 2 });
    await runUntil(timers, () => pendingRows() === 0, "everything delivered");

    for (const chat of ["-1001", "2002"]) {
      const got = tg.delivered(chat);
      expect(got.map((m) => marker(m.text))).toEqual(expected);
      expect(got.every((m) => m.atMs >= T0 + 120_000)).toBe(true);
      // every 429 was obeyed: the next request to that chat came at least retry_after later
      const reqs = tg.requests.filter((r) => r.method === "sendMessage" && r.chatId === chat);
      reqs.forEach((r, i) => {
        if (r.status === 429 && reqs[i + 1]) expect(reqs[i + 1].atMs - r.atMs).toBeGreaterThanOrEqual(7000);
      });
      expect(reqs.some((r) => r.status === 429)).toBe(true);
      expect(reqs.some((r) => r.status === 500)).toBe(true);
    }
    const texts = tg.delivered().map((m) => `${m.chatId}|${m.text}`);
    expect(new Set(texts).size).toBe(texts.length);
    expect(texts).toHaveLength(12);
    expect(listOutbox(store).every((r) => r.sentMs !== undefined && r.attempts >= 1)).toBe(true);
  });

  it("drops a message Telegram refuses for good (403) and goes on with the next one", async () => {
    tg.answer = ({ text }) =>
      text?.includes("slate on") ? { status: 403, description: "Forbidden: bot was blocked by the user" } : { status: 200 };
    const timers = new ManualTimers(clock);
    const a = newAlerter(timers, {
      channels: { news: { botToken: TOKEN, chatIds: [2002], events: ["slate_on", "slate_off"] } },
    });
    a.notify({ kind: "slate_on", channel: "news" });
    a.notify({ kind: "slate_off", channel: "news" });
    await runUntil(timers, () => pendingRows() === 0, "queue drained");
    expect(tg.delivered().map((m) => m.text)).toEqual([expect.stringContaining("slate off")]);
    expect(a.stats().dropped).toEqual({ forbidden: 1 });
    expect(listOutbox(store)[0]).toMatchObject({ lastError: "403 Forbidden: bot was blocked by the user" });
    expect(listOutbox(store)[0].failedMs).toBeDefined();
  });

  it("keeps alerts while the API root is unreachable and never logs the bot token", async () => {
    const dead = http.createServer();
    await new Promise<void>((resolve) => dead.listen(0, "127.0.0.1", resolve));
    const deadUrl = `http://127.0.0.1:${(dead.address() as AddressInfo).port}`;
    await new Promise<void>((resolve) => dead.close(() => resolve()));

    const timers = new ManualTimers(clock);
    const a = newAlerter(timers, { apiRoot: deadUrl });
    a.notify(crash(1));
    await runUntil(timers, () => (a.stats().failed.network ?? 0) >= 4, "network failures");
    expect(pendingRows()).toBe(2);
    await closeAlerter(a);

    // what the client hands back carries no URL, so no token either
    const client = new TelegramClient(TOKEN, { apiRoot: deadUrl });
    const out = await client.sendMessage("2002", "x");
    expect(out).toMatchObject({ ok: false, retry: "backoff", reason: "network" });
    expect(JSON.stringify(out)).not.toContain(TOKEN.split(":")[1]);
    const pollErr = await client.getUpdates(undefined, 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(pollErr).toBeInstanceOf(TelegramRequestError);
    expect(String((pollErr as Error).message)).not.toContain(TOKEN.split(":")[1]);

    // the same rows go out through a reachable API root after a restart
    const t2 = new ManualTimers(clock);
    const c = newAlerter(t2);
    await runUntil(t2, () => pendingRows() === 0, "delivered after the network came back");
    expect(tg.delivered()).toHaveLength(2);
    expect(c.stats().sent).toBe(2);

    const log = logLines.join("");
    expect(log).toContain("alert_send_failed");
    expect(log).not.toContain(TOKEN);
    expect(log).not.toContain(TOKEN.split(":")[1]);
  });
});

describe("bot commands", () => {
  const message = (updateId: number, chatId: number, text: string) => ({
    update_id: updateId,
    message: { message_id: updateId, date: Math.floor(clock.now() / 1000), chat: { id: chatId, type: "group" }, text },
  });

  function commandAlerter(timers: ManualTimers): Alerter {
    return newAlerter(timers, {
      commands: {
        status: () => "news: on air <ok>\nsport: slate",
        channel: (id) => (id === "news" ? "news: on air, restarts 0" : undefined),
        pollTimeoutSec: 30,
      },
    });
  }

  it("answers /status and /channel ID to allowlisted chats only, logs the others, and keeps the update offset", async () => {
    const timers = new ManualTimers(clock);
    const a = commandAlerter(timers);
    const refused = new Promise<void>((resolve) => a.on("command", (c: { allowed: boolean }) => !c.allowed && resolve()));
    await tg.waitFor((r) => r.method === "getUpdates", "first poll");
    tg.pushUpdate(message(100, -1001, "/status"));
    tg.pushUpdate(message(101, 999, "/status"));
    tg.pushUpdate(message(102, 2002, "/channel@onair_bot news"));
    tg.pushUpdate(message(103, 2002, "/channel nope"));
    await within(refused, 5000, "refused command");
    await runUntil(timers, () => tg.delivered().length === 3 && pendingRows() === 0, "three replies");

    const replies = tg.delivered().map((m) => [m.chatId, m.text]);
    expect(replies).toEqual([
      ["-1001", "<pre>news: on air &lt;ok&gt;\nsport: slate</pre>"],
      ["2002", "<pre>news: on air, restarts 0</pre>"],
      ["2002", "<pre>unknown channel: nope</pre>"],
    ]);
    expect(tg.delivered("999")).toHaveLength(0);
    expect(a.stats().commands).toEqual({ answered: 3, refused: 1 });
    expect(logLines.join("")).toContain("telegram_command_refused");
    expect(getAlertState(store, `telegram.offset.${BOT_ID}`)).toBe("104");

    // a restart picks up at the stored offset: nothing is answered twice
    await closeAlerter(a);
    const polls = tg.requests.filter((r) => r.method === "getUpdates").length;
    const t2 = new ManualTimers(clock);
    const b = commandAlerter(t2);
    const poll = await tg.waitFor(
      (r) => r.method === "getUpdates" && tg.requests.filter((x) => x.method === "getUpdates").indexOf(r) >= polls,
      "poll after restart",
    );
    expect(poll.offset).toBe("104");
    const handled = new Promise<void>((resolve) => b.once("command", () => resolve()));
    tg.pushUpdate(message(104, 2002, "/status"));
    await within(handled, 5000, "command after restart");
    await runUntil(t2, () => tg.delivered().length === 4 && pendingRows() === 0, "fourth reply");
    expect(tg.delivered()).toHaveLength(4);
    expect(b.stats().commands.answered).toBe(1);
    expect(logLines.join("")).not.toContain(TOKEN);
  });
});
