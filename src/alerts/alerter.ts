/**
 * The Alerter: turns daemon events into Telegram messages that are never lost.
 *
 *   notify(alert) ─▶ rules (flapping, dedupe) ─▶ channel's enabled events ─▶ routes
 *                 ─▶ one outbox row per chat, one transaction ─▶ sender loop ─▶ Telegram
 *
 * **Delivery.** Every message is written to the store's outbox before any request. The
 * sender takes the oldest pending row of each queue (bot, chat), so one chat's messages go
 * out in order; a queue whose head waits (429, outage) holds the rows behind it and does
 * not hold other chats. A row is marked sent only after Telegram answered `ok: true`:
 * - 429: the queue waits `parameters.retry_after`;
 * - 5xx, network error, timeout, a wrong token (401/404): capped exponential backoff with
 *   jitter (`core/backoff`, 1 s … 60 s by default), for ever — an outage delays alerts,
 *   it never drops them;
 * - 400/403 (chat gone, bot blocked, message refused): the row is given up (`failed_ms`)
 *   and counted, so one bad chat cannot block its queue for ever. An HTML parse error is
 *   retried once at once as plain text first.
 *
 * **Exactly once, and where it is not.** Over HTTP without an idempotency key on
 * Telegram's side exactly-once is impossible: if the process dies after Telegram took a
 * message and before the row is marked (one SQLite commit after the answer), or a request
 * times out after Telegram took it, that one message is sent again. The window is kept to
 * the in-flight request: rows are marked in the same tick the answer arrives, and `close()`
 * lets an in-flight request finish (grace period) before aborting it. At most the in-flight
 * message of each process can repeat; none is ever lost.
 *
 * **Rate limits.** Per chat: at least 1 s between messages and at most 20 per minute
 * (Telegram's per-chat and per-group limits; the group one is applied to every chat to
 * keep it simple and safe). Requests go one at a time, which also keeps far below the
 * 30/s per bot. A 429 still wins: its `retry_after` is obeyed.
 *
 * **Shared store.** Several processes (onair@A, onair@B) may share one store: a row is
 * leased (owner name + expiry) in a transaction before its request, so no two processes
 * send it. Give each process its own `owner` (its unit name); a restarted process takes
 * back its own leases at once, others' only when they expire. Only one process per bot may
 * answer commands (Telegram allows one getUpdates poller per bot).
 *
 * **Commands.** With `commands`, a getUpdates long poll per bot answers `/status` and
 * `/channel ID` from allowlisted chats (the chats alerts go to) through the outbox; other
 * chats are ignored and logged. The update offset is stored before the answer, so an
 * update is never processed twice, even across restarts (a crash in between loses that
 * answer; the user asks again). Commands older than `maxAgeMs` (default 10 min, e.g.
 * queued while the daemon was down) are not answered.
 *
 * **When the store cannot be written** (full disk, I/O error): the alert is not lost. Its
 * rows are kept in memory (at most `memoryMax`, oldest dropped and counted) and sent
 * directly by the sender loop, with the same rate limits and retries; each round first
 * tries to move them into the outbox, so once the store works again they take the durable
 * path. Rows kept in memory are lost if the process dies before they are sent or stored.
 *
 * Secrets: bot tokens live in memory only; the outbox stores the bot id (the public
 * numeric part). Nothing logs a request URL (it carries `/bot<token>/`), and the tokens
 * are registered with the logger's SecretSet when it has one.
 */
