/**
 * The Alerter: turns daemon events into Telegram messages that are never lost.
 *
 *   notify(alert) ─▶ rules (flapping, dedupe; rules.ts) ─▶ routes (routing.ts)
 *                 ─▶ one outbox row per chat, one transaction ─▶ sender loop (delivery.ts) ─▶ Telegram
 *
 * Its parts: routing and rules (routing.ts, rules.ts), one delivery path for the outbox and
 * for rows held in memory (delivery.ts), bot commands (commands.ts). This file wires them.
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
 * `/channel ID` from allowlisted chats through the outbox (commands.ts).
 *
 * **When the store cannot be written** (full disk, I/O error): the alert is not lost. Its
 * rows are kept in memory (at most `memoryMax`, oldest dropped and counted) and go out by
 * the same delivery path as outbox rows (same rate limits, retries and handling of every
 * answer); each round first tries to move them into the outbox, so once the store works
 * again they take the durable path. Rows kept in memory are lost if the process dies before
 * they are sent or stored.
 *
 * Secrets: bot tokens live in memory only; the outbox stores the bot id (the public
 * numeric part). Nothing logs a request URL (it carries `/bot<token>/`), and the tokens
 * are registered with the logger's SecretSet when it has one.
 */
import { EventEmitter } from "node:events";
import type { JitterKind } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import { realTimers, type Timers } from "../core/timers.js";
import { silentLogger, type Logger } from "../observe/logger.js";
import type { Store } from "../store/db.js";
import { enqueueOutbox, outboxDepth, pruneOutbox, type OutboxInput } from "../store/outbox.js";
import { BotCommands, type AlerterCommands } from "./commands.js";
import { Delivery, inc, type AlertCounters } from "./delivery.js";
import { formatAlert, type Alert } from "./messages.js";
import { AlertRouter, type BoxRoute, type ChannelAlertRoute } from "./routing.js";
import {
  AlertRules,
  ChatRateLimiter,
  DEFAULT_FLAPPING,
  DEFAULT_RATE_LIMIT,
  type FlappingSettings,
  type RateLimitSettings,
  type SuppressReason,
} from "./rules.js";
import { botIdOf, TelegramClient } from "./telegram.js";

export type { AlerterCommands, CommandEvent } from "./commands.js";
export type { AttemptFailedEvent, SentEvent } from "./delivery.js";
export { routeFromProfile, type ChannelAlertRoute } from "./routing.js";

export interface AlerterOptions {
  store: Store;
  logger?: Logger;
  clock?: Clock;
  timers?: Timers;
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
  box?: BoxRoute;
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
  { enqueued: number; alert: Alert } | { enqueued: 0; suppressed: SuppressReason | "disabled" | "no_route" | "store_error" };

export interface AlerterStats extends AlertCounters {
  /** rows waiting in the outbox (all processes) */
  outboxDepth: number;
}

/**
 * Events: "sent" (SentEvent), "attempt_failed" (AttemptFailedEvent), "dropped" (row id and
 * reason), "command" (CommandEvent), "idle" (ms until the sender's next look).
 */
export class Alerter extends EventEmitter {
  private readonly store: Store;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly rules: AlertRules;
  private readonly router: AlertRouter;
  private readonly bots = new Map<string, TelegramClient>();
  private readonly delivery: Delivery;
  private readonly commands: BotCommands | undefined;
  private readonly o: AlerterOptions;
  private started = false;
  private stopping = false;
  private closing: Promise<void> | undefined;
  private readonly counters: AlertCounters = {
    notified: 0,
    enqueued: 0,
    suppressed: {},
    sent: 0,
    failed: {},
    dropped: {},
    commands: { answered: 0, refused: 0 },
  };

