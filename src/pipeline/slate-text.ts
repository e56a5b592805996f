/**
 * The generated slate's text, drawn by FFmpeg's drawtext filter.
 *
 * Contracts:
 * - The font comes from the OS packages (Debian `fonts-dejavu-core`); without one the slate
 *   is made without text (the caller logs a warning), never refused.
 * - The text reaches FFmpeg through a file (`textfile=`) with `expansion=none`, so no
 *   character of it is special: not `:` `,` `'` `\` to the filter graph, not `%{…}` to
 *   drawtext. The file is named by the text's hash, so the clip's cache key follows the text.
 * - Paths in the filter are escaped at both levels FFmpeg parses (filter option, then graph).
 */
import { createHash } from "node:crypto";
import { accessSync, constants as fsConstants, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Fonts tried in order: DejaVu Sans from Debian's fonts-dejavu-core (scripts/setup.sh installs it). */
export const SLATE_FONT_FILES: readonly string[] = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"];

/** The first readable font file, or null. */
export function findSlateFont(candidates: readonly string[] = SLATE_FONT_FILES): string | null {
  for (const f of candidates) {
    try {
      accessSync(f, fsConstants.R_OK);
      return f;
    } catch {
      /* try the next one */
    }
  }
  return null;
}

/**
 * A value for a filter option inside a `-vf` graph (FFmpeg "Notes on filtergraph escaping"):
 * `\ ' :` escaped for the option parser, then `\ ' [ ] , ;` for the graph parser.
 */
export function filterValue(s: string): string {
  return s.replace(/[\\':]/g, "\\$&").replace(/[\\'[\],;]/g, "\\$&");
}

/** Writes the text to `slate-text-<hash>.txt` in `dir` (atomically) and returns its path. */
export function writeSlateTextFile(dir: string, text: string): string {
  const name = `slate-text-${createHash("sha256").update(text).digest("hex").slice(0, 16)}.txt`;
  const path = join(dir, name);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, path);
  return path;
}

/** Widest glyph advance of DejaVu Sans text on average, in ems (capitals ~0.7, lower case ~0.55). */
const EM_PER_CHAR = 0.65;

/**
 * drawtext centred on the picture: white with a black border (readable on any slate colour),
 * 1/12 of the height, smaller when the longest line would not fit 92 % of the width.
 */
export function slateTextFilter(fontFile: string, textFile: string, picture: { width: number; height: number }, text: string): string {
  const longest = Math.max(1, ...text.split("\n").map((l) => [...l].length));
  const fit = (0.92 * picture.width) / (longest * EM_PER_CHAR);
  const size = Math.max(8, Math.round(Math.min(picture.height / 12, fit)));
  const border = Math.max(1, Math.round(size / 30));
  return [
    `drawtext=fontfile=${filterValue(fontFile)}`,
    `textfile=${filterValue(textFile)}`,
    "expansion=none",
    "fontcolor=white",
    `fontsize=${size}`,
    `borderw=${border}`,
    "bordercolor=black",
    "x=(w-text_w)/2",
    "y=(h-text_h)/2",
  ].join(":");
}
