/**
 * `onair inject --hls DIR`: the HLS option group of the inject command and the runner that
 * replaces the file output with the HLS segmenter (src/hls/offline.ts). inject.ts declares the
 * options (its `hlsOptions` group); inject-actions.ts runs `injectRunner(o)` in place of injectFile.
 */
import { OnairError } from "../core/errors.js";
import { injectToHls, type HlsInjectResult } from "../hls/offline.js";
import type { MarkerStyle } from "../hls/options.js";
import { injectFile, type OfflineInjectOptions, type OfflineInjectResult } from "../inject/offline.js";
import { out } from "./io.js";

/** Longest segment the offline command accepts, seconds. */
export const MAX_SEGMENT_SECONDS = 60;

export interface HlsCliOpts {
  output?: string;
  hls?: string;
  hlsSegmentSeconds: string;
  hlsMarkers: MarkerStyle;
  json?: boolean;
}

function segmentSeconds(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0 || n > MAX_SEGMENT_SECONDS) {
    throw new OnairError("ONAIR_CLI_BAD_OPTION", `--hls-segment-seconds must be a number in (0, ${MAX_SEGMENT_SECONDS}] (got "${v}")`);
  }
  return n;
}

/**
 * The injector run for these options: injectFile to --output, or HLS into --hls (exactly
 * one of the two). Throws ONAIR_CLI_BAD_OPTION.
 */
export function injectRunner(o: HlsCliOpts): (opts: OfflineInjectOptions) => Promise<OfflineInjectResult> {
  if (o.hls === undefined) {
    if (o.output === undefined) throw new OnairError("ONAIR_CLI_BAD_OPTION", "inject needs --output FILE or --hls DIR");
    return injectFile;
  }
  if (o.output !== undefined) throw new OnairError("ONAIR_CLI_BAD_OPTION", "inject takes --output FILE or --hls DIR, not both");
  const hls = { dir: o.hls, segmentSeconds: segmentSeconds(o.hlsSegmentSeconds), markers: o.hlsMarkers };
  return async (opts) => {
    const r = await injectToHls(opts, hls);
    if (!o.json) printHls(r);
    return r;
  };
}

function printHls(r: HlsInjectResult): void {
  const h = r.hls;
  const mb = (h.bytes / (1024 * 1024)).toFixed(1);
  const long = h.longSegments ? `, ${h.longSegments} longer than the target (GOP too long)` : "";
  out(`hls: ${h.segments} segments (${mb} MB) in ${h.dir}: ${h.playlist} and master.m3u8${long}`);
}

/** The HLS part of the JSON summary, when there is one. */
export function hlsJson(r: OfflineInjectResult): { hls?: HlsInjectResult["hls"] } {
  const h = (r as Partial<HlsInjectResult>).hls;
  return h ? { hls: h } : {};
}