  constructor(o: AlerterOptions) {
    super();
    this.o = o;
    this.store = o.store;
    this.clock = o.clock ?? systemClock;
    const timers = o.timers ?? realTimers;
    this.log = (o.logger ?? silentLogger()).child({ component: "alerts" });
    this.router = new AlertRouter(o.box);
    const defaultFlapping = o.flapping ?? DEFAULT_FLAPPING;
    this.rules = new AlertRules({
      ...(o.dedupeWindowMs !== undefined ? { dedupeWindowMs: o.dedupeWindowMs } : {}),
      flapping: (ch) => this.router.flapping(ch) ?? defaultFlapping,
    });
    const parts = { store: o.store, log: this.log, clock: this.clock, timers, counters: this.counters };
    this.delivery = new Delivery({
      ...parts,
      bots: this.bots,
      limiter: new ChatRateLimiter(o.rateLimit ?? DEFAULT_RATE_LIMIT),
      emit: (event, payload) => this.emit(event, payload),
      owner: o.owner ?? "onair",
      backoff: o.backoff,
      requestTimeoutMs: o.requestTimeoutMs,
      idlePollMs: o.idlePollMs,
      closeGraceMs: o.closeGraceMs,
      memoryMax: o.memoryMax,
    });
    if (o.commands) {
      const emit = (event: "command", payload: unknown): boolean => this.emit(event, payload);
      const queued = (): void => this.delivery.wake();
      this.commands = new BotCommands({ ...parts, commands: o.commands, router: this.router, emit, queued, random: o.backoff?.random });
    }
    if (o.box?.botToken) this.addBot(o.box.botToken);
    for (const [id, r] of Object.entries(o.channels ?? {})) this.setChannel(id, r);
    if (o.signal) {
      if (o.signal.aborted) this.stopping = true;
      else o.signal.addEventListener("abort", () => void this.close(), { once: true });
    }
  }

  /** Adds, replaces (profile reload) or removes (undefined) a channel's route. */
  setChannel(id: string, route: ChannelAlertRoute | undefined): void {
    if (route) this.addBot(route.botToken);
    this.router.set(id, route);
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
    this.delivery.start();
    for (const [botId, client] of this.bots) this.commands?.poll(botId, client);
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
    const routes = this.router.routesFor(alert);
    if (routes === "disabled" || routes.length === 0) return this.suppress(routes === "disabled" ? "disabled" : "no_route", alert);
    const payload = formatAlert(alert, { label: this.o.label });
    const rows: OutboxInput[] = routes.map((r) => ({ ...r, channel: alert.channel, kind: alert.kind, payload }));
    this.counters.enqueued += rows.length;
    try {
      enqueueOutbox(this.store, rows, this.clock.now());
      this.log.info({ event: "alert_queued", kind: alert.kind, channel: alert.channel, chats: rows.length }, `alert ${alert.kind} queued`);
    } catch (err) {
      // a full disk must not cost the alert (it is often the alert about the full disk)
      this.delivery.keep(rows);
      this.log.error(
        { event: "alert_store_error", err, kind: alert.kind, channel: alert.channel, inMemory: this.delivery.held },
        "cannot queue an alert in the outbox; it is sent from memory",
      );
    }
    this.delivery.wake();
    return { enqueued: rows.length, alert };
  }

  stats(): AlerterStats {
    let depth = -1;
    try {
      depth = outboxDepth(this.store) + this.delivery.held;
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
      const polls = this.commands?.close();
      await this.delivery.close();
      await polls;
    })();
    return this.closing;
  }

  private addBot(token: string): void {
    const id = botIdOf(token);
    const root = this.o.logger as Partial<{ secrets: { add(v: string): void } }> | undefined;
    root?.secrets?.add(token);
    if (this.bots.has(id)) return;
    const client = new TelegramClient(token, {
      apiRoot: this.o.apiRoot,
      timeoutMs: this.o.requestTimeoutMs ?? 30_000,
      fetch: this.o.fetch,
    });
    this.bots.set(id, client);
    if (this.started && !this.stopping) this.commands?.poll(id, client);
  }

  private suppress(reason: SuppressReason | "disabled" | "no_route" | "store_error", a: Alert): NotifyResult {
    inc(this.counters.suppressed, reason);
    this.log.debug({ event: "alert_suppressed", reason, kind: a.kind, channel: a.channel }, `alert ${a.kind} not sent: ${reason}`);
    return { enqueued: 0, suppressed: reason };
  }
}
