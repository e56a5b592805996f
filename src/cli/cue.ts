/**
 * `onair cue --channel ID --duration SECONDS [--at TIME] [--url URL] [--api-token-file FILE]`:
 * asks the running daemon for a break (`POST /api/v1/channels/:id/cues`), which splices at
 * the first IDR after now + preroll, or at TIME (at most 7 days ahead). Prints the
 * splice_event_id. The duration (1 s to 24 h) and the 7-day horizon are checked here first,
 * with the codes the API uses (schedule/cue-limits.ts); a time in the past is refused by the
 * daemon (ONAIR_API_ERROR naming ONAIR_CUE_IN_PAST), whose clock decides what "now" is.
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
    throw new OnairError("ONAIR_API_TOKEN_FILE", `cannot read the API token file ${path} (${code}); pass --api-token-file`, { path, errno: code });
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

interface CueFlags {
  channel: string;
  duration: string;
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
    .description("ask the running daemon for an ad break now or at a time (SCTE-35 cue)")
    .requiredOption("--channel <id>", "channel id")
    .requiredOption("--duration <seconds>", "break duration in seconds")
    .option("--at <time>", 'splice time: "now" (first IDR after the preroll) or ISO-8601 (no zone = UTC)', "now")
    .option("--url <url>", `the daemon's HTTP API (default: $ONAIR_URL, else ${DEFAULT_API_URL})`)
    .option("--api-token-file <file>", "bearer token file (default: $ONAIR_API_TOKEN_FILE, else /etc/onair/api.token)")
    .option("--json", "print the API's answer as JSON")
    .action(async (f: CueFlags) => {
      const durationSeconds = duration(f.duration);
      const at = spliceTime(f.at, Date.now());
      const base = apiUrl(f.url);
      // the daemon's HTTP module (which knows the default path) loads only here
      const { resolveApiTokenFile } = await import("../observe/http.js");
      const token = readApiToken(resolveApiTokenFile(f.apiTokenFile));
      const r = await callApi<CueAnswer>(base, `/api/v1/channels/${encodeURIComponent(f.channel)}/cues`, {
        method: "POST",
        token,
        body: { durationSeconds, at },
      });
      if (f.json) out(JSON.stringify(r, null, 2));
      else out(`cue #${r.spliceEventId} on ${r.channel}: ${durationSeconds}s break ${r.at ? `at ${r.at}` : "at the next IDR after the preroll"}`);
    });
}
