/** The package's version, for `onair --version` (read from package.json, no other module loaded). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export function packageVersion(): string {
  // dist/src/cli/version.js and src/cli/version.ts both sit three levels below the package root
  // (dist/src/cli vs src/cli); try both.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [join(here, "..", ".."), join(here, "..", "..", "..")]) {
    try {
      const pkg = JSON.parse(readFileSync(join(up, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "onair" && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}