import { EventEmitter } from "node:events";
import { Backoff, type JitterKind } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import type { AlertEvent as ProfileAlertEvent, ChannelProfile } from "../config/profile-schema.js";
import { silentLogger, type Logger } from "../observe/logger.js";
import type { Store } from "../store/db.js";
import {
  claimOutboxRow,
  enqueueOutbox,
  getAlertState,
  markOutboxFailed,
  markOutboxRetry,
  markOutboxSent,
  outboxDepth,
  outboxHeads,
  pruneOutbox,
  setAlertState,
  type OutboxInput,
  type OutboxRow,
} from "../store/outbox.js";
import { BOX_WIDE_KINDS, formatAlert, formatReply, htmlToText, PROFILE_EVENT_OF, type Alert } from "./messages.js";
import {
  AlertRules,
  ChatRateLimiter,
  DEFAULT_FLAPPING,
  DEFAULT_RATE_LIMIT,
  type FlappingSettings,
  type RateLimitSettings,
  type SuppressReason,
} from "./rules.js";
import { botIdOf, TelegramClient, TelegramRequestError, type FailureReason, type SendOutcome, type Update } from "./telegram.js";

/** Injectable timers (same shape as pipeline/timers.ts `Timers`, so `realTimers` fits). */
export interface AlertTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: AlertTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Where a channel's alerts go and which ones. */
export interface ChannelAlertRoute {
  /** the bot token (secret; kept in memory only) */
  botToken: string;
  chatIds: readonly (string | number)[];
  /** the profile's `alerts.telegram.events` */
  events: readonly ProfileAlertEvent[];
  /** default 5 restarts in 10 minutes (the profile has no setting yet) */
  flapping?: FlappingSettings | undefined;
}

/**
 * The route of a loaded profile: its own bot token or `defaultBotToken` (the global
 * config's, already read from its reference). Undefined when the profile has no Telegram
 * alerts or no token is known.
 */
export function routeFromProfile(p: ChannelProfile, defaultBotToken?: string): ChannelAlertRoute | undefined {
  const t = p.alerts.telegram;
  const token = t?.botToken ?? defaultBotToken;
  if (!t || !token) return undefined;
  return { botToken: token, chatIds: t.chatIds, events: t.events };
}

export interface AlerterCommands {
  /** `/status`: plain text about all channels */
  status(): string;
  /** `/channel ID`: plain text about one channel, undefined if unknown */
  channel(id: string): string | undefined;
  /** getUpdates long-poll time, s (default 25) */
  pollTimeoutSec?: number;
  /** commands older than this are not answered (default 10 min) */
  maxAgeMs?: number;
}

export interface AlerterOptions {
  store: Store;
  logger?: Logger;
  clock?: Clock;
  timers?: AlertTimers;
  /** Telegram API root (global config `telegram.apiRoot`); default https://api.telegram.org */
  apiRoot?: string;
  fetch?: typeof fetch;
  /** per channel id */
  channels?: Record<string, ChannelAlertRoute>;
  /**
   * Box-wide alerts (disk_low of the data directory, profile_refused of an unknown
   * channel): these chats via `botToken` (else the first channel's bot). Without chatIds,
   * every chat of every channel gets them.
   */
  box?: { botToken?: string | undefined; chatIds?: readonly (string | number)[] | undefined };
  /** same channel + kind within this window is sent once (default 5 min) */
  dedupeWindowMs?: number;
  /** default flapping threshold for channels whose route sets none */
  flapping?: FlappingSettings;
  rateLimit?: RateLimitSettings;
  /** retry backoff after 5xx/network errors (default 1 s … 60 s, decorrelated jitter) */
  backoff?: { minMs?: number; maxMs?: number; jitter?: JitterKind; random?: () => number };
  /** lease owner name, stable across restarts and unique per process sharing the store (default "onair") */
  owner?: string;
  /** shown at the end of each alert (host or unit name) */
  label?: string;
  commands?: AlerterCommands;
  /** per request (default 30 s) */
  requestTimeoutMs?: number;
  /** the sender re-reads the outbox at least this often, for rows of other processes (default 60 s) */
  idlePollMs?: number;
  /** close() lets an in-flight request finish this long before aborting it (default 2 s) */
  closeGraceMs?: number;
  /** sent and failed rows are deleted after this long (default 7 days) */
  keepSentMs?: number;
  /** aborting it closes the Alerter (the daemon's root signal) */
  signal?: AbortSignal;
  /** alert rows kept in memory while the outbox cannot be written (default 500) */
  memoryMax?: number;
}

