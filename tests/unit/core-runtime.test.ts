import { describe, expect, it } from "vitest";
import { YOUNG_GENERATION_FLAG, youngGenerationCapped } from "../../src/core/runtime.js";

describe("youngGenerationCapped", () => {
  it("finds the semi-space cap on node's command line or in NODE_OPTIONS, in either spelling", () => {
    expect(youngGenerationCapped([YOUNG_GENERATION_FLAG], "")).toBe(true);
    expect(youngGenerationCapped(["--expose-gc", "--max_semi_space_size=4"], "")).toBe(true);
    expect(youngGenerationCapped([], "--enable-source-maps --max-semi-space-size=2")).toBe(true);
    expect(youngGenerationCapped(["--max-semi-space-size", "2"], "")).toBe(true);
  });

  it("says no without it, and is not fooled by look-alikes", () => {
    expect(youngGenerationCapped([], "")).toBe(false);
    expect(youngGenerationCapped(["--expose-gc"], "--max-old-space-size=512")).toBe(false);
    expect(youngGenerationCapped(["--min-semi-space-size=1"], "")).toBe(false);
    expect(youngGenerationCapped(["--max-semi-space-size-x=1"], "")).toBe(false);
  });
});
