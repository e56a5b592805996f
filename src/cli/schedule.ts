/**
 * `onair schedule import|list|export|clear`: the schedule store from the command line.
 * Every subcommand takes `--store FILE` (default onair.db in the data directory) and
 * `--data-dir DIR`.
 */
import { Command, Option } from "commander";
import { writeFileSync } from "node:fs";
import { OnairError } from "../core/errors.js";
import { resolveStorePath } from "../core/paths.js";
import { openStore, type Store } from "../store/db.js";
import { exportSchedule, importScheduleFile, type ScheduleFormat } from "../schedule/import.js";
import { endMs } from "../schedule/model.js";
import { out } from "./io.js";

interface StoreOpts {
  store?: string;
  dataDir?: string;
}

interface RangeOpts extends StoreOpts {
  channel: string;
  from?: string;
  to?: string;
}

function withStore<T>(opts: StoreOpts, fn: (store: Store) => T): T {
  const store = openStore(resolveStorePath(opts.store, { flag: opts.dataDir }));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** CLI times: ISO-8601 (no zone = UTC), a date (UTC midnight), or epoch ms. */
export function parseCliTime(s: string, flag: string): number {
  let t: number;
  if (/^\d{10,}$/.test(s)) t = Number(s);
  else if (/^\d{4}-\d{2}-\d{2}T[\d:.]+$/.test(s)) t = Date.parse(`${s}Z`);
  else t = Date.parse(s);
  if (Number.isNaN(t)) {
    throw new OnairError("ONAIR_CLI_BAD_TIME", `${flag} "${s}" is not a time (ISO-8601 such as 2025-06-01T12:00:00Z)`, { flag, value: s });
  }
  return t;
}

function range(opts: RangeOpts): { from?: number; to?: number } {
  const r: { from?: number; to?: number } = {};
  if (opts.from !== undefined) r.from = parseCliTime(opts.from, "--from");
  if (opts.to !== undefined) r.to = parseCliTime(opts.to, "--to");
  if (r.from !== undefined && r.to !== undefined && r.to <= r.from) {
    throw new OnairError("ONAIR_CLI_BAD_TIME", "--to is not after --from", {});
  }
  return r;
}

function storeOptions(cmd: Command): Command {
  return cmd
    .option("--store <file>", "store file (default: onair.db in the data directory)")
    .option("--data-dir <dir>", "data directory (default: $ONAIR_DATA_DIR, $STATE_DIRECTORY, /var/lib/onair or ~/.local/share/onair)");
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z");

function hms(ms: number): string {
  const s = Math.round(ms / 1000);
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
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
  ).action((file: string, opts: StoreOpts & { channel: string; format?: ScheduleFormat; xmltvChannel?: string; force?: boolean; json?: boolean }) => {
    withStore(opts, (store) => {
      const r = importScheduleFile(store, file, { channel: opts.channel, format: opts.format, xmltvChannel: opts.xmltvChannel, force: opts.force });
      if (opts.json) {
        out(JSON.stringify(r));
        return;
      }
      out(
        `imported ${r.inserted} items into channel ${r.channel} (${iso(r.windowStartMs)} – ${iso(r.windowEndMs)}): ` +
          `${r.keptEventIds} kept their event_id, ${r.removed} replaced, ${r.truncated} cut at the window start` +
          (r.format === "json" ? `, ${r.breaks} standalone breaks` : ""),
      );
    });
  });

  storeOptions(
    schedule
      .command("list")
      .description("list a channel's schedule items (those overlapping --from … --to)")
      .requiredOption("--channel <id>", "onair channel id")
      .option("--from <time>", "ISO-8601 time (no zone = UTC)")
      .option("--to <time>", "ISO-8601 time (no zone = UTC)")
      .option("--json", "print items as JSON"),
  ).action((opts: RangeOpts & { json?: boolean }) => {
    const { from, to } = range(opts);
    withStore(opts, (store) => {
      const items = store.listItems(opts.channel, from, to);
      if (opts.json) {
        out(JSON.stringify(items, null, 2));
        return;
      }
      if (items.length === 0) {
        out(`no items for channel ${opts.channel}`);
        return;
      }
      out("START (UTC)            STOP (UTC)             DURATION  EVENT  BREAKS  TITLE");
      for (const it of items) {
        out(
          `${iso(it.startMs).padEnd(22)} ${iso(endMs(it)).padEnd(22)} ${hms(it.durationMs).padStart(8)}  ${String(it.eventId).padStart(5)}  ${String(
            it.breaks.length,
          ).padStart(6)}  ${it.title}`,
        );
      }
    });
  });

  storeOptions(
    schedule
      .command("export")
      .description("export a channel's schedule as XMLTV or JSON (imports back to the same items)")
      .requiredOption("--channel <id>", "onair channel id")
      .addOption(new Option("--format <format>", "output format").choices(["xmltv", "json"]).makeOptionMandatory())
      .option("--from <time>", "ISO-8601 time (no zone = UTC)")
      .option("--to <time>", "ISO-8601 time (no zone = UTC)")
      .option("--out <file>", "write to a file instead of stdout"),
  ).action((opts: RangeOpts & { format: ScheduleFormat; out?: string }) => {
    const { from, to } = range(opts);
    withStore(opts, (store) => {
      const text = exportSchedule(store, opts.channel, opts.format, from, to);
      if (opts.out) writeFileSync(opts.out, text);
      else process.stdout.write(text);
    });
  });

  storeOptions(
    schedule
      .command("clear")
      .description("remove a channel's items and standalone breaks that start in --from … --to (all without bounds)")
      .requiredOption("--channel <id>", "onair channel id")
      .option("--from <time>", "ISO-8601 time (no zone = UTC)")
      .option("--to <time>", "ISO-8601 time (no zone = UTC)"),
  ).action((opts: RangeOpts) => {
    const { from, to } = range(opts);
    withStore(opts, (store) => {
      const r = store.clearSchedule(opts.channel, from, to);
      out(`removed ${r.items} items and ${r.breaks} standalone breaks from channel ${opts.channel}`);
    });
  });
}
