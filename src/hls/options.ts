/**
 * The HLS options' values, with no imports: `onair inject`'s declaration (loaded by every
 * `onair` run) names them without loading the segmenter.
 */

/** Default target segment length, seconds (`--hls-segment-seconds`, the profile's `segmentSeconds`). */
export const DEFAULT_SEGMENT_SECONDS = 6;

/** How ad breaks are marked in the media playlist. */
export type MarkerStyle = "cue" | "daterange" | "both" | "none";
export const MARKER_STYLES: readonly MarkerStyle[] = ["cue", "daterange", "both", "none"];
