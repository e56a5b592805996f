/**
 * A thin Telegram client over node-telegram-bot-api's `Api` (its `apiRoot` and `fetch`
 * options let tests point it at a local server). The library's own retries are off
 * (`maxRetries: 0`): the outbox owns retrying, with the injected clock, so a retry
 * survives a restart and tests drive time.
 *
 * Results are classified, never thrown, and carry no URL: the request URL contains
 * `/bot<token>/`, so nothing here logs or returns it.
 */
import { Api, NetworkError, ParseError, TelegramApiError, TimeoutError, type Update } from "node-telegram-bot-api";

export type { Update } from "node-telegram-bot-api";

export const DEFAULT_API_ROOT = "https://api.telegram.org";

/** Why an attempt failed (metrics label). */
export type FailureReason =
  | "rate_limited"
  | "server_error"
  | "network"
  | "timeout"
  | "bad_response"
  | "unauthorized"
  | "bad_request"
  | "forbidden"
  | "html_parse"
  | "conflict"
  | "aborted";

export type SendOutcome =
  | { ok: true }
  /** 429: wait `retryAfterMs`, then try the same message again */
  | { ok: false; retry: "after"; retryAfterMs: number; reason: "rate_limited"; description: string }
  /** 5xx, network, timeout, an unusable answer, or a bad token: try again with backoff */
  | { ok: false; retry: "backoff"; reason: FailureReason; description: string }
  /** 400/403: Telegram will never take this message; drop it and move on */
  | { ok: false; retry: "never"; reason: FailureReason; description: string };

export interface TelegramClientOptions {
  /** default https://api.telegram.org */
  apiRoot?: string | undefined;
  /** per-request timeout, ms (default 30 000; getUpdates adds its long-poll time) */
  timeoutMs?: number | undefined;
  fetch?: typeof fetch | undefined;
}

/** The bot id: the public numeric part of a token (`123456:ABC…` → `123456`). */
export function botIdOf(token: string): string {
  const i = token.indexOf(":");
  return i > 0 ? token.slice(0, i) : "unknown";
}

export class TelegramClient {
  readonly botId: string;
  private readonly api: Api;

  constructor(token: string, o: TelegramClientOptions = {}) {
    this.botId = botIdOf(token);
    this.api = new Api(token, {
      apiRoot: o.apiRoot ?? DEFAULT_API_ROOT,
      maxRetries: 0,
      timeoutMs: o.timeoutMs ?? 30_000,
      ...(o.fetch ? { fetch: o.fetch } : {}),
    });
  }

  /** Sends one message; HTML unless `plain`. Link previews off (alerts carry no links worth a card). */
  async sendMessage(chatId: string, text: string, signal?: AbortSignal, plain = false): Promise<SendOutcome> {
    try {
      await this.api.sendMessage(
        {
          chat_id: chatId,
          text,
          ...(plain ? {} : { parse_mode: "HTML" }),
          link_preview_options: { is_disabled: true },
        },
        signal,
      );
      return { ok: true };
    } catch (err) {
      return classify(err, signal);
    }
  }

  /** One long poll. Throws the classified outcome's description on failure (an Error without the URL). */
  async getUpdates(offset: number | undefined, timeoutSec: number, signal?: AbortSignal): Promise<Update[]> {
    try {
      return await this.api.getUpdates(
        { ...(offset !== undefined ? { offset } : {}), timeout: timeoutSec, allowed_updates: ["message", "channel_post"] },
        signal,
      );
    } catch (err) {
      const c = classify(err, signal);
      throw new TelegramRequestError(
        c.ok ? "unknown" : c.reason,
        c.ok ? "" : c.description,
        c.ok || c.retry !== "after" ? undefined : c.retryAfterMs,
      );
    }
  }
}

/** A failed getUpdates, already classified; its message never holds the URL. */
export class TelegramRequestError extends Error {
  constructor(
    readonly reason: FailureReason | "unknown",
    description: string,
    readonly retryAfterMs?: number,
  ) {
    super(`telegram ${reason}: ${description}`);
    this.name = "TelegramRequestError";
  }
}

function classify(err: unknown, signal: AbortSignal | undefined): SendOutcome & { ok: false } {
  if (signal?.aborted) return { ok: false, retry: "backoff", reason: "aborted", description: "aborted" };
  if (err instanceof TelegramApiError) {
    const d = `${err.errorCode} ${err.description}`;
    if (err.errorCode === 429) {
      return { ok: false, retry: "after", retryAfterMs: Math.max(1, err.retryAfter ?? 1) * 1000, reason: "rate_limited", description: d };
    }
    if (err.errorCode >= 500) return { ok: false, retry: "backoff", reason: "server_error", description: d };
    // a wrong or revoked token: every message would fail alike; keep them for when it is fixed
    if (err.errorCode === 401 || err.errorCode === 404) return { ok: false, retry: "backoff", reason: "unauthorized", description: d };
    if (err.errorCode === 403) return { ok: false, retry: "never", reason: "forbidden", description: d };
    if (err.errorCode === 400 && /parse entities|can't parse|unsupported start tag|unclosed/i.test(err.description)) {
      return { ok: false, retry: "never", reason: "html_parse", description: d };
    }
    // getUpdates while another poller or a webhook is active
    if (err.errorCode === 409) return { ok: false, retry: "backoff", reason: "conflict", description: d };
    return { ok: false, retry: "never", reason: "bad_request", description: d };
  }
  if (err instanceof TimeoutError) return { ok: false, retry: "backoff", reason: "timeout", description: "request timed out" };
  if (err instanceof ParseError) return { ok: false, retry: "backoff", reason: "bad_response", description: "answer is not JSON" };
  if (err instanceof NetworkError) {
    const server = /^Server error (\d+)/.exec(err.message);
    if (server) return { ok: false, retry: "backoff", reason: "server_error", description: `HTTP ${server[1]}` };
    const cause = (err.cause as { cause?: { code?: unknown }; code?: unknown } | undefined) ?? {};
    const code = cause.cause?.code ?? cause.code;
    return { ok: false, retry: "backoff", reason: "network", description: typeof code === "string" ? code : "network error" };
  }
  return { ok: false, retry: "backoff", reason: "network", description: err instanceof Error ? err.name : "error" };
}
