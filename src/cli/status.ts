/**
 * `onair status [--channel ID] [--json] [--url URL]`: the running daemon's channels, from its
 * HTTP API (`GET /api/v1/channels`, `GET /api/v1/channels/:id`).
 *
 * Also the small API client `onair cue` shares (`apiUrl`, `callApi`): errors have stable
 * codes —
 *   ONAIR_API_UNREACHABLE   no answer at the URL (refused, reset, timeout), with the URL
 *   ONAIR_API_UNAUTHORIZED  401 (no or wrong bearer token)
 *   ONAIR_API_NOT_FOUND     404 (unknown channel or route)
 *   ONAIR_API_ERROR         any other non-2xx, with the server's error code and message
 */
import type { Command } from "commander";
import { OnairError } from "../core/errors.js";
import type { ChannelView, CueView } from "../observe/http.js";
import { out } from "./io.js";

export const DEFAULT_API_URL = "http://127.0.0.1:9780";
const REQUEST_TIMEOUT_MS = 10_000;

/** `--url`, else ONAIR_URL, else http://127.0.0.1:9780; checked, without a trailing slash. */
export function apiUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const raw = flag || env.ONAIR_URL || DEFAULT_API_URL;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new OnairError("ONAIR_CLI_BAD_URL", `--url "${raw}" is not a URL (e.g. ${DEFAULT_API_URL})`, { value: raw });
  }
  if (u.protocol !== "http:" && u.protocol !== "https:") {
    throw new OnairError("ONAIR_CLI_BAD_URL", `--url "${raw}" is not an http(s) URL`, { value: raw });
  }
  return u.href.replace(/\/+$/, "");
}

/** The URL as shown in messages: without credentials. */
function shown(url: string): string {
  const u = new URL(url);
  u.username = "";
  u.password = "";
  return u.href.replace(/\/+$/, "");
}

export interface ApiCall {
  method?: "GET" | "POST" | "DELETE";
  /** bearer token (mutating calls) */
  token?: string;
  body?: unknown;
}

/** One request to the daemon's API; resolves with the parsed JSON of a 2xx answer. */
export async function callApi<T>(base: string, path: string, call: ApiCall = {}): Promise<T> {
  const url = `${base}${path}`;
  const headers: Record<string, string> = { accept: "application/json" };
  if (call.token) headers.authorization = `Bearer ${call.token}`;
  if (call.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(url, {
      method: call.method ?? "GET",
      headers,
      ...(call.body !== undefined ? { body: JSON.stringify(call.body) } : {}),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      redirect: "error",
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: unknown; message?: unknown } }).cause;
    const why =
      e instanceof Error && e.name === "TimeoutError"
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`
        : typeof cause?.code === "string"
          ? cause.code
          : typeof cause?.message === "string"
            ? cause.message
            : e instanceof Error
              ? e.message
              : String(e);
    const message = `cannot reach the daemon at ${shown(base)} (${why}); is onair running, and is --url right?`;
    throw new OnairError("ONAIR_API_UNREACHABLE", message, { url: shown(base), reason: why });
  }
  const text = await res.text().catch(() => "");
  let json: unknown;
  try {
    json = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    json = undefined;
  }
  if (res.ok) {
    if (json === undefined)
      throw new OnairError("ONAIR_API_ERROR", `the daemon at ${shown(base)} answered ${res.status} without JSON`, { status: res.status });
    return json as T;
  }
  const err = (json as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  const code = typeof err?.code === "string" ? err.code : undefined;
  const message = typeof err?.message === "string" ? err.message : res.statusText;
  const fields = { status: res.status, url: shown(url), ...(code ? { serverCode: code } : {}) };
  if (res.status === 401)
    throw new OnairError("ONAIR_API_UNAUTHORIZED", `the daemon refused the API token (${message}); check --api-token-file`, fields);
  if (res.status === 404) throw new OnairError("ONAIR_API_NOT_FOUND", `not found: ${message}`, fields);
  throw new OnairError("ONAIR_API_ERROR", `the daemon answered ${res.status}${code ? ` ${code}` : ""}: ${message}`, fields);
}

// ── the table ─────────────────────────────────────────────────────────────────

/** `12:00:05Z` today, else the date too. */
function when(iso: string, now = Date.now()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const s = d.toISOString();
  return s.slice(0, 10) === new Date(now).toISOString().slice(0, 10) ? `${s.slice(11, 19)}Z` : `${s.slice(0, 19)}Z`;
}

function cueText(c: CueView | null): string {
  if (!c) return "-";
  const dur = c.durationSeconds !== null ? ` ${Math.round(c.durationSeconds * 10) / 10}s` : "";
  return `#${c.spliceEventId} ${when(c.at)}${dur}`;
}

function cell(s: string, max = 40): string {
  const clean = s.replace(/[\u0000-\u001f\u007f]/g, " ");
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** The readable table of `onair status`. */
export function statusTable(channels: readonly ChannelView[]): string {
  if (channels.length === 0) return "no channels";
  const head = ["CHANNEL", "STATE", "UP", "SOURCE", "CURRENT ITEM", "NEXT CUE"];
  const rows = channels.map((c) => {
    const source = typeof c.source === "string" ? c.source : c.slateActive ? "slate" : "live";
    const item = c.currentItem ? `${c.currentItem.title}${c.currentItem.end ? ` (until ${when(c.currentItem.end)})` : ""}` : "-";
    return [cell(c.id), cell(c.state), c.up ? "yes" : "no", cell(c.slateActive ? "slate" : source), cell(item), cueText(c.nextCue)];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((v, i) => (i === r.length - 1 ? v : v.padEnd(widths[i]))).join("  ")).join("\n");
}

interface StatusFlags {
  url?: string;
  channel?: string;
  json?: boolean;
}

export function registerStatus(program: Command): void {
  program
    .command("status")
    .description("show the running daemon's channels (state, source, current item, next cue)")
    .option("--url <url>", `the daemon's HTTP API (default: $ONAIR_URL, else ${DEFAULT_API_URL})`)
    .option("--channel <id>", "only this channel")
    .option("--json", "print the API's JSON")
    .action(async (f: StatusFlags) => {
      const base = apiUrl(f.url);
      const channels = f.channel
        ? [await callApi<ChannelView>(base, `/api/v1/channels/${encodeURIComponent(f.channel)}`)]
        : ((await callApi<{ channels: ChannelView[] }>(base, "/api/v1/channels")).channels ?? []);
      if (f.json) out(JSON.stringify(f.channel ? channels[0] : { channels }, null, 2));
      else out(statusTable(channels));
    });
}
