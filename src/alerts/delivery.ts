/**
 * Delivery: the one path by which a waiting message reaches Telegram, whether it waits in
 * the store's outbox (durable, shared between processes) or in memory (the store could not
 * be written). Both are a `WaitingQueue`; the sender loop treats them alike:
 *
 *   each round: memory → outbox if the store takes it again;
 *               for memory, then the outbox: the oldest message of each (bot, chat) that is
 *               due (its lease, next attempt and the chat's rate limit) is claimed and sent,
 *               one request per round; else sleep until the earliest is due (or a wake).
 *
 * An answer is handled the same way for both (see alerter.ts for the policy): `ok` → sent;
 * HTML refused → once again as plain text; 400/403 → given up; 429 → `retry_after`; others →
 * capped exponential backoff per chat. Only what a queue does with the outcome differs: the
 * outbox writes it to its row, memory keeps or forgets the row.
 */
import { Backoff, type JitterKind } from "../core/backoff.js";
import type { Clock } from "../core/clock.js";
import type { Timers } from "../core/timers.js";
import type { Logger } from "../observe/logger.js";
import type { Store } from "../store/db.js";
import {
  claimOutboxRow,
  enqueueOutbox,
  markOutboxFailed,
  markOutboxRetry,
  markOutboxSent,
  outboxHeads,
  type OutboxInput,
  type OutboxRow,
} from "../store/outbox.js";
import { htmlToText } from "./text.js";
import type { ChatRateLimiter } from "./rules.js";
import type { FailureReason, SendOutcome, TelegramClient } from "./telegram.js";

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

/** The Alerter's counters, shared by its parts (its `stats()`). */
export interface AlertCounters {
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
  commands: { answered: number; refused: number };
}

export const inc = (m: Record<string, number>, k: string): void => {
  m[k] = (m[k] ?? 0) + 1;
};

