/**
 * `onair cue --channel ID --duration SECONDS [--at TIME] [--url URL] [--api-token-file FILE]`:
 * asks the running daemon for a break (`POST /api/v1/channels/:id/cues`), which splices at
 * the first IDR after now + preroll, or at TIME (at most 7 days ahead). Prints the
 * splice_event_id. The duration (1 s to 24 h) and the 7-day horizon are checked here first,
 * with the codes the API uses (schedule/cue-limits.ts); a time in the past is refused by the
 * daemon (ONAIR_API_ERROR naming ONAIR_CUE_IN_PAST), whose clock decides what "now" is.
 *
 * `onair cue --channel ID --return EVENT_ID` ends a break on air early
 * (`POST …/cues/:eventId/return`: an in cue on the first IDR after the preroll) and
 * `onair cue --channel ID --cancel EVENT_ID` cancels a pending one (`DELETE …/cues/:eventId`).
 * Exactly one of --duration, --return and --cancel is given (ONAIR_CLI_BAD_OPTION otherwise).
 *
 * The token comes from the same file the daemon reads (`--api-token-file`, else
 * ONAIR_API_TOKEN_FILE, else /etc/onair/api.token): its first token (`name:token` or a bare
 * token; blank lines and `#` comments skipped).
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { OnairError } from "../core/errors.js";
import { checkCueDuration, checkCueTime } from "../schedule/cue-limits.js";
import { out } from "./io.js";
import { parseCliTime } from "./time.js";
import { DEFAULT_API_URL, apiUrl, callApi } from "./status.js";

const TOKEN_NAME_RE = /^[A-Za-z0-9_.@-]{1,64}$/;

/** The first token of token file text (the daemon's format), or undefined. */
export function firstToken(text: string): string | undefined {
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    const named = colon > 0 && TOKEN_NAME_RE.test(line.slice(0, colon));
    const token = named ? line.slice(colon + 1).trim() : line;
    if (token) return token;
  }
  return undefined;
}

/** Reads the API token from the token file at `path`; errors name the file, never its content. */
export function readApiToken(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_API_TOKEN_FILE", `cannot read the API token file ${path} (${code}); pass --api-token-file`, {
      path,
      errno: code,
    });
  }
  const token = firstToken(text);
  if (!token) throw new OnairError("ONAIR_API_TOKEN_FILE", `no token in ${path}`, { path });
  return token;
}

/** --duration: a number of seconds (ONAIR_CLI_BAD_DURATION), 1 to 86400 (ONAIR_CUE_BAD_DURATION, as the API). */
function duration(s: string): number {
  const n = /^\d+(\.\d+)?$/.test(s.trim()) ? Number(s) : NaN;
  if (Number.isNaN(n)) throw new OnairError("ONAIR_CLI_BAD_DURATION", `--duration "${s}" is not a number of seconds`, { value: s });
  checkCueDuration(n);
  return n;
}

/**
 * --at: "now", or a time at most 7 days ahead (ONAIR_CUE_BEYOND_HORIZON, as the API). Whether
 * it is in the past is the daemon's call, on its clock: it answers 400 ONAIR_CUE_IN_PAST.
 */
function spliceTime(s: string | undefined, nowMs: number): string {
  if (!s || s === "now") return "now";
  const atMs = parseCliTime(s, "--at");
  if (atMs > nowMs) checkCueTime(atMs, nowMs);
  return new Date(atMs).toISOString();
}

/** --return / --cancel: a splice_event_id, 0 to 2^32 - 1 (ONAIR_CLI_BAD_ARG). */
function eventId(s: string, flag: string): number {
  const n = /^\d{1,10}$/.test(s.trim()) ? Number(s) : NaN;
  if (!(n <= 0xffffffff))
    throw new OnairError("ONAIR_CLI_BAD_ARG", `${flag} "${s}" is not a splice_event_id (0 to 4294967295)`, { value: s });
  return n;
}

