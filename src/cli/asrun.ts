/**
 * `onair asrun export --channel ID [--from T] [--to T] [--format csv|json] [--kind K] [--out FILE]`:
 * the as-run log (items aired, cues sent) with scheduled and actual time, PTS and event id.
 * Times: ISO-8601 (no zone = UTC), a date, or epoch ms; --from inclusive, --to exclusive, on
 * the actual time.
 */
import { Option, type Command } from "commander";
import { writeFileSync } from "node:fs";
import { resolveStorePath } from "../core/paths.js";
import type { AsRunFormat } from "../store/asrun-export.js";
import { out } from "./io.js";
import { parseCliRange } from "./time.js";

interface ExportFlags {
  channel: string;
  from?: string;
  to?: string;
  format: AsRunFormat;
  kind?: string;
  out?: string;
  store?: string;
  dataDir?: string;
}

export function registerAsRun(program: Command): void {
  const asrun = program.command("asrun").description("the as-run log: what aired and which cues were sent");
  asrun
    .command("export")
    .description("export a channel's as-run log as CSV or JSON")
    .option("--channel <id>", "onair channel id", "default")
    .option("--from <time>", "actual time from (inclusive; ISO-8601, no zone = UTC)")
    .option("--to <time>", "actual time to (exclusive)")
    .addOption(new Option("--format <format>", "output format").choices(["csv", "json"]).default("csv"))
    .option("--kind <kind>", 'only this kind ("item", "cue", …)')
    .option("--out <file>", "write to FILE instead of stdout")
    .option("--store <file>", "store file (default: onair.db in the data directory)")
    .option("--data-dir <dir>", "data directory (default: $ONAIR_DATA_DIR, $STATE_DIRECTORY, /var/lib/onair or ~/.local/share/onair)")
    .action(async (f: ExportFlags) => {
      const { from: fromMs, to: toMs } = parseCliRange(f);
      // the store loads when the command runs: this module is loaded by every `onair` run
      const [{ exportAsRun }, { openStore }] = await Promise.all([import("../store/asrun-export.js"), import("../store/db.js")]);
      const store = openStore(resolveStorePath(f.store, { flag: f.dataDir }));
      let text: string;
      try {
        text = exportAsRun(store, { channel: f.channel, fromMs, toMs, kind: f.kind }, f.format);
      } finally {
        store.close();
      }
      if (f.out) writeFileSync(f.out, text);
      else process.stdout.write(text);
      if (f.out) out(`wrote ${f.out}`);
    });
}