/** Waits `ms` on `timers`, or until `signal` aborts. */
export function pause(timers: Timers, ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = (): void => {
      timers.clearTimeout(handle);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const handle = timers.setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Where messages wait. A message is an `OutboxRow`; one held in memory has id 0 and no lease.
 * `heads()` is the oldest waiting message of each (bot, chat), oldest first; `claim` takes one
 * for an attempt (counted) or answers undefined when it is no longer to be sent by us.
 */
interface WaitingQueue {
  heads(): readonly OutboxRow[];
  claim(head: OutboxRow, nowMs: number): OutboxRow | undefined;
  sent(m: OutboxRow, nowMs: number): void;
  refused(m: OutboxRow, nowMs: number, description: string): void;
  retry(m: OutboxRow, atMs: number, why: string): void;
}

export interface DeliveryOptions {
  store: Store;
  log: Logger;
  clock: Clock;
  timers: Timers;
  /** the bots this process has tokens for, by bot id */
  bots: ReadonlyMap<string, TelegramClient>;
  limiter: ChatRateLimiter;
  counters: AlertCounters;
  emit: (event: "sent" | "attempt_failed" | "dropped" | "idle", payload: unknown) => void;
  /** lease owner name (see alerter.ts) */
  owner: string;
  backoff?: { minMs?: number; maxMs?: number; jitter?: JitterKind; random?: () => number } | undefined;
  requestTimeoutMs?: number | undefined;
  idlePollMs?: number | undefined;
  closeGraceMs?: number | undefined;
  memoryMax?: number | undefined;
}

const queueOf = (m: OutboxInput): string => `${m.botId}:${m.chatId}`;

export class Delivery {
  private readonly o: DeliveryOptions;
  private readonly log: Logger;
  private readonly backoffs = new Map<string, Backoff>();
  private readonly unknownBots = new Set<string>();
  private readonly failingQueues = new Set<string>();
  /** rows the outbox could not take, oldest first */
  private readonly memory: OutboxRow[] = [];
  private readonly outboxQueue: WaitingQueue;
  private readonly memoryQueue: WaitingQueue;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private kick: (() => void) | undefined;
  private kicked = false;
  private inflight: Promise<unknown> | undefined;
  private stopping = false;

  constructor(o: DeliveryOptions) {
    this.o = o;
    this.log = o.log;
    this.outboxQueue = this.outbox();
    this.memoryQueue = this.inMemory();
  }

  /** Messages held in memory. */
  get held(): number {
    return this.memory.length;
  }

  /** Starts the sender loop. */
  start(): void {
    this.loop ??= this.senderLoop();
  }

  /** A new message waits: the sender looks at once. */
  wake(): void {
    this.kicked = true;
    this.kick?.();
  }

  /** Keeps rows the outbox could not take; beyond `memoryMax` the oldest is dropped and counted. */
  keep(rows: readonly OutboxInput[]): void {
    const now = this.o.clock.now();
    const max = Math.max(1, this.o.memoryMax ?? 500);
    for (const r of rows) {
      if (this.memory.length >= max) {
        const lost = this.memory.shift() as OutboxRow;
        inc(this.o.counters.dropped, "memory_full");
        this.log.error(
          { event: "alert_dropped", kind: lost.kind, chatId: lost.chatId, reason: "memory_full" },
          "alert lost: the outbox cannot be written and the memory queue is full",
        );
      }
      this.memory.push({ ...r, id: 0, createdMs: now, attempts: 0, nextAttemptMs: now });
    }
  }

  /**
   * Stops: no new message is taken, an in-flight request gets `closeGraceMs` to finish, then
   * it is aborted. Resolves when the sender loop has ended.
   */
  async close(): Promise<void> {
    this.stopping = true;
    this.wake();
    const inflight = this.inflight;
    if (inflight) {
      let handle: unknown;
      await Promise.race([
        inflight,
        new Promise<void>((resolve) => {
          handle = this.o.timers.setTimeout(resolve, this.o.closeGraceMs ?? 2000);
        }),
      ]);
      this.o.timers.clearTimeout(handle);
    }
    this.abort.abort();
    await this.loop;
  }

  private async senderLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!this.stopping && !signal.aborted) {
      this.kicked = false;
      const r = await this.round(signal);
      if (r === "sent") continue;
      this.o.emit("idle", r);
      await this.sleep(r, signal);
    }
  }

  /** One look at both queues: "sent" after one request, else the ms until the next is due. */
  private async round(signal: AbortSignal): Promise<number | "sent"> {
    let waitMs = this.o.idlePollMs ?? 60_000;
    if (this.memory.length > 0 && this.flushMemory()) waitMs = 0;
    for (const q of [this.memoryQueue, this.outboxQueue]) {
      if (q === this.memoryQueue && this.memory.length === 0) continue;
      try {
        const r = await this.sendOne(q, signal);
        if (r === "sent") return r;
        waitMs = Math.min(waitMs, r);
      } catch (err) {
        if (signal.aborted) return "sent";
        this.log.error({ event: "alert_store_error", err }, "alert sender: store error");
        waitMs = Math.min(waitMs, 5000);
      }
    }
    return waitMs;
  }

  /** Memory → outbox once the store takes writes again (then they take the durable path). */
  private flushMemory(): boolean {
    try {
      enqueueOutbox(this.o.store, this.memory, this.o.clock.now());
    } catch {
      return false; // still failing: they are sent from memory
    }
    this.log.info({ event: "alert_outbox_resumed", rows: this.memory.length }, "alerts held in memory are in the outbox again");
    this.memory.length = 0;
    return true;
  }

  /** Sends the first due head of `q`: "sent", or the ms until one is due. */
  private async sendOne(q: WaitingQueue, signal: AbortSignal): Promise<number | "sent"> {
    const now = this.o.clock.now();
    let waitMs = Number.POSITIVE_INFINITY;
    for (const head of q.heads()) {
      if (this.stopping) break;
      const client = this.clientOf(head.botId);
      if (!client) continue;
      const queue = queueOf(head);
      const due = this.dueInMs(head, queue, now);
      if (due > 0) {
        waitMs = Math.min(waitMs, due);
        continue;
      }
      const m = q.claim(head, now);
      if (!m) continue;
      this.o.limiter.record(queue, this.o.clock.monotonic());
      const p = this.deliver(client, m, q, signal);
      this.inflight = p;
      await p;
      this.inflight = undefined;
      return "sent"; // re-read the heads: new rows, order, and fairness between chats
    }
    return waitMs;
  }

  private clientOf(botId: string): TelegramClient | undefined {
    const client = this.o.bots.get(botId);
    if (!client && !this.unknownBots.has(botId)) {
      this.unknownBots.add(botId);
      this.log.warn({ event: "alert_unknown_bot", botId }, "outbox rows for a bot this process has no token for; left waiting");
    }
    return client;
  }

  /** 0 when a head may go now, else how long its lease (another process's), retry or rate limit holds it. */
  private dueInMs(head: OutboxRow, queue: string, now: number): number {
    if (head.leaseOwner !== undefined && head.leaseOwner !== this.o.owner && (head.leaseUntilMs ?? 0) > now) {
      return (head.leaseUntilMs ?? now) - now;
    }
    if (head.nextAttemptMs > now) return head.nextAttemptMs - now;
    return this.o.limiter.waitMs(queue, this.o.clock.monotonic());
  }

  /** One attempt of a claimed message, and what its queue does with the answer. */
  private async deliver(client: TelegramClient, m: OutboxRow, q: WaitingQueue, signal: AbortSignal): Promise<void> {
    let res: SendOutcome = await client.sendMessage(m.chatId, m.payload, signal);
    if (!res.ok && res.reason === "html_parse") {
      inc(this.o.counters.failed, "html_parse");
      this.log.warn(
        { event: "alert_html_refused", id: m.id, description: res.description },
        "Telegram refused the HTML; sending as plain text",
      );
      res = await client.sendMessage(m.chatId, htmlToText(m.payload), signal, true);
    }
    const now = this.o.clock.now();
    const queue = queueOf(m);
    if (res.ok) {
      q.sent(m, now);
      this.o.counters.sent++;
      this.backoffOf(queue).reset();
      if (this.failingQueues.delete(queue)) {
        this.log.info({ event: "alert_delivery_resumed", chatId: m.chatId }, "Telegram accepts alerts again");
      }
      this.o.emit("sent", { id: m.id, chatId: m.chatId, kind: m.kind } satisfies SentEvent);
      return;
    }
    // shutting down mid-request: Telegram may or may not have it; it goes again on restart
    if (res.reason === "aborted") return q.retry(m, now, "aborted at shutdown");
    inc(this.o.counters.failed, res.reason);
    if (res.retry === "never") {
      q.refused(m, now, res.description);
      inc(this.o.counters.dropped, res.reason);
      const fields = { event: "alert_dropped", id: m.id, chatId: m.chatId, kind: m.kind, reason: res.reason, description: res.description };
      this.log.error(fields, "Telegram refused an alert for good");
      this.o.emit("dropped", { id: m.id, reason: res.reason });
      return;
    }
    const delay = res.retry === "after" ? res.retryAfterMs : Math.round(this.backoffOf(queue).next());
    q.retry(m, now + delay, `${res.reason}: ${res.description}`);
    if (!this.failingQueues.has(queue)) {
      this.failingQueues.add(queue);
      this.log.warn(
        { event: "alert_send_failed", chatId: m.chatId, reason: res.reason, description: res.description, retryInMs: delay },
        "cannot deliver alerts to Telegram; they wait in the outbox",
      );
    }
    this.o.emit("attempt_failed", { id: m.id, chatId: m.chatId, reason: res.reason, retryInMs: delay } satisfies AttemptFailedEvent);
  }

  private outbox(): WaitingQueue {
    const store = this.o.store;
    const leaseMs = (this.o.requestTimeoutMs ?? 30_000) + 10_000;
    return {
      heads: () => outboxHeads(store),
      claim: (head, now) => claimOutboxRow(store, head.id, this.o.owner, now + leaseMs, now),
      sent: (m, now) => {
        markOutboxSent(store, m.id, now);
        this.log.debug({ event: "alert_sent", id: m.id, chatId: m.chatId, kind: m.kind, attempts: m.attempts }, "alert sent");
      },
      refused: (m, now, description) => markOutboxFailed(store, m.id, now, description),
      retry: (m, atMs, why) => markOutboxRetry(store, m.id, atMs, why),
    };
  }

  private inMemory(): WaitingQueue {
    const forget = (m: OutboxRow): void => {
      const i = this.memory.indexOf(m);
      if (i >= 0) this.memory.splice(i, 1);
    };
    return {
      heads: () => {
        // one chat's messages in order: only its oldest row
        const heads = new Map<string, OutboxRow>();
        for (const m of this.memory) if (!heads.has(queueOf(m))) heads.set(queueOf(m), m);
        return [...heads.values()];
      },
      claim: (head) => {
        head.attempts++;
        return head;
      },
      sent: (m) => {
        forget(m);
        const fields = { event: "alert_sent_from_memory", chatId: m.chatId, kind: m.kind, attempts: m.attempts };
        this.log.info(fields, "alert sent without the outbox");
      },
      refused: (m) => forget(m),
      retry: (m, atMs) => {
        m.nextAttemptMs = atMs;
      },
    };
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
        clock: this.o.clock,
      });
      this.backoffs.set(queue, b);
    }
    return b;
  }

  /** Waits `ms`, or until woken (new row, close) or aborted. */
  private sleep(ms: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.kicked) {
      this.kicked = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.o.timers.clearTimeout(handle);
        signal.removeEventListener("abort", done);
        this.kick = undefined;
        this.kicked = false;
        resolve();
      };
      const handle = this.o.timers.setTimeout(done, Math.max(0, ms));
      signal.addEventListener("abort", done, { once: true });
      this.kick = done;
    });
  }
}
