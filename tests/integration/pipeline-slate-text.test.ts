/**
 * The generated slate draws its text: real FFmpeg encodes the clip, a frame decoded to raw
 * gray is compared with the same slate made without text.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ensureSlateClip } from "../../src/pipeline/slate.js";
import { runTool } from "../helpers/ffmpeg.js";
import { tinyProfile } from "../helpers/pipeline.js";

const W = 320;
const H = 240; // tinyProfile's picture

// characters the filter graph and drawtext would take as syntax, in the text and in the path
const TEXT = "Back soon: 50% off, it's {live} \\ %{pts} [x];";
const root = mkdtempSync(join(tmpdir(), "onair-slate-text-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function slateProfile(text: string) {
  return tinyProfile({ kind: "test" }, { slate: { kind: "generated", color: "navy", text } });
}

/** The first video frame of a clip as 8-bit gray, one byte per pixel. */
async function firstFrame(clip: string): Promise<Buffer> {
  const r = await runTool("ffmpeg", [
    "-hide_banner",
    "-loglevel",
    "error",
    "-i",
    clip,
    "-frames:v",
    "1",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "gray",
    "pipe:1",
  ]);
  expect(r.stdout.length).toBe(W * H);
  return r.stdout;
}

/** Rows (y) and columns (x) where the two frames differ by more than 40 levels. */
function differing(a: Buffer, b: Buffer): { rows: Set<number>; cols: Set<number> } {
  const rows = new Set<number>();
  const cols = new Set<number>();
  for (let i = 0; i < a.length; i++) {
    if (Math.abs(a[i] - b[i]) <= 40) continue;
    rows.add(Math.floor(i / W));
    cols.add(i % W);
  }
  return { rows, cols };
}

describe("generated slate text", () => {
  it("draws the text in the middle of the picture, whatever characters it and the path hold", async () => {
    const dir = join(root, "data, it's: [a];b");
    const warnings: Record<string, unknown>[] = [];
    const log = { warn: (o: Record<string, unknown>) => warnings.push(o) };
    const withText = await firstFrame(await ensureSlateClip(slateProfile(TEXT), dir, { log }));
    const plain = await firstFrame(await ensureSlateClip(slateProfile(""), dir, { log }));
    expect(warnings).toEqual([]);
    const { rows, cols } = differing(withText, plain);
    // one line of text, centred: rows around H/2 only, inside the picture's width
    expect(rows.size).toBeGreaterThan(6);
    for (const y of rows) expect(Math.abs(y - H / 2)).toBeLessThan(H / 8);
    expect(Math.min(...cols)).toBeGreaterThan(4);
    expect(Math.max(...cols)).toBeLessThan(W - 5);
    expect(Math.max(...cols) - Math.min(...cols)).toBeGreaterThan(W / 2); // the whole line, not a glyph
    // bright glyph pixels on the navy background
    let bright = 0;
    for (const v of withText) if (v > 200) bright++;
    expect(bright).toBeGreaterThan(200);
  });

  it("makes the slate without text, and warns, when no font is installed", async () => {
    const dir = join(root, "nofont");
    const warnings: Record<string, unknown>[] = [];
    const log = { warn: (o: Record<string, unknown>) => warnings.push(o) };
    const clip = await ensureSlateClip(slateProfile(TEXT), dir, { log, fontFiles: [join(root, "missing.ttf")] });
    expect(warnings).toMatchObject([{ event: "slate_no_font" }]);
    const plain = await firstFrame(await ensureSlateClip(slateProfile(""), dir));
    expect(differing(await firstFrame(clip), plain).rows.size).toBe(0);
  });
});