export type NotifyResult =
  | { enqueued: number; alert: Alert }
  | { enqueued: 0; suppressed: SuppressReason | "disabled" | "no_route" | "store_error" };

export interface AlerterStats {
  /** events passed to notify() */
  notified: number;
  /** outbox rows written (alerts × chats, replies) */
  enqueued: number;
  /** events not sent, by reason */
  suppressed: Record<string, number>;
  /** messages Telegram accepted */
  sent: number;
  /** failed attempts, by reason (rate_limited, server_error, network, …) */
  failed: Record<string, number>;
  /** messages given up (Telegram refused them for good), by reason */
  dropped: Record<string, number>;
  /** rows waiting in the outbox (all processes) */
  outboxDepth: number;
  commands: { answered: number; refused: number };
}

export interface SentEvent {
  id: number;
  chatId: string;
  kind: string;
}
export interface AttemptFailedEvent {
  id: number;
  chatId: string;
  reason: FailureReason;
  retryInMs: number;
}
export interface CommandEvent {
  chatId: string;
  command: string;
  allowed: boolean;
}

interface Route {
  botId: string;
  chatId: string;
}

/** An alert row the outbox could not take: sent from memory (see the module comment). */
interface MemoryRow extends OutboxInput {
  createdMs: number;
  attempts: number;
  nextAttemptMs: number;
}

const inc = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

/**
 * Events: "sent" (SentEvent), "attempt_failed" (AttemptFailedEvent), "dropped" (row id and
 * reason), "command" (CommandEvent), "idle" (ms until the sender's next look).
 */
export class Alerter extends EventEmitter {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly timers: AlertTimers;
  private readonly rules: AlertRules;
  private readonly limiter: ChatRateLimiter;
  private readonly channels = new Map<string, ChannelAlertRoute>();
  private readonly bots = new Map<string, TelegramClient>();
  private readonly backoffs = new Map<string, Backoff>();
  private readonly unknownBots = new Set<string>();
  private readonly failingQueues = new Set<string>();
  private readonly o: AlerterOptions;
  private readonly owner: string;
  private readonly abort = new AbortController();
  private readonly pollAbort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private kick: (() => void) | undefined;
  private kicked = false;
  private inflight: Promise<unknown> | undefined;
  private started = false;
  private stopping = false;
  private closing: Promise<void> | undefined;
  private readonly memory: MemoryRow[] = [];
  private readonly counters = {
    notified: 0,
    enqueued: 0,
    suppressed: {} as Record<string, number>,
    sent: 0,
    failed: {} as Record<string, number>,
    dropped: {} as Record<string, number>,
    commands: { answered: 0, refused: 0 },
  };

  constructor(o: AlerterOptions) {
    super();
    this.o = o;
    this.store = o.store;
    this.clock = o.clock ?? systemClock;
    this.timers = o.timers ?? realTimers;
    this.owner = o.owner ?? "onair";
    this.log = (o.logger ?? silentLogger()).child({ component: "alerts" });
    const defaultFlapping = o.flapping ?? DEFAULT_FLAPPING;
    this.rules = new AlertRules({
      ...(o.dedupeWindowMs !== undefined ? { dedupeWindowMs: o.dedupeWindowMs } : {}),
      flapping: (ch) => this.channels.get(ch)?.flapping ?? defaultFlapping,
    });
    this.limiter = new ChatRateLimiter(o.rateLimit ?? DEFAULT_RATE_LIMIT);
    if (o.box?.botToken) this.addBot(o.box.botToken);
    for (const [id, r] of Object.entries(o.channels ?? {})) this.setChannel(id, r);
    if (o.signal) {
      if (o.signal.aborted) this.stopping = true;
      else o.signal.addEventListener("abort", () => void this.close(), { once: true });
    }
  }

  /** Adds, replaces (profile reload) or removes (undefined) a channel's route. */
  setChannel(id: string, route: ChannelAlertRoute | undefined): void {
    if (!route) {
      this.channels.delete(id);
      return;
    }
    this.addBot(route.botToken);
    this.channels.set(id, route);
  }

