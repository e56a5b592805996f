/** `onair inject --break START,DURATION[,NAME]`, parsed as commander reads it (cheap: loaded by every `onair` run). */
import { OnairError } from "../core/errors.js";
import type { OfflineBreak } from "../inject/offline.js";

/** Parses `START,DURATION` (seconds, fractions allowed) as the CLI's --break takes it. */
export function parseBreakArg(s: string): OfflineBreak {
  const m = /^\s*(\d+(?:\.\d+)?)\s*,\s*(\d+(?:\.\d+)?)\s*(?:,\s*(\S+))?\s*$/.exec(s);
  if (!m) throw new OnairError("ONAIR_CUE_BAD_BREAK", `--break wants START,DURATION in seconds (got "${s}")`);
  const b: OfflineBreak = { startSeconds: Number(m[1]), durationSeconds: Number(m[2]) };
  if (m[3]) b.breakId = m[3];
  if (!(b.durationSeconds > 0)) throw new OnairError("ONAIR_CUE_BAD_BREAK", `break duration must be positive (got "${s}")`);
  return b;
}
