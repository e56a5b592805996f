#!/usr/bin/env node
// Size check for src/: functions ≤ 80 lines (on the syntax tree, comments inside included),
// files ≤ 600 lines, lines ≤ 160 columns. `npm test` runs it through tests/unit/size-check.test.ts;
// run it by hand with `node scripts/size-check.mjs [dir]` to list what is over.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const LIMITS = { functionLines: 80, fileLines: 600, lineColumns: 160 };

function* tsFiles(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) yield p;
  }
}

function functionName(node, sf) {
  if (node.name) return node.name.getText(sf);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) && parent.name) {
    return parent.name.getText(sf);
  }
  if (ts.isConstructorDeclaration(node)) return "constructor";
  return "(anonymous)";
}

/** Every function, method, accessor, constructor and arrow function of one file, with its line count. */
export function functionsOf(file, text = readFileSync(file, "utf8")) {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
      out.push({ name: functionName(node, sf), line: start + 1, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

/** Everything over the limits under `root`, as human lines (empty when all is within). */
export function sizeViolations(root, limits = LIMITS) {
  const out = [];
  for (const file of tsFiles(root)) {
    const rel = relative(process.cwd(), file);
    const text = readFileSync(file, "utf8");
    const lines = text.split("\n");
    const count = text.endsWith("\n") ? lines.length - 1 : lines.length;
    if (count > limits.fileLines) out.push(`${rel}: ${count} lines (file limit ${limits.fileLines})`);
    lines.forEach((l, i) => {
      if (l.length > limits.lineColumns) out.push(`${rel}:${i + 1}: ${l.length} columns (limit ${limits.lineColumns})`);
    });
    for (const f of functionsOf(file, text)) {
      if (f.lines > limits.functionLines)
        out.push(`${rel}:${f.line}: ${f.name} is ${f.lines} lines (function limit ${limits.functionLines})`);
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const v = sizeViolations(process.argv[2] ?? "src");
  for (const line of v) console.log(line);
  console.log(`${v.length} over the limits`);
  process.exitCode = v.length ? 1 : 0;
}