  /** Starts the sender (and the command polls). Rows already in the outbox go out first. */
  start(): void {
    if (this.started || this.stopping) return;
    this.started = true;
    try {
      const pruned = pruneOutbox(this.store, this.clock.now() - (this.o.keepSentMs ?? 7 * 24 * 3600_000));
      if (pruned > 0) this.log.debug({ event: "alert_outbox_pruned", rows: pruned }, "old outbox rows deleted");
      const depth = outboxDepth(this.store);
      if (depth > 0) this.log.info({ event: "alert_outbox_resume", depth }, `${depth} alert(s) waiting in the outbox`);
    } catch (err) {
      this.log.error({ event: "alert_store_error", err }, "cannot read the alert outbox");
    }
    this.loops.push(this.senderLoop());
    if (this.o.commands) for (const botId of this.bots.keys()) this.loops.push(this.pollLoop(botId));
  }

  /**
   * Reports an event. Synchronous: when it returns, the message is in the outbox (or was
   * deliberately not sent). Never throws; a store failure is logged and counted.
   */
  notify(event: Alert): NotifyResult {
    this.counters.notified++;
    // while closing the row is still written (the store is open until close() resolves): it goes out at the next start
    const d = this.rules.decide(event, this.clock.monotonic());
    if ("suppressed" in d) return this.suppress(d.suppressed, event);
    const alert = d.alert;
    const routes = this.routesFor(alert);
    if (routes === "disabled" || routes.length === 0) return this.suppress(routes === "disabled" ? "disabled" : "no_route", alert);
    const payload = formatAlert(alert, { label: this.o.label });
    const rows: OutboxInput[] = routes.map((r) => ({ ...r, channel: alert.channel, kind: alert.kind, payload }));
    try {
      enqueueOutbox(this.store, rows, this.clock.now());
    } catch (err) {
      // a full disk must not cost the alert (it is often the alert about the full disk)
      this.keepInMemory(rows);
      this.counters.enqueued += rows.length;
      this.log.error(
        { event: "alert_store_error", err, kind: alert.kind, channel: alert.channel, inMemory: this.memory.length },
        "cannot queue an alert in the outbox; it is sent from memory",
      );
      this.wake();
      return { enqueued: rows.length, alert };
    }
    this.counters.enqueued += rows.length;
    this.log.info({ event: "alert_queued", kind: alert.kind, channel: alert.channel, chats: rows.length }, `alert ${alert.kind} queued`);
    this.wake();
    return { enqueued: rows.length, alert };
  }

  stats(): AlerterStats {
    let depth = -1;
    try {
      depth = outboxDepth(this.store) + this.memory.length;
    } catch {
      // store closed: depth unknown
    }
    const c = this.counters;
    return {
      notified: c.notified,
      enqueued: c.enqueued,
      suppressed: { ...c.suppressed },
      sent: c.sent,
      failed: { ...c.failed },
      dropped: { ...c.dropped },
      outboxDepth: depth,
      commands: { ...c.commands },
    };
  }

