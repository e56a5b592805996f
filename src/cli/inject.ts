/**
 * `onair inject`: runs the injector over a TS file, the way the live channel does, with no
 * lookahead. How users test a stream before air, and how the golden tests run.
 */
import { Command, Option } from "commander";
import { OnairError } from "../core/errors.js";
import { resolveStorePath } from "../core/paths.js";
import { injectFile, parseBreakArg, type OfflineBreak } from "../inject/offline.js";
import type { InjectorEvent } from "../inject/injector.js";
import { TICKS, defaultCuePlanConfig, type CueMode } from "../inject/planner.js";
import { createLogger } from "../observe/logger.js";
import { openStore } from "../store/db.js";
import { out as outLine } from "./io.js";

interface InjectOpts {
  input: string;
  output: string;
  break: OfflineBreak[];
  mode: CueMode;
  preroll: string;
  repeat: string;
  autoReturn: boolean;
  pid: string;
  heartbeat?: string;
  channel: string;
  store?: string;
  dataDir?: string;
  json?: boolean;
  verbose?: boolean;
}

function num(v: string, flag: string, min: number, max: number, integer = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new OnairError("ONAIR_CLI_BAD_OPTION", `${flag} must be ${integer ? "a whole number" : "a number"} in ${min}..${max} (got "${v}")`);
  }
  return n;
}

export function registerInject(program: Command): void {
  program
    .command("inject")
    .description("insert SCTE-35 cues into a TS file (same stage as the live channel, no lookahead)")
    .requiredOption("--input <file>", "input MPEG-TS file (- for stdin)")
    .requiredOption("--output <file>", "output MPEG-TS file (- for stdout; the summary then goes to stderr)")
    .option("--break <start,duration>", "a break: seconds after the first video frame, and its length in seconds (repeatable)", (v: string, prev: OfflineBreak[]) => [...prev, parseBreakArg(v)], [])
    .addOption(new Option("--mode <mode>", "cue style").choices(["splice_insert", "time_signal"]).default("splice_insert"))
    .option("--preroll <seconds>", "first send this long before the splice point (≥ 4)", "6")
    .option("--repeat <n>", "total sends of each cue, 1 s apart, same event id", "3")
    .option("--no-auto-return", "send a return splice_insert at the end instead of break_duration with auto_return")
    .option("--pid <pid>", "SCTE-35 PID", "500")
    .option("--heartbeat <seconds>", "splice_null heartbeat interval")
    .option("--channel <id>", "channel whose splice event id counter is used", "default")
    .option("--store <file>", "store file (default: onair.db in the data directory)")
    .option("--data-dir <dir>", "data directory")
    .option("--json", "print the summary as JSON")
    .option("--verbose", "log every cue and table event (JSON lines on stderr)")
    .action(async (o: InjectOpts) => {
      const preroll = Number(o.preroll);
      if (!Number.isFinite(preroll) || preroll < 4) {
        throw new OnairError("ONAIR_CUE_PREROLL", `--preroll must be at least 4 seconds (got "${o.preroll}")`);
      }
      const cue = defaultCuePlanConfig({
        prerollTicks: Math.round(preroll * TICKS),
        repeat: num(o.repeat, "--repeat", 1, 100, true),
        mode: o.mode,
        autoReturn: o.autoReturn,
        heartbeatTicks: o.heartbeat ? Math.round(num(o.heartbeat, "--heartbeat", 1, 3600) * TICKS) : 0,
      });
      const pid = num(o.pid, "--pid", 0x20, 0x1ffe, true);
      const log = createLogger({ destination: process.stderr, level: o.verbose ? "info" : "warn" }).child({ channel: o.channel });
      const store = openStore(resolveStorePath(o.store, { flag: o.dataDir }));
      try {
        const result = await injectFile({
          input: o.input,
          output: o.output,
          breaks: o.break,
          cue,
          scte35Pid: pid,
          allocateEventId: () => store.allocateSpliceEventId(o.channel),
          onEvent: (e: InjectorEvent) => {
            if (e.event === "break_moved" || e.event === "scte35_pid_conflict" || e.event === "pts_jump") log.warn(e);
            else log.info(e);
          },
          onCueSent: (c, pcr) => {
            if (c.sendsDone !== 1 || c.kind === "heartbeat") return;
            store.recordCue({
              channel: o.channel,
              spliceEventId: c.spliceEventId,
              kind: c.kind,
              pts: c.splicePts,
              section: Buffer.from(c.section).toString("base64"),
              details: { sentPcr: pcr, leadSeconds: (c.splicePts - pcr) / TICKS },
            });
          },
        });
        const s = result.injector;
        const out = o.output === "-" ? (line: string) => process.stderr.write(`${line}\n`) : outLine;
        if (o.json) {
          out(JSON.stringify({ reader: result.reader, injector: s, bytesOut: result.bytesOut }));
        } else {
          out(`packets: ${s.packetsIn} in, ${s.packetsOut} out (${s.nullsReplaced} nulls replaced, ${s.inserted} inserted)`);
          out(`breaks: ${s.breaksPlanned} planned, ${s.breaksMoved} moved for lead time`);
          out(`cues sent: ${Object.entries(s.cuesSent).map(([k, v]) => `${k} ${v}`).join(", ") || "none"} (${s.cuesRepeated} repeats, ${s.cuesDropped} dropped)`);
          out(`PMT version ${s.pmtVersion}; IDRs seen ${s.idrs}; PTS jumps ${s.ptsJumps}`);
          const r = result.reader;
          if (r.resyncs || r.bytesSkipped || r.truncatedPackets || r.transportErrors) {
            out(`damage: ${r.resyncs} resyncs, ${r.bytesSkipped} bytes skipped, ${r.truncatedBytes} bytes of a truncated packet, ${r.transportErrors} transport errors`);
          }
        }
      } finally {
        store.close();
      }
    });
}
