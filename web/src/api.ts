/**
 * The console's view of the daemon's HTTP API (docs/api.md): the shapes it reads and the two
 * ways it calls it — `getJson` for reads (open to everyone) and `act` for actions, which go with
 * the session cookie (fetch's credentials "same-origin": the browser adds the HttpOnly cookie and
 * the Origin header itself; the page never holds a token).
 */

export type ChannelState = "starting" | "on_air" | "slate" | "failed" | "stopped";
/** A tile's state: a channel's, or "refused" for a profile that did not load. */
export type TileState = ChannelState | "refused";
export type Source = "live" | "slate";

export interface Programme {
  title: string;
  start: string;
  end: string;
}

export interface NextCue {
  spliceEventId: number;
  command: string;
  at: string;
  durationSeconds?: number | null;
}

export interface OnAirCue {
  spliceEventId: number;
  at: string;
  returnAt?: string | null;
}

export interface AlertRef {
  at: string;
  kind: string;
  text: string;
}

export interface Thumbnail {
  url: string;
  seq: number;
  at: string;
}

export interface ChannelView {
  id: string;
  name: string;
  enabled: boolean;
  state: ChannelState;
  up: boolean;
  slateActive: boolean;
  source: Source;
  timeZone: string;
  currentItem: Programme | null;
  nextItem: Programme | null;
  lastCue: unknown;
  nextCue: NextCue | null;
  onAirCue: OnAirCue | null;
  restarts: number;
  outputBitrateBps: number | null;
  tr101290: Record<string, number>;
  lastAlert: AlertRef | null;
  hls: { playlist: string } | null;
  thumbnail: Thumbnail | null;
}

export interface RefusedProfile {
  file: string;
  code: string;
  message: string;
}

export interface ChannelsSnapshot {
  channels: ChannelView[];
  /** absent when no profile was refused */
  refused?: RefusedProfile[];
}

export interface CountersUpdate {
  id: string;
  outputBitrateBps: number | null;
  tr101290: Record<string, number>;
  up: boolean;
}

export type EventLevel = "info" | "warn" | "error";

export interface EventRow {
  at: string;
  kind: string;
  level: EventLevel;
  text: string;
  source: "channel" | "alert";
  channel?: string;
}

export interface ThumbnailUpdate {
  channel: string;
  seq: number;
  at: string;
}

export type SessionInfo = { signedIn: false } | { signedIn: true; name: string; expiresAt: string; idleExpiresAt: string };

export interface ScheduleItem {
  eventId?: number;
  title: string;
  start: string;
  end: string;
  breaks?: { offsetSeconds: number; durationSeconds: number }[];
}

export interface ScheduleWindow {
  channel: string;
  timeZone: string;
  from: string;
  to: string;
  items: ScheduleItem[];
  breaks: { at: string; durationSeconds: number }[];
}

export interface AsRunRow {
  id: number;
  kind: string;
  scheduled: string | null;
  actual: string;
  offsetMs: number | null;
  pts: number | null;
  eventId: number | null;
  title: string | null;
  details: unknown;
}

export interface AsRunDay {
  channel: string;
  day: string;
  timeZone: string;
  rows: AsRunRow[];
}

export interface SchedulePreview {
  format: string;
  from: string;
  to: string;
  added: ScheduleItem[];
  changed: { before: ScheduleItem; after: ScheduleItem }[];
  removed: ScheduleItem[];
  unchanged: number;
  basis: string;
}

/** An error answer of the API (`{"error": {"code", "message", …}}`) or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly line?: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The server's clock minus ours (ms), learnt from the Date header when they differ by more than 2 s. */
let skewMs = 0;

/** Now on the daemon's clock, as far as we know it (countdowns are against the daemon's times). */
export function serverNow(): number {
  return Date.now() + skewMs;
}

function learnSkew(res: Response): void {
  const date = res.headers.get("date");
  const server = date ? Date.parse(date) : NaN;
  if (Number.isFinite(server)) {
    const diff = server - Date.now();
    // the Date header has a 1 s resolution: only a real offset is worth correcting
    skewMs = Math.abs(diff) > 2000 ? diff + 500 : 0;
  }
}

export const channelPath = (id: string): string => `/api/v1/channels/${encodeURIComponent(id)}`;

async function errorOf(res: Response): Promise<ApiError> {
  let code = `HTTP_${res.status}`;
  let message = `${res.status} ${res.statusText}`.trim();
  let line: number | undefined;
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string; line?: number } };
    if (body.error) {
      code = body.error.code ?? code;
      message = body.error.message ?? message;
      line = typeof body.error.line === "number" ? body.error.line : undefined;
    }
  } catch {
    // not JSON: keep the status line
  }
  const retry = Number(res.headers.get("retry-after"));
  return new ApiError(res.status, code, message, line, Number.isFinite(retry) && retry > 0 ? retry : undefined);
}

async function request<T>(path: string, init: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin", ...init });
  } catch (e) {
    if (e instanceof DOMException && e.name === "AbortError") throw e;
    throw new ApiError(0, "NETWORK", "the daemon did not answer (network error)");
  }
  learnSkew(res);
  if (!res.ok) throw await errorOf(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** A read (GET), parsed as JSON. */
export function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return request<T>(path, { headers: { accept: "application/json" }, signal: signal ?? null });
}

/** An action: POST or DELETE with an optional JSON body or raw body (a schedule file). */
export function act<T>(method: "POST" | "DELETE", path: string, body?: { json: unknown } | { raw: Blob; type: string }): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  let payload: BodyInit | null = null;
  if (body && "json" in body) {
    headers["content-type"] = "application/json";
    payload = JSON.stringify(body.json);
  } else if (body) {
    headers["content-type"] = body.type;
    payload = body.raw;
  }
  return request<T>(path, { method, headers, body: payload });
}

/** What an operator reads when an action fails: 401 means signing in; others say the server's message. */
export function actionMessage(e: unknown): string {
  if (!(e instanceof ApiError)) return e instanceof Error ? e.message : String(e);
  if (e.status === 401) return "Sign in to act: you are not signed in (or your session ended).";
  if (e.status === 429 && e.retryAfterSeconds) return `${e.message} (try again in ${e.retryAfterSeconds} s)`;
  return e.message;
}
