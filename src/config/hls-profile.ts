/**
 * Load-time checks of a profile's `hls` outputs that need the whole profile (issue #21):
 * the segmenter cuts only at IDRs, so a profile whose IDRs cannot land on the segment grid
 * is refused with ONAIR_PROFILE_HLS_GOP instead of making long segments on air.
 *
 * - transcode: the GOP in frames, round(gopSeconds × fps), must divide
 *   round(segmentSeconds × fps) (29.97 fps as 30000/1001 included);
 * - passthrough: the output must declare `maxGopSeconds` ≤ `segmentSeconds` (onair cannot
 *   know the source's GOP in advance).
 */
import { OnairError } from "../core/errors.js";
import type { ChannelProfile } from "./profile-schema.js";

function fpsValue(fps: number | string): number {
  if (typeof fps === "number") return fps;
  const [n, d = 1] = fps.split("/").map(Number);
  return n / d;
}

/** Throws ONAIR_PROFILE_HLS_GOP naming the output when an `hls` output's segments cannot be cut on IDRs. */
export function checkHlsOutputs(p: ChannelProfile, source = "profile"): void {
  p.outputs.forEach((o, i) => {
    if (o.kind !== "hls") return;
    const path = `outputs[${i}]`;
    if (p.encoding.mode === "passthrough") {
      if (o.maxGopSeconds === undefined || o.maxGopSeconds > o.segmentSeconds) {
        throw new OnairError(
          "ONAIR_PROFILE_HLS_GOP",
          `${source}: ${path}.maxGopSeconds: a passthrough encoding needs maxGopSeconds at most segmentSeconds (${o.segmentSeconds})`,
          { source, path: `${path}.maxGopSeconds`, segmentSeconds: o.segmentSeconds, maxGopSeconds: o.maxGopSeconds },
        );
      }
      return;
    }
    const fps = fpsValue(p.encoding.video.fps);
    const gopFrames = Math.max(1, Math.round(p.encoding.video.gopSeconds * fps));
    const segmentFrames = Math.round(o.segmentSeconds * fps);
    if (segmentFrames % gopFrames !== 0) {
      throw new OnairError(
        "ONAIR_PROFILE_HLS_GOP",
        `${source}: ${path}.segmentSeconds: the GOP (${gopFrames} frames) does not divide a segment (${segmentFrames} frames)`,
        { source, path: `${path}.segmentSeconds`, gopFrames, segmentFrames },
      );
    }
  });
}
