/** The actions of `onair schedule …` (declared in schedule.ts, loaded when one runs). */
import { writeFileSync } from "node:fs";
import { resolveStorePath } from "../core/paths.js";
import { openStore, type Store } from "../store/db.js";
import { exportSchedule, importScheduleFile, type ScheduleFormat } from "../schedule/import.js";
import { endMs } from "../schedule/model.js";
import { out } from "./io.js";
import { parseCliRange } from "./time.js";

interface StoreFlags {
  store?: string;
  dataDir?: string;
}

export interface RangeFlags extends StoreFlags {
  channel: string;
  from?: string;
  to?: string;
}

export type ImportFlags = StoreFlags & { channel: string; format?: ScheduleFormat; xmltvChannel?: string; force?: boolean; json?: boolean };
export type ListFlags = RangeFlags & { json?: boolean };
export type ExportFlags = RangeFlags & { format: ScheduleFormat; out?: string };

function withStore<T>(opts: StoreFlags, fn: (store: Store) => T): T {
  const store = openStore(resolveStorePath(opts.store, { flag: opts.dataDir }));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

const iso = (ms: number): string => new Date(ms).toISOString().replace(".000Z", "Z");

function hms(ms: number): string {
  const s = Math.round(ms / 1000);
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${p(Math.floor(s / 3600))}:${p(Math.floor((s % 3600) / 60))}:${p(s % 60)}`;
}

export function importAction(file: string, opts: ImportFlags): void {
  withStore(opts, (store) => {
    const r = importScheduleFile(store, file, {
      channel: opts.channel,
      format: opts.format,
      xmltvChannel: opts.xmltvChannel,
      force: opts.force,
    });
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
}

export function listAction(opts: ListFlags): void {
  const { from, to } = parseCliRange(opts);
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
      const times = `${iso(it.startMs).padEnd(22)} ${iso(endMs(it)).padEnd(22)} ${hms(it.durationMs).padStart(8)}`;
      out(`${times}  ${String(it.eventId).padStart(5)}  ${String(it.breaks.length).padStart(6)}  ${it.title}`);
    }
  });
}

export function exportAction(opts: ExportFlags): void {
  const { from, to } = parseCliRange(opts);
  withStore(opts, (store) => {
    const text = exportSchedule(store, opts.channel, opts.format, from, to);
    if (opts.out) writeFileSync(opts.out, text);
    else process.stdout.write(text);
  });
}

export function clearAction(opts: RangeFlags): void {
  const { from, to } = parseCliRange(opts);
  withStore(opts, (store) => {
    const r = store.clearSchedule(opts.channel, from, to);
    out(`removed ${r.items} items and ${r.breaks} standalone breaks from channel ${opts.channel}`);
  });
}
