/**
 * The slate encoder that cannot start (out of file descriptors, spawn throwing) rejects
 * ensureSlateClip with ONAIR_SPAWN_FAILED: no throw, no uncaught 'error', no clip left.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnErrno } from "../../src/pipeline/child.js";
import { ensureSlateClip, slateClipCommand } from "../../src/pipeline/slate.js";
import { testProfile } from "../helpers/channel.js";
import { emfileChild, throwingSpawn } from "../helpers/spawn-faults.js";

const dir = mkdtempSync(join(tmpdir(), "onair-slate-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ensureSlateClip when the encoder cannot start", () => {
  it.each([
    ["EMFILE (Node's child without pid or stdio)", () => emfileChild(), "EMFILE"],
    ["spawn throwing", throwingSpawn("EAGAIN"), "EAGAIN"],
  ] as const)("%s: rejects with ONAIR_SPAWN_FAILED", async (_what, spawn, errno) => {
    const p = ensureSlateClip(testProfile({ udpPort: 1 }), dir, { ffmpegPath: "/usr/bin/ffmpeg", spawn });
    const err: unknown = await p.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "ONAIR_SPAWN_FAILED" });
    expect(spawnErrno(err)).toBe(errno);
    expect(readdirSync(dir).filter((f) => f.endsWith(".ts"))).toEqual([]); // no clip, not even a part
  });
});

describe("slate GOP (issue #21: a slate period makes HLS segments)", () => {
  function gopOf(over: { fps: number | string; gopSeconds: number }): number {
    const p = testProfile({ udpPort: 5000 });
    if (p.encoding.mode !== "transcode") throw new Error("transcode expected");
    p.encoding.video = { ...p.encoding.video, ...over };
    const args = slateClipCommand(p, "/tmp/clip.ts", 4).args;
    return Number(args[args.indexOf("-g") + 1]);
  }

  it("puts an IDR at least every second, on the channel's GOP grid", () => {
    expect(gopOf({ fps: 25, gopSeconds: 2 })).toBe(25);
    expect(gopOf({ fps: 25, gopSeconds: 1 })).toBe(25);
    expect(gopOf({ fps: 25, gopSeconds: 0.48 })).toBe(12);
    // 29.97 fps, 2 s GOP = 60 frames: 30 frames would be 1.001 s, so 20
    expect(gopOf({ fps: "30000/1001", gopSeconds: 2 })).toBe(20);
    expect(gopOf({ fps: 50, gopSeconds: 6 })).toBe(50);
  });
});
