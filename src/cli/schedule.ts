/**
 * `onair schedule import|list|export|clear`: the schedule store from the command line.
 * Every subcommand takes `--store FILE` (default onair.db in the data directory) and
 * `--data-dir DIR`.
 *
 * This module only declares the commands (it is loaded by every `onair` run); the actions
 * and the store code they need load from schedule-actions.ts when one runs.
 */
import { Option, type Command } from "commander";
import type { ImportFlags, ExportFlags, ListFlags, RangeFlags } from "./schedule-actions.js";

const actions = () => import("./schedule-actions.js");

function storeOptions(cmd: Command): Command {
  return cmd
    .option("--store <file>", "store file (default: onair.db in the data directory)")
    .option("--data-dir <dir>", "data directory (default: $ONAIR_DATA_DIR, $STATE_DIRECTORY, /var/lib/onair or ~/.local/share/onair)");
}

const JSON_SCHEMA_HELP = `
JSON schedule format (unknown keys are errors; times are ISO-8601 with Z or an offset):
  { "channel"?: "ID",
    "items": [ { "start": "2025-06-01T12:00:00Z", "duration": 1800 | "stop": "2025-06-01T12:30:00Z",
                 "title": "…", "subtitle"?, "description"?, "language"?: "deu", "genre"?: "News",
                 "content"?: { "level1": 2, "level2": 0 }, "rating"?: 12 | { "system"?, "value", "minAge"? },
                 "episodeNum"?: [ { "system": "xmltv_ns", "value": "0.4." } ],
                 "breaks"?: [ { "start": ISO, "duration": seconds, "id"?: "…" } ] } ],
    "breaks"?: [ { "start": ISO, "duration": seconds, "id"?: "…" } ] }
Re-importing replaces the channel's items from the file's earliest start to its latest stop;
items that keep start, duration and title keep their DVB event_id. Every item must start
within 30 days back and 400 days ahead (else ONAIR_SCHEDULE_OUT_OF_RANGE, unless --force).
Limits: file 32 MiB, title 1 KiB, description 16 KiB, other texts 1 KiB (UTF-8 bytes).
XMLTV is read in the encoding its XML declaration names (ISO-8859-1 as windows-1252), else
UTF-8; JSON is UTF-8. Bytes that are not text, and XMLTV entity declarations, are refused.`;

export function registerSchedule(program: Command): void {
  const schedule = program.command("schedule").description("import, list, export and clear a channel's schedule (SQLite store)");

  storeOptions(
    schedule
      .command("import")
      .description("import an XMLTV or JSON schedule for a channel, all or nothing")
      .argument("<file>", "XMLTV (.xml) or JSON (.json) file")
      .requiredOption("--channel <id>", "onair channel id")
      .addOption(new Option("--format <format>", "file format (default: from the extension)").choices(["xmltv", "json"]))
      .option("--xmltv-channel <xid>", "XMLTV channel id of the programmes to import (default: the channel id)")
      .option("--force", "accept items that start more than 30 days ago or more than 400 days ahead")
      .option("--json", "print the result as JSON")
      .addHelpText("after", JSON_SCHEMA_HELP),
  ).action(async (file: string, opts: ImportFlags) => (await actions()).importAction(file, opts));

  storeOptions(
    schedule
      .command("list")
      .description("list a channel's schedule items (those overlapping --from … --to)")
      .requiredOption("--channel <id>", "onair channel id")
      .option("--from <time>", "ISO-8601 time (no zone = UTC)")
      .option("--to <time>", "ISO-8601 time (no zone = UTC)")
      .option("--json", "print items as JSON"),
  ).action(async (opts: ListFlags) => (await actions()).listAction(opts));

  storeOptions(
    schedule
      .command("export")
      .description("export a channel's schedule as XMLTV or JSON (imports back to the same items)")
      .requiredOption("--channel <id>", "onair channel id")
      .addOption(new Option("--format <format>", "output format").choices(["xmltv", "json"]).makeOptionMandatory())
      .option("--from <time>", "ISO-8601 time (no zone = UTC)")
      .option("--to <time>", "ISO-8601 time (no zone = UTC)")
      .option("--out <file>", "write to a file instead of stdout"),
  ).action(async (opts: ExportFlags) => (await actions()).exportAction(opts));

  storeOptions(
    schedule
      .command("clear")
      .description("remove a channel's items and standalone breaks that start in --from … --to (all without bounds)")
      .requiredOption("--channel <id>", "onair channel id")
      .option("--from <time>", "ISO-8601 time (no zone = UTC)")
      .option("--to <time>", "ISO-8601 time (no zone = UTC)"),
  ).action(async (opts: RangeFlags) => (await actions()).clearAction(opts));
}
