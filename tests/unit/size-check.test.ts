import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain-JavaScript script (scripts/ is outside the TypeScript project)
import { functionsOf, LIMITS, sizeViolations } from "../../scripts/size-check.mjs";

describe("size check (src/: functions ≤ 80 lines, files ≤ 600 lines, lines ≤ 160 columns)", () => {
  it("finds nothing over the limits in src/", () => {
    expect(sizeViolations("src")).toEqual([]);
  });
  it("counts a function from its first to its last line, comments inside included", () => {
    const body = Array.from({ length: LIMITS.functionLines - 1 }, (_, i) => (i % 2 ? "  // a comment" : `  const v${i} = ${i};`));
    const src = `export function f(): void {\n${body.join("\n")}\n}\nconst g = () => {\n  return 1;\n};\n`;
    const fns = functionsOf("x.ts", src) as { name: string; lines: number }[];
    expect(fns).toEqual([
      { name: "f", line: 1, lines: LIMITS.functionLines + 1 },
      { name: "g", line: LIMITS.functionLines + 2, lines: 3 },
    ]);
  });
});
