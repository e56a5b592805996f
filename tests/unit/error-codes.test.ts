/**
 * The error-code catalogue (src/core/error-codes.ts) and README.md's "Error codes" table
 * list the same codes with the same meanings. (tests/integration/readme.test.ts checks, the
 * other way round, that the table lists exactly the codes the source emits.)
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isErrorCode } from "../../src/core/error-codes.js";
import { OnairError } from "../../src/core/errors.js";
import { repoRoot } from "../helpers/cli.js";

/** The rows of the README's "### Error codes" table: the codes of a row and its meaning as plain text. */
function readmeRows(md: string): { codes: string[]; meaning: string }[] {
  const start = md.indexOf("\n### Error codes\n");
  expect(start, "README has a '### Error codes' section").toBeGreaterThan(0);
  const rest = md.slice(start + 1);
  const end = rest.slice(1).search(/\n#{2,3} /);
  const section = end < 0 ? rest : rest.slice(0, end + 1);
  const rows: { codes: string[]; meaning: string }[] = [];
  for (const line of section.split("\n")) {
    if (!line.startsWith("| `ONAIR_")) continue;
    // cells split on pipes that are not escaped (`\|` inside code spans)
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    const codes = [...cells[1].matchAll(/`(ONAIR_[A-Z0-9_]+)`/g)].map((m) => m[1]);
    rows.push({ codes, meaning: cells[2].replace(/\\\|/g, "|").replace(/`/g, "") });
  }
  return rows;
}

const rows = readmeRows(readFileSync(join(repoRoot, "README.md"), "utf8"));

describe("the error-code catalogue", () => {
  it("has the README table's codes, no more and no fewer", () => {
    const table = new Set(rows.flatMap((r) => r.codes));
    const catalogue = new Set(Object.keys(ERROR_CODES));
    expect(table.size).toBeGreaterThan(100);
    expect([...catalogue].filter((c) => !table.has(c)).sort(), "in the catalogue, missing from the README's table").toEqual([]);
    expect([...table].filter((c) => !catalogue.has(c)).sort(), "in the README's table, missing from the catalogue").toEqual([]);
  });

  it("gives each code the meaning the README gives it", () => {
    const differ = rows.flatMap((r) =>
      r.codes
        .filter((c) => isErrorCode(c) && ERROR_CODES[c] !== r.meaning)
        .map((c) => ({ code: c, catalogue: isErrorCode(c) ? ERROR_CODES[c] : "", readme: r.meaning })),
    );
    expect(differ).toEqual([]);
  });

  it("keeps each meaning to one line", () => {
    expect(Object.entries(ERROR_CODES).filter(([, m]) => m.length === 0 || m.includes("\n"))).toEqual([]);
  });

  it("types OnairError's code: a code outside the catalogue does not compile", () => {
    // @ts-expect-error: a misspelt code is a type error (npm run typecheck fails without this line's directive)
    const e = new OnairError("ONAIR_PROFILE_WRONG_KYE", "x");
    expect(isErrorCode(e.code)).toBe(false);
    expect(isErrorCode("ONAIR_PROFILE_WRONG_KEY")).toBe(true);
  });
});
