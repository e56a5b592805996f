#!/usr/bin/env -S node --max-semi-space-size=1
// (the flag fixes V8's young generation at 1 MB semi-spaces: see src/core/runtime.ts)
// Entry point: runs the compiled CLI. In a clone, `npm run setup` (or `npm test`) builds dist/.
import { existsSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const main = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "src", "cli", "main.js");
if (!existsSync(main)) {
  process.stderr.write("onair: ONAIR_NOT_BUILT: dist/ is missing; run `npm run setup` first\n");
  process.exit(1);
}
const { run } = await import(pathToFileURL(main).href);
process.exitCode = await run(process.argv);
