/**
 * The daemon and the CLI read only environment variables that README.md documents (its
 * "Environment variables" section: the ONAIR_ table and the table of variables systemd or
 * the system sets), so no switch that exists for tests ships in src/. A grep over src/:
 * - every read `env.NAME`, `env?.NAME`, `env["NAME"]` (of process.env or of an `env` handed
 *   down) names a documented variable;
 * - the environment as a whole is only ever held by something named `env` (a variable, a
 *   parameter `env: NodeJS.ProcessEnv`, `this.env`), so the reads above are all the reads;
 * - a read by a computed name (`env[name]`) happens only where a documented reference names
 *   the variable (`env:NAME` secret references, config/global.ts readSecretRef);
 * - no destructuring of the environment.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";

/** Files allowed to read a variable by a computed name, and why. */
const COMPUTED_READS: Record<string, string> = {
  "src/config/global.ts": "readSecretRef: the variable an `env:NAME` secret reference names",
};

function sources(dir: string): { file: string; text: string }[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts"))
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return { file: relative(repoRoot, path), text: readFileSync(path, "utf8") };
    });
}

/** Variable names in the first cell of every table row of README's "Environment variables" section. */
function documented(): Set<string> {
  const readme = readFileSync(join(repoRoot, "README.md"), "utf8");
  const start = readme.indexOf("\n## Environment variables\n");
  expect(start, "README has an Environment variables section").toBeGreaterThan(0);
  const section = readme.slice(start + 1, readme.indexOf("\n## ", start + 1));
  const names = new Set<string>();
  for (const line of section.split("\n")) {
    if (!line.startsWith("| ")) continue;
    const first = line.split(" | ")[0];
    for (const m of first.matchAll(/`([A-Z_][A-Z0-9_]*)`/g)) names.add(m[1]);
  }
  return names;
}

describe("environment variables read by src/", () => {
  const files = sources(join(repoRoot, "src"));

  it("are all documented in README.md", () => {
    const allowed = documented();
    const read = new Map<string, string[]>();
    for (const { file, text } of files) {
      for (const m of text.matchAll(/\benv\??\.([A-Za-z_][A-Za-z0-9_]*)|\benv\[\s*(["'`])([^"'`]+)\2\s*\]/g)) {
        const name = m[1] ?? m[3];
        read.set(name, [...(read.get(name) ?? []), file]);
      }
    }
    expect(read.size, "the scan finds the reads").toBeGreaterThan(10);
    const undocumented = [...read]
      .filter(([name]) => !allowed.has(name))
      .map(([name, where]) => `${name} (${[...new Set(where)].join(", ")})`);
    expect(undocumented, "variables read by src/ that README.md does not document").toEqual([]);
  });

  it("hold the environment only in something named env, read by a computed name only where a reference names it, never destructure it", () => {
    const problems: string[] = [];
    for (const { file, text } of files) {
      text.split("\n").forEach((line, i) => {
        const at = `${file}:${i + 1}`;
        for (const m of line.matchAll(/process\.env\b(?![.[])/g)) {
          const before = line.slice(0, m.index);
          if (!/\benv\??\s*(:\s*NodeJS\.ProcessEnv\s*)?=\s*([\w.?]+\s*\?\?\s*)?$/.test(before))
            problems.push(`${at}: process.env held by something not named env`);
        }
        for (const m of line.matchAll(/(\w+)\??\s*:\s*NodeJS\.ProcessEnv/g))
          if (m[1] !== "env") problems.push(`${at}: an environment named ${m[1]}`);
        if (/\benv\[(?!\s*["'`])/.test(line) && !COMPUTED_READS[file]) problems.push(`${at}: a read by a computed name`);
        if (/\}\s*=\s*(process\.)?env\b/.test(line)) problems.push(`${at}: the environment destructured`);
      });
    }
    expect(problems).toEqual([]);
  });
});
