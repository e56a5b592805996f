/**
 * A file output's recordings on disk (any run) and their pruning: what matches a path
 * template, on a real temp dir, and that nothing else is ever deleted.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeFileSystem } from "../../src/pipeline/outputs/file.js";
import { listRecordings, pruneRecordings, templateMatcher } from "../../src/pipeline/recordings.js";

let tmp = "";
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "onair-recordings-"));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Creates files (parents too), the i-th modified i minutes after 2025-01-01. */
function files(root: string, rel: string[]): void {
  rel.forEach((r, i) => {
    const p = join(root, r);
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, r);
    const t = new Date(Date.UTC(2025, 0, 1, 0, i));
    utimesSync(p, t, t);
  });
}

const rel = (root: string, paths: string[]): string[] => paths.map((p) => p.slice(root.length + 1)).sort();

describe("recordings of a path template", () => {
  it("walks dated directories, matching each level, with the -N suffix before the extension", async () => {
    const root = join(tmp, "dated");
    files(root, [
      "2025/01/02/ch-105930.ts",
      "2025/01/02/ch-105930-1.ts",
      "2025/01/03/ch-000000.ts",
      "2025/1/03/ch-000000.ts", // a one-digit month is not %m
      "2025/01/02/ch-105930-0.ts", // -0 is never a suffix FileOutput writes
      "2025/01/02/ch-105930.ts.bak",
      "2025/01/02/xx-105930.ts",
      "live/01/02/ch-105930.ts",
      "2025/01/02/sub/ch-105930.ts",
    ]);
    symlinkSync(join(root, "2025/01/03/ch-000000.ts"), join(root, "2025/01/03/ch-000001.ts"));
    expect(rel(root, await listRecordings(nodeFileSystem, join(root, "%Y/%m/%d/ch-%H%M%S.ts")))).toEqual([
      "2025/01/02/ch-105930-1.ts",
      "2025/01/02/ch-105930.ts",
      "2025/01/03/ch-000000.ts",
    ]);
  });

  it("reads names as expandPathTemplate writes them: literals, %%, no extension, tokens after the dot", () => {
    const name = (t: string) => templateMatcher(t).parts.at(-1)!;
    expect(name("/r/a.b+c(1).ts").test("a.b+c(1)-12.ts")).toBe(true);
    expect(name("/r/a.b+c(1).ts").test("aXb+c(1).ts")).toBe(false);
    expect(name("/r/100%%-%H.ts").test("100%-07-3.ts")).toBe(true);
    expect(name("/r/rec").test("rec-2")).toBe(true);
    expect(name("/r/.ts").test(".ts-1")).toBe(true); // a dot-file has no extension
    expect(name("/r/rec.%H").test("rec-1.07")).toBe(true);
    expect(name("/r/rec.%H").test("rec.07-1")).toBe(false);
    expect(templateMatcher("/srv/rec/%Y/x/a.ts").root).toBe("/srv/rec");
    expect(templateMatcher("/%Y.ts").root).toBe("/");
  });

  it("prunes the oldest by modification time, never the current file; a missing directory (or a file in its place) is empty", async () => {
    const root = join(tmp, "prune");
    files(root, ["b.ts", "b-1.ts", "b-2.ts", "b-3.ts", "other.ts"]);
    // the newest by time is kept even though its name sorts first
    const t = new Date(Date.UTC(2025, 0, 2));
    utimesSync(join(root, "b.ts"), t, t);
    const deleted = await pruneRecordings(nodeFileSystem, join(root, "b.ts"), 2, join(root, "b-1.ts"));
    expect(rel(root, deleted)).toEqual(["b-2.ts", "b-3.ts"]);
    expect(readdirSync(root).sort()).toEqual(["b-1.ts", "b.ts", "other.ts"]);
    expect(await pruneRecordings(nodeFileSystem, join(root, "b.ts"), 1, join(root, "b.ts"))).toEqual([join(root, "b-1.ts")]);
    expect(await listRecordings(nodeFileSystem, join(tmp, "absent", "%Y", "a.ts"))).toEqual([]);
    expect(await listRecordings(nodeFileSystem, join(root, "other.ts", "%Y", "a.ts"))).toEqual([]); // a file where a directory should be
  });
});
