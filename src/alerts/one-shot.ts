/**
 * One alert sent by a short-lived process with no daemon (`onair alert unit-failed`, run
 * by systemd's OnFailure= when a unit hit its start limit).
 *
 * Contract: `sendOneShot` tries every chat until Telegram accepts it, refuses it for good
 * (400/403) or `retryForMs` has passed since the call; 5xx, 429 and network errors are
 * retried with capped backoff (1 s … 15 s, decorrelated jitter, never past the deadline;
 * each request is cut at the time left). Chats still unsent at the deadline are returned
 * in `pending`; the caller writes them to the store's alert outbox, where the daemon's
 * Alerter sends them once it runs again with the same bot token. Never throws; the token
 * never appears in a result.
 */
import { Backoff } from "../core/backoff.js";
import { systemClock, type Clock } from "../core/clock.js";
import { realTimers, type Timers } from "../core/timers.js";
import { TelegramClient, type SendOutcome } from "./telegram.js";

export interface OneShotOptions {
  token: string;
  chatIds: readonly string[];
  /** Telegram HTML */
  text: string;
  /** total retry budget from the call, ms */
  retryForMs: number;
  apiRoot?: string | undefined;
  clock?: Clock;
  /** the backoff waits (default `realTimers`: a pending retry keeps the one-shot process alive) */
  timers?: Timers;
}

export interface OneShotResult {
  sent: string[];
  /** Telegram refused these for good (400/403): not worth keeping */
  refused: Array<{ chatId: string; description: string }>;
  /** still failing at the deadline: for the outbox */
  pending: Array<{ chatId: string; description: string }>;
  attempts: number;
}

const MIN_REQUEST_MS = 1000;
const MAX_REQUEST_MS = 30_000;

export async function sendOneShot(o: OneShotOptions): Promise<OneShotResult> {
  const clock = o.clock ?? systemClock;
  const timers = o.timers ?? realTimers;
  const deadline = clock.monotonic() + o.retryForMs;
  const result: OneShotResult = { sent: [], refused: [], pending: [], attempts: 0 };
  const backoff = new Backoff({ minMs: 1000, maxMs: 15_000, clock });
  let waiting = [...new Set(o.chatIds)];
  for (;;) {
    const left = deadline - clock.monotonic();
    const timeoutMs = Math.ceil(Math.min(MAX_REQUEST_MS, Math.max(MIN_REQUEST_MS, left)));
    const client = new TelegramClient(o.token, { apiRoot: o.apiRoot, timeoutMs });
    const failed: Array<{ chatId: string; outcome: SendOutcome & { ok: false } }> = [];
    for (const chatId of waiting) {
      result.attempts++;
      const r = await client.sendMessage(chatId, o.text);
      if (r.ok) result.sent.push(chatId);
      else if (r.retry === "never") result.refused.push({ chatId, description: r.description });
      else failed.push({ chatId, outcome: r });
    }
    waiting = failed.map((f) => f.chatId);
    if (waiting.length === 0) return result;
    const after = Math.max(backoff.next(), ...failed.map((f) => (f.outcome.retry === "after" ? f.outcome.retryAfterMs : 0)));
    const remaining = deadline - clock.monotonic();
    if (after >= remaining) {
      result.pending = failed.map((f) => ({ chatId: f.chatId, description: f.outcome.description }));
      return result;
    }
    await new Promise<void>((resolve) => timers.setTimeout(resolve, after));
  }
}