  /**
   * Stops: no new rows are taken, command polls end at once, an in-flight send gets
   * `closeGraceMs` to finish, then everything is aborted. Resolves when the loops are done;
   * the store may be closed after that.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      this.pollAbort.abort();
      this.wake();
      const inflight = this.inflight;
      if (inflight) {
        let handle: unknown;
        await Promise.race([
          inflight,
          new Promise<void>((resolve) => {
            handle = this.timers.setTimeout(resolve, this.o.closeGraceMs ?? 2000);
          }),
        ]);
        this.timers.clearTimeout(handle);
      }
      this.abort.abort();
      await Promise.allSettled(this.loops);
    })();
    return this.closing;
  }

  // ──────────────────────────────────────────────────────────── routing

  private addBot(token: string): void {
    const id = botIdOf(token);
    const root = this.o.logger as Partial<{ secrets: { add(v: string): void } }> | undefined;
    root?.secrets?.add(token);
    if (this.bots.has(id)) return;
    this.bots.set(
      id,
      new TelegramClient(token, {
        apiRoot: this.o.apiRoot,
        timeoutMs: this.o.requestTimeoutMs ?? 30_000,
        fetch: this.o.fetch,
      }),
    );
    if (this.started && this.o.commands && !this.stopping) this.loops.push(this.pollLoop(id));
  }

  private boxRoutes(): Route[] {
    const out = new Map<string, Route>();
    const chats = this.o.box?.chatIds;
    if (chats && chats.length > 0) {
      const token = this.o.box?.botToken ?? [...this.channels.values()][0]?.botToken;
      if (!token) return [];
      for (const c of chats) out.set(`${botIdOf(token)}:${String(c)}`, { botId: botIdOf(token), chatId: String(c) });
    } else {
      for (const r of this.channels.values()) {
        for (const c of r.chatIds) out.set(`${botIdOf(r.botToken)}:${String(c)}`, { botId: botIdOf(r.botToken), chatId: String(c) });
      }
    }
    return [...out.values()];
  }

  private routesFor(a: Alert): Route[] | "disabled" {
    const route = a.channel !== undefined ? this.channels.get(a.channel) : undefined;
    const boxWide = BOX_WIDE_KINDS.has(a.kind);
    if (!route) return boxWide ? this.boxRoutes() : [];
    const ev = PROFILE_EVENT_OF[a.kind];
    if (ev !== null && !route.events.includes(ev)) return "disabled";
    const botId = botIdOf(route.botToken);
    return [...new Set(route.chatIds.map(String))].map((chatId) => ({ botId, chatId }));
  }

  private keepInMemory(rows: readonly OutboxInput[]): void {
    const now = this.clock.now();
    const max = Math.max(1, this.o.memoryMax ?? 500);
    for (const r of rows) {
      if (this.memory.length >= max) {
        const lost = this.memory.shift() as MemoryRow;
        inc(this.counters.dropped, "memory_full");
        this.log.error({ event: "alert_dropped", kind: lost.kind, chatId: lost.chatId, reason: "memory_full" }, "alert lost: the outbox cannot be written and the memory queue is full");
      }
      this.memory.push({ ...r, createdMs: now, attempts: 0, nextAttemptMs: now });
    }
  }

  /**
   * Alert rows held in memory: into the outbox if it takes them again, else sent directly
   * (one request at most per call). Returns whether a request was made and the ms until
   * the earliest waiting row is due.
   */
  private async sendFromMemory(signal: AbortSignal): Promise<{ sent: boolean; waitMs: number }> {
    let waitMs = Number.POSITIVE_INFINITY;
    if (this.memory.length === 0) return { sent: false, waitMs };
    try {
      enqueueOutbox(this.store, this.memory, this.clock.now());
      this.log.info({ event: "alert_outbox_resumed", rows: this.memory.length }, "alerts held in memory are in the outbox again");
      this.memory.length = 0;
      return { sent: false, waitMs: 0 };
    } catch {
      // still failing: send them from here
    }
    const now = this.clock.now();
    const seen = new Set<string>();
    for (let i = 0; i < this.memory.length; i++) {
      const row = this.memory[i];
      const queue = `${row.botId}:${row.chatId}`;
      if (seen.has(queue)) continue; // one chat's messages in order: only its oldest row
      seen.add(queue);
      const client = this.bots.get(row.botId);
      if (!client) continue;
      if (row.nextAttemptMs > now) {
        waitMs = Math.min(waitMs, row.nextAttemptMs - now);
        continue;
      }
      const rate = this.limiter.waitMs(queue, this.clock.monotonic());
      if (rate > 0) {
        waitMs = Math.min(waitMs, rate);
        continue;
      }
      this.limiter.record(queue, this.clock.monotonic());
      row.attempts++;
      const p = client.sendMessage(row.chatId, row.payload, signal);
      this.inflight = p;
      let res = await p;
      this.inflight = undefined;
      if (!res.ok && res.reason === "html_parse") res = await client.sendMessage(row.chatId, htmlToText(row.payload), signal, true);
      const idx = this.memory.indexOf(row);
      if (res.ok) {
        if (idx >= 0) this.memory.splice(idx, 1);
        this.counters.sent++;
        this.backoffOf(queue).reset();
        this.log.info({ event: "alert_sent_from_memory", chatId: row.chatId, kind: row.kind, attempts: row.attempts }, "alert sent without the outbox");
        this.emit("sent", { id: 0, chatId: row.chatId, kind: row.kind } satisfies SentEvent);
      } else if (res.reason !== "aborted") {
        inc(this.counters.failed, res.reason);
        if (res.retry === "never") {
          if (idx >= 0) this.memory.splice(idx, 1);
          inc(this.counters.dropped, res.reason);
          this.log.error({ event: "alert_dropped", chatId: row.chatId, kind: row.kind, reason: res.reason, description: res.description }, "Telegram refused an alert for good");
        } else {
          row.nextAttemptMs = this.clock.now() + (res.retry === "after" ? res.retryAfterMs : Math.round(this.backoffOf(queue).next()));
        }
      }
      return { sent: true, waitMs: 0 };
    }
    return { sent: false, waitMs };
  }

