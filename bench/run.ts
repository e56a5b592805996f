/**
 * `npm run bench`: runs every benchmark module in this folder (each exports
 * `run(): Promise<void>` and prints its own lines: throughput of ours, of the reference
 * measured in the same run, and the ratio). `npm run bench -- NAME` runs the ones whose
 * file name contains NAME.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

interface BenchModule {
  run(): Promise<void>;
}

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith(".js") && f !== "run.js" && !f.startsWith("_"))
  .filter((f) => !filter || f.includes(filter))
  .sort();

for (const f of files) {
  process.stdout.write(`\n== ${f.replace(/\.js$/, "")} ==\n`);
  const mod = (await import(pathToFileURL(join(here, f)).href)) as BenchModule;
  await mod.run();
}
