/**
 * The slate encoder that cannot start (out of file descriptors, spawn throwing) rejects
 * ensureSlateClip with ONAIR_SPAWN_FAILED: no throw, no uncaught 'error', no clip left.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { spawnErrno } from "../../src/pipeline/child.js";
import { ensureSlateClip } from "../../src/pipeline/slate.js";
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