  private suppress(reason: SuppressReason | "disabled" | "no_route" | "store_error", a: Alert): NotifyResult {
    inc(this.counters.suppressed, reason);
    this.log.debug({ event: "alert_suppressed", reason, kind: a.kind, channel: a.channel }, `alert ${a.kind} not sent: ${reason}`);
    return { enqueued: 0, suppressed: reason };
  }

  // ──────────────────────────────────────────────────────────── sender

  private wake(): void {
    this.kicked = true;
    this.kick?.();
  }

  /** Waits `ms`, or until woken (new row, close) or aborted. */
  private sleep(ms: number, wakeable: boolean, signal: AbortSignal): Promise<void> {
    if (signal.aborted || (wakeable && this.kicked)) {
      if (wakeable) this.kicked = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.timers.clearTimeout(handle);
        signal.removeEventListener("abort", done);
        if (wakeable) {
          this.kick = undefined;
          this.kicked = false;
        }
        resolve();
      };
      const handle = this.timers.setTimeout(done, Math.max(0, ms));
      signal.addEventListener("abort", done, { once: true });
      if (wakeable) this.kick = done;
    });
  }

  private backoffOf(queue: string): Backoff {
    let b = this.backoffs.get(queue);
    if (!b) {
      const o = this.o.backoff ?? {};
      b = new Backoff({
        minMs: o.minMs ?? 1000,
        maxMs: o.maxMs ?? 60_000,
        jitter: o.jitter ?? "decorrelated",
        ...(o.random ? { random: o.random } : {}),
        clock: this.clock,
      });
      this.backoffs.set(queue, b);
    }
    return b;
  }

  private async senderLoop(): Promise<void> {
    const signal = this.abort.signal;
    const idle = this.o.idlePollMs ?? 60_000;
    while (!this.stopping && !signal.aborted) {
      this.kicked = false;
      let waitMs = idle;
      let sentOne = false;
      if (this.memory.length > 0) {
        const m = await this.sendFromMemory(signal);
        if (m.sent) continue;
        waitMs = Math.min(waitMs, m.waitMs);
      }
      try {
        const now = this.clock.now();
        for (const head of outboxHeads(this.store)) {
          if (this.stopping) break;
          const client = this.bots.get(head.botId);
          if (!client) {
            if (!this.unknownBots.has(head.botId)) {
              this.unknownBots.add(head.botId);
              this.log.warn({ event: "alert_unknown_bot", botId: head.botId }, "outbox rows for a bot this process has no token for; left waiting");
            }
            continue;
          }
          const queue = `${head.botId}:${head.chatId}`;
          if (head.leaseOwner !== undefined && head.leaseOwner !== this.owner && (head.leaseUntilMs ?? 0) > now) {
            waitMs = Math.min(waitMs, (head.leaseUntilMs ?? now) - now);
            continue;
          }
          if (head.nextAttemptMs > now) {
            waitMs = Math.min(waitMs, head.nextAttemptMs - now);
            continue;
          }
          const rate = this.limiter.waitMs(queue, this.clock.monotonic());
          if (rate > 0) {
            waitMs = Math.min(waitMs, rate);
            continue;
          }
          const leaseMs = (this.o.requestTimeoutMs ?? 30_000) + 10_000;
          const row = claimOutboxRow(this.store, head.id, this.owner, now + leaseMs, now);
          if (!row) continue;
          this.limiter.record(queue, this.clock.monotonic());
          const p = this.sendRow(client, row, queue, signal);
          this.inflight = p;
          await p;
          this.inflight = undefined;
          sentOne = true;
          break; // re-read the heads: new rows, order, and fairness between chats
        }
      } catch (err) {
        if (signal.aborted) break;
        this.log.error({ event: "alert_store_error", err }, "alert sender: store error");
        waitMs = Math.min(waitMs, 5000);
      }
      if (sentOne) continue;
      this.emit("idle", waitMs);
      await this.sleep(waitMs, true, signal);
    }
  }

  private async sendRow(client: TelegramClient, row: OutboxRow, queue: string, signal: AbortSignal): Promise<void> {
    let res: SendOutcome = await client.sendMessage(row.chatId, row.payload, signal);
    if (!res.ok && res.reason === "html_parse") {
      inc(this.counters.failed, "html_parse");
      this.log.warn({ event: "alert_html_refused", id: row.id, description: res.description }, "Telegram refused the HTML; sending as plain text");
      res = await client.sendMessage(row.chatId, htmlToText(row.payload), signal, true);
    }
    const now = this.clock.now();
    if (res.ok) {
      markOutboxSent(this.store, row.id, now);
      this.counters.sent++;
      this.backoffOf(queue).reset();
      if (this.failingQueues.delete(queue)) {
        this.log.info({ event: "alert_delivery_resumed", chatId: row.chatId }, "Telegram accepts alerts again");
      }
      this.log.debug({ event: "alert_sent", id: row.id, chatId: row.chatId, kind: row.kind, attempts: row.attempts }, "alert sent");
      this.emit("sent", { id: row.id, chatId: row.chatId, kind: row.kind } satisfies SentEvent);
      return;
    }
    if (res.reason === "aborted") {
      // shutting down mid-request: Telegram may or may not have it; it goes again on restart
      markOutboxRetry(this.store, row.id, now, "aborted at shutdown");
      return;
    }
    inc(this.counters.failed, res.reason);
    if (res.retry === "never") {
      markOutboxFailed(this.store, row.id, now, res.description);
      inc(this.counters.dropped, res.reason);
      this.log.error(
        { event: "alert_dropped", id: row.id, chatId: row.chatId, kind: row.kind, reason: res.reason, description: res.description },
        "Telegram refused an alert for good",
      );
      this.emit("dropped", { id: row.id, reason: res.reason });
      return;
    }
    const delay = res.retry === "after" ? res.retryAfterMs : Math.round(this.backoffOf(queue).next());
    markOutboxRetry(this.store, row.id, now + delay, `${res.reason}: ${res.description}`);
    if (!this.failingQueues.has(queue)) {
      this.failingQueues.add(queue);
      this.log.warn(
        { event: "alert_send_failed", chatId: row.chatId, reason: res.reason, description: res.description, retryInMs: delay },
        "cannot deliver alerts to Telegram; they wait in the outbox",
      );
    }
    this.emit("attempt_failed", { id: row.id, chatId: row.chatId, reason: res.reason, retryInMs: delay } satisfies AttemptFailedEvent);
  }

  // ──────────────────────────────────────────────────────────── commands

  private allowlist(botId: string): Set<string> {
    const s = new Set<string>();
    for (const r of this.channels.values()) if (botIdOf(r.botToken) === botId) for (const c of r.chatIds) s.add(String(c));
    for (const r of this.boxRoutes()) if (r.botId === botId) s.add(r.chatId);
    return s;
  }

  private async pollLoop(botId: string): Promise<void> {
    const client = this.bots.get(botId);
    const cmds = this.o.commands;
    if (!client || !cmds) return;
    const signal = this.pollAbort.signal;
    const key = `telegram.offset.${botId}`;
    const backoff = new Backoff({ minMs: 1000, maxMs: 60_000, clock: this.clock, ...(this.o.backoff?.random ? { random: this.o.backoff.random } : {}) });
    let failing = false;
    let offset: number | undefined;
    try {
      const v = getAlertState(this.store, key);
      offset = v === undefined ? undefined : Number(v);
    } catch (err) {
      this.log.error({ event: "alert_store_error", err }, "cannot read the Telegram update offset");
    }
    while (!signal.aborted) {
      let updates: Update[];
      try {
        updates = await client.getUpdates(offset, cmds.pollTimeoutSec ?? 25, signal);
      } catch (err) {
        if (signal.aborted) break;
        const e = err instanceof TelegramRequestError ? err : undefined;
        const wait = e?.retryAfterMs ?? Math.round(backoff.next());
        if (!failing) {
          failing = true;
          this.log.warn({ event: "telegram_poll_failed", botId, reason: e?.reason ?? "unknown", retryInMs: wait }, e?.message ?? "getUpdates failed");
        }
        await this.sleep(wait, false, signal);
        continue;
      }
      if (failing) {
        failing = false;
        this.log.info({ event: "telegram_poll_resumed", botId }, "getUpdates works again");
      }
      backoff.reset();
      for (const u of updates) {
        if (signal.aborted) break;
        offset = u.update_id + 1;
        try {
          setAlertState(this.store, key, String(offset));
          this.handleUpdate(botId, u, cmds);
        } catch (err) {
          this.log.error({ event: "alert_store_error", err }, "cannot handle a Telegram update");
        }
      }
    }
  }

  private handleUpdate(botId: string, u: Update, cmds: AlerterCommands): void {
    const msg = "message" in u ? u.message : "channel_post" in u ? u.channel_post : undefined;
    const text = msg?.text;
    if (!msg || !text || !text.startsWith("/")) return;
    const m = /^\/([A-Za-z0-9_]+)(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$/s.exec(text.trim());
    if (!m) return;
    const command = m[1].toLowerCase();
    const arg = (m[2] ?? "").trim();
    const chatId = String(msg.chat.id);
    const allow = this.allowlist(botId);
    const allowed = allow.has(chatId) || (msg.chat.username !== undefined && allow.has(`@${msg.chat.username}`));
    this.emit("command", { chatId, command, allowed } satisfies CommandEvent);
    if (!allowed) {
      this.counters.commands.refused++;
      this.log.warn(
        { event: "telegram_command_refused", chatId, chatType: msg.chat.type, command: command.slice(0, 32) },
        "Telegram command from a chat not on the allowlist ignored",
      );
      return;
    }
    if (this.clock.now() - msg.date * 1000 > (cmds.maxAgeMs ?? 10 * 60_000)) {
      this.log.info({ event: "telegram_command_stale", chatId, command }, "old Telegram command not answered");
      return;
    }
    let reply: string;
    try {
      if (command === "status") reply = cmds.status();
      else if (command === "channel") {
        if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(arg)) reply = "usage: /channel ID";
        else reply = cmds.channel(arg) ?? `unknown channel: ${arg}`;
      } else reply = "commands: /status, /channel ID";
    } catch (err) {
      this.log.error({ event: "telegram_command_failed", command, err }, "a bot command failed");
      reply = `/${command} failed; see the daemon log`;
    }
    enqueueOutbox(this.store, [{ botId, chatId, kind: "reply", payload: formatReply(reply) }], this.clock.now());
    this.counters.commands.answered++;
    this.counters.enqueued++;
    this.log.info({ event: "telegram_command", chatId, command }, `answered /${command}`);
    this.wake();
  }
}
