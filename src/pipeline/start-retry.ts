/**
 * A channel start that failed is tried again (FFmpeg missing, a slate clip that cannot be
 * encoded, a playlist that cannot be prepared): with the same capped exponential backoff and
 * jitter as the channel's FFmpeg (core/backoff.ts with the profile's `restart` settings),
 * one `channel_start_failed` log line per failed attempt (attempt, nextRetryInMs, the
 * error), until it starts (`channel_started`, with the attempts it took), it has failed
 * `restart.maxRetries` times after the first (`channel_start_abandoned`; null retries for
 * ever), or `cancel()`. The channel shows `failed` meanwhile (Channel.start() sets it).
 */
import type { Logger } from "pino";
import { Backoff } from "../core/backoff.js";
import { realTimers, type Timers } from "../core/timers.js";

export interface StartRetryOptions {
  channel: string;
  /** one attempt; throws when it failed (and leaves nothing running) */
  start: () => Promise<void>;
  restart: { backoffMinSeconds: number; backoffMaxSeconds: number; maxRetries: number | null };
  logger: Pick<Logger, "info" | "error">;
  /** each failed attempt (from 1); nextRetryInMs null: given up */
  onFailed?: (e: { attempt: number; error: unknown; nextRetryInMs: number | null }) => void;
  /** uniform [0, 1) for the jitter (default Math.random) */
  random?: () => number;
  timers?: Timers;
}

export class StartRetry {
  private readonly backoff: Backoff;
  private readonly timers: Timers;
  private timer: unknown;
  private inflight: Promise<void> | undefined;
  private cancelled = false;
  private attempts = 0;

  constructor(private readonly o: StartRetryOptions) {
    this.backoff = new Backoff({ minMs: o.restart.backoffMinSeconds * 1000, maxMs: o.restart.backoffMaxSeconds * 1000, random: o.random });
    this.timers = o.timers ?? realTimers;
  }

  /** The first attempt: resolves when it is done, started or failed (a retry then waits). Never throws. */
  run(): Promise<void> {
    this.inflight = this.attempt();
    return this.inflight;
  }

  /** No more attempts; resolves once an attempt under way has ended (then stop the channel). */
  async cancel(): Promise<void> {
    this.cancelled = true;
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    await this.inflight;
  }

  private async attempt(): Promise<void> {
    this.timer = undefined;
    if (this.cancelled) return;
    this.attempts++;
    try {
      await this.o.start();
      this.o.logger.info({ event: "channel_started", channel: this.o.channel, attempts: this.attempts });
    } catch (error) {
      if (this.cancelled) return;
      const max = this.o.restart.maxRetries;
      const nextRetryInMs = max !== null && this.attempts > max ? null : Math.round(this.backoff.next());
      const code = (error as { code?: unknown }).code;
      this.o.logger.error({
        event: "channel_start_failed",
        channel: this.o.channel,
        attempt: this.attempts,
        nextRetryInMs,
        code,
        err: error,
      });
      this.o.onFailed?.({ attempt: this.attempts, error, nextRetryInMs });
      if (nextRetryInMs === null) {
        const message = "restart.maxRetries reached: the channel stays off until a reload";
        this.o.logger.error({ event: "channel_start_abandoned", channel: this.o.channel, attempts: this.attempts, message });
        return;
      }
      this.timer = this.timers.setTimeout(() => {
        this.inflight = this.attempt();
      }, nextRetryInMs);
    }
  }
}
