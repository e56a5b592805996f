/* eslint-disable @typescript-eslint/no-explicit-any -- YAML documents are untyped and mutated freely */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { validateProfile } from "../../src/config/profile.js";
import { isOnairError } from "../../src/core/errors.js";

const demoText = readFileSync(join(import.meta.dirname, "..", "..", "profiles", "demo.example.yaml"), "utf8");

function withHls(hls: Record<string, unknown>, video: Record<string, unknown> = {}): Record<string, any> {
  const p = YAML.parse(demoText) as Record<string, any>;
  Object.assign(p.encoding.video, video);
  p.outputs.push({ kind: "hls", ...hls });
  return p;
}

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isOnairError(e) ? e.code : String(e);
  }
  return undefined;
}

describe("hls output in the profile", () => {
  it("fills the defaults: 6 s segments, window 10, 120 s grace, cue markers, no dir", () => {
    const p = validateProfile(withHls({}, { fps: 25, gopSeconds: 2 }));
    const o = p.outputs.find((x) => x.kind === "hls");
    expect(o).toEqual({ kind: "hls", segmentSeconds: 6, window: 10, deleteAfterSeconds: 120, markers: "cue" });
  });

  it("refuses a window under 3, a grace under 1 s and an unknown marker style as ONAIR_PROFILE_INVALID", () => {
    expect(codeOf(() => validateProfile(withHls({ window: 2 })))).toBe("ONAIR_PROFILE_INVALID");
    expect(codeOf(() => validateProfile(withHls({ deleteAfterSeconds: 0.5 })))).toBe("ONAIR_PROFILE_INVALID");
    expect(codeOf(() => validateProfile(withHls({ markers: "scte" })))).toBe("ONAIR_PROFILE_INVALID");
  });

  it("refuses a GOP that does not divide the segment, 29.97 fps included", () => {
    expect(codeOf(() => validateProfile(withHls({ segmentSeconds: 5 }, { fps: 25, gopSeconds: 2 })))).toBe("ONAIR_PROFILE_HLS_GOP");
    // 29.97: a 1 s GOP is 30 frames, 6 s are 180 frames: fine; 2.5 s segments are 75 frames: refused
    expect(codeOf(() => validateProfile(withHls({ segmentSeconds: 6 }, { fps: "30000/1001", gopSeconds: 1 })))).toBeUndefined();
    expect(codeOf(() => validateProfile(withHls({ segmentSeconds: 2.5 }, { fps: "30000/1001", gopSeconds: 1 })))).toBe(
      "ONAIR_PROFILE_HLS_GOP",
    );
    expect(codeOf(() => validateProfile(withHls({ segmentSeconds: 2 }, { fps: 25, gopSeconds: 1 })))).toBeUndefined();
  });

  it("needs maxGopSeconds ≤ segmentSeconds with a passthrough encoding", () => {
    const pass = (hls: Record<string, unknown>): Record<string, any> => {
      const p = withHls(hls);
      p.input = { kind: "udp", url: "udp://0.0.0.0:5000" };
      p.encoding = { mode: "passthrough" };
      return p;
    };
    expect(codeOf(() => validateProfile(pass({})))).toBe("ONAIR_PROFILE_HLS_GOP");
    expect(codeOf(() => validateProfile(pass({ maxGopSeconds: 8 })))).toBe("ONAIR_PROFILE_HLS_GOP");
    expect(codeOf(() => validateProfile(pass({ maxGopSeconds: 2 })))).toBeUndefined();
  });
});

describe("onair demo's profile", () => {
  it("has a live hls output with both marker styles", async () => {
    const { mkdtempSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { prepareDemo } = await import("../../src/cli/demo-actions.js");
    const { parseProfileText } = await import("../../src/config/profile.js");
    const dir = mkdtempSync(join(tmpdir(), "onair-demo-hls-"));
    try {
      prepareDemo(dir, Date.now());
      const p = parseProfileText(readFileSync(join(dir, "profiles", "demo.yaml"), "utf8"));
      expect(p.outputs.find((o) => o.kind === "hls")).toMatchObject({ segmentSeconds: 6, markers: "both" });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
