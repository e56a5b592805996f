/**
 * A quick CLI (issue #20): `onair --version` and `onair status` load only what they need.
 * The command groups only declare their commands; each action imports what it needs when it
 * runs (`await import(…)`). These tests follow the static imports (those that load with the
 * module; `import type` and `await import()` do not) from the CLI's entry and its program,
 * on the TypeScript syntax tree, and check that no heavy dependency is among them.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { HELP_DEFAULT_KEEP } from "../../src/cli/backup.js";
import { DEFAULT_BACKUP_KEEP } from "../../src/store/backup.js";
import { repoRoot } from "../helpers/cli.js";

/** Packages an `onair status` or `onair --help` must not load. */
const HEAVY = [
  "better-sqlite3",
  "libsodium-wrappers-sumo",
  "pino",
  "pino-roll",
  "prom-client",
  "zod",
  "fast-xml-parser",
  "yaml",
  "node-telegram-bot-api",
];

/** The module specifiers a file imports statically (not `import type`, not `import()`). */
function staticImports(file: string): string[] {
  const sf = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  for (const st of sf.statements) {
    if (ts.isImportDeclaration(st)) {
      const clause = st.importClause;
      const typeOnly =
        clause !== undefined &&
        (clause.isTypeOnly ||
          (clause.name === undefined &&
            clause.namedBindings !== undefined &&
            ts.isNamedImports(clause.namedBindings) &&
            clause.namedBindings.elements.length > 0 &&
            clause.namedBindings.elements.every((e) => e.isTypeOnly)));
      if (!typeOnly) out.push((st.moduleSpecifier as ts.StringLiteral).text);
    } else if (ts.isExportDeclaration(st) && st.moduleSpecifier && !st.isTypeOnly) {
      out.push((st.moduleSpecifier as ts.StringLiteral).text);
    }
  }
  return out;
}

/** Every module loaded with `entry`: our files (repo-relative) and packages (by name). */
function loadedWith(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [join(repoRoot, entry)];
  while (todo.length > 0) {
    const file = todo.pop()!;
    const rel = file.slice(repoRoot.length + 1);
    if (files.has(rel)) continue;
    files.add(rel);
    for (const spec of staticImports(file)) {
      if (spec.startsWith(".")) todo.push(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
      else if (!spec.startsWith("node:")) packages.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
    }
  }
  return { files, packages };
}

describe("the CLI loads lazily", () => {
  it("answers --version from main.ts without commander or any command group", () => {
    const { files, packages } = loadedWith("src/cli/main.ts");
    expect([...packages]).toEqual([]);
    expect([...files].filter((f) => !/^src\/(cli\/(main|version)|core\/(errors|error-codes))\.ts$/.test(f))).toEqual([]);
  });

  it("declares every command (for status, --help) with commander and no heavy package", () => {
    const { files, packages } = loadedWith("src/cli/program.ts");
    expect([...packages]).toEqual(["commander"]);
    expect(HEAVY.filter((p) => packages.has(p))).toEqual([]);
    // no daemon, store, alerter, injector or codec module with the declarations
    expect([...files].filter((f) => !/^src\/(cli|core|schedule\/cue-limits|hls\/options)\b/.test(f)).sort()).toEqual([]);
    expect([...files].filter((f) => f.endsWith("-actions.ts"))).toEqual([]);
  });

  it("sees an import that would load a heavy package (the check can fail)", () => {
    const { packages } = loadedWith("src/cli/schedule-actions.ts");
    expect(packages.has("better-sqlite3")).toBe(true);
  });

  it("shows backup's default in --help as the store's default", () => {
    expect(HELP_DEFAULT_KEEP).toBe(DEFAULT_BACKUP_KEEP);
  });
});