/** Which call the flags ask for: exactly one of --duration, --return, --cancel. */
function cueAction(f: CueFlags): { kind: "add"; duration: string } | { kind: "return" | "cancel"; id: number } {
  const given = [f.duration, f.return, f.cancel].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new OnairError("ONAIR_CLI_BAD_OPTION", "give exactly one of --duration (a new break), --return ID or --cancel ID", { given });
  }
  if (f.return !== undefined) return { kind: "return", id: eventId(f.return, "--return") };
  if (f.cancel !== undefined) return { kind: "cancel", id: eventId(f.cancel, "--cancel") };
  return { kind: "add", duration: f.duration ?? "" };
}

interface CueFlags {
  channel: string;
  duration?: string;
  return?: string;
  cancel?: string;
  at?: string;
  url?: string;
  apiTokenFile?: string;
  json?: boolean;
}

interface CueAnswer {
  channel: string;
  spliceEventId: number;
  at: string | null;
}

export function registerCue(program: Command): void {
  program
    .command("cue")
    .description("ask the running daemon for an ad break now or at a time (SCTE-35 cue), end one early or cancel one")
    .requiredOption("--channel <id>", "channel id")
    .option("--duration <seconds>", "break duration in seconds (a new break)")
    .option("--return <eventId>", "end the break on air with this splice_event_id early (in cue after the preroll)")
    .option("--cancel <eventId>", "cancel the pending break with this splice_event_id (splice_event_cancel_indicator)")
    .option("--at <time>", 'splice time: "now" (first IDR after the preroll) or ISO-8601 (no zone = UTC)', "now")
    .option("--url <url>", `the daemon's HTTP API (default: $ONAIR_URL, else ${DEFAULT_API_URL})`)
    .option("--api-token-file <file>", "bearer token file (default: $ONAIR_API_TOKEN_FILE, else /etc/onair/api.token)")
    .option("--json", "print the API's answer as JSON")
    .action(async (f: CueFlags) => {
      const action = cueAction(f);
      if (action.kind !== "add") return endCue(f, action.kind, action.id);
      const durationSeconds = duration(action.duration);
      const at = spliceTime(f.at, Date.now());
      const base = apiUrl(f.url);
      const token = await apiToken(f);
      const r = await callApi<CueAnswer>(base, `/api/v1/channels/${encodeURIComponent(f.channel)}/cues`, {
        method: "POST",
        token,
        body: { durationSeconds, at },
      });
      if (f.json) out(JSON.stringify(r, null, 2));
      else
        out(
          `cue #${r.spliceEventId} on ${r.channel}: ${durationSeconds}s break ${r.at ? `at ${r.at}` : "at the next IDR after the preroll"}`,
        );
    });
}

/** The token of --api-token-file (or its default), read from the daemon's format. */
async function apiToken(f: CueFlags): Promise<string> {
  // the daemon's HTTP module (which knows the default path) loads only here
  const { resolveApiTokenFile } = await import("../observe/http.js");
  return readApiToken(resolveApiTokenFile(f.apiTokenFile));
}

/** --return / --cancel: one call to the daemon, its answer printed. */
async function endCue(f: CueFlags, kind: "return" | "cancel", id: number): Promise<void> {
  const base = apiUrl(f.url);
  const token = await apiToken(f);
  const path = `/api/v1/channels/${encodeURIComponent(f.channel)}/cues/${id}`;
  const r = await callApi<{ channel: string; spliceEventId: number }>(base, kind === "return" ? `${path}/return` : path, {
    method: kind === "return" ? "POST" : "DELETE",
    token,
  });
  if (f.json) out(JSON.stringify(r, null, 2));
  else if (kind === "return") out(`cue #${r.spliceEventId} on ${r.channel}: returning at the next IDR after the preroll`);
  else out(`cue #${r.spliceEventId} on ${r.channel}: cancelled`);
}
