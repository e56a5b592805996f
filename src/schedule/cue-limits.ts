/**
 * What a cue asked for through the control API or `onair cue` may be, checked at both
 * edges (the CLI before it calls, the API route before the daemon sees it) with the same
 * codes:
 * - duration: 1 s to 24 h (`ONAIR_CUE_BAD_DURATION`); a splice lands on an IDR and returns on
 *   one, so anything shorter than a second is a typo, not an ad break;
 * - time: not in the past, with a second of slack for the caller's clock
 *   (`ONAIR_CUE_IN_PAST`), and at most 7 days ahead (`ONAIR_CUE_BEYOND_HORIZON`), the
 *   span the store keeps accepted cues for and the EPG covers.
 */
import { OnairError } from "../core/errors.js";

export const CUE_MIN_DURATION_SECONDS = 1;
export const CUE_MAX_DURATION_SECONDS = 86_400;
/** Furthest ahead a cue may be asked for (7 days). */
export const CUE_HORIZON_MS = 7 * 86_400_000;
/** A splice time this much in the past still counts as "now" (clock skew between caller and daemon). */
export const CUE_PAST_TOLERANCE_MS = 1000;

/** Throws ONAIR_CUE_BAD_DURATION unless 1 s ≤ `seconds` ≤ 24 h. */
export function checkCueDuration(seconds: number): void {
  if (Number.isFinite(seconds) && seconds >= CUE_MIN_DURATION_SECONDS && seconds <= CUE_MAX_DURATION_SECONDS) return;
  throw new OnairError(
    "ONAIR_CUE_BAD_DURATION",
    `a break lasts ${CUE_MIN_DURATION_SECONDS} to ${CUE_MAX_DURATION_SECONDS} seconds (got ${seconds})`,
    { durationSeconds: seconds, min: CUE_MIN_DURATION_SECONDS, max: CUE_MAX_DURATION_SECONDS },
  );
}

/** Throws ONAIR_CUE_IN_PAST or ONAIR_CUE_BEYOND_HORIZON for a splice time outside [now − 1 s, now + 7 days]. */
export function checkCueTime(atMs: number, nowMs: number): void {
  const at = new Date(atMs).toISOString();
  if (atMs < nowMs - CUE_PAST_TOLERANCE_MS) {
    throw new OnairError("ONAIR_CUE_IN_PAST", `the splice time ${at} is in the past`, { at, now: new Date(nowMs).toISOString() });
  }
  if (atMs > nowMs + CUE_HORIZON_MS) {
    throw new OnairError("ONAIR_CUE_BEYOND_HORIZON", `the splice time ${at} is more than 7 days ahead`, {
      at,
      horizonDays: CUE_HORIZON_MS / 86_400_000,
    });
  }
}
