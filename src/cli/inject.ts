/**
 * `onair inject`: runs the injector over a TS file, the way the live channel does, with no
 * lookahead. How users test a stream before air, and how the golden tests run.
 *
 * This module only declares the command (it is loaded by every `onair` run); the action and
 * the injector load from inject-actions.ts when it runs. The options come in groups, in the
 * order `--help` lists them: a feature that adds options to `onair inject` adds its group to
 * INJECT_OPTION_GROUPS and reads its flags in the action.
 */
import { Option, type Command } from "commander";
import { DEFAULT_SEGMENT_SECONDS, MARKER_STYLES } from "../hls/options.js";
import type { OfflineBreak } from "../inject/offline.js";
import { parseBreakArg } from "./break-arg.js";
import type { InjectOpts } from "./inject-actions.js";

const actions = () => import("./inject-actions.js");

/** Adds one group of options to the `inject` command. */
export type InjectOptionsGroup = (cmd: Command) => Command;

/** `--input`, `--output`. */
function ioOptions(cmd: Command): Command {
  return cmd
    .requiredOption("--input <file>", "input MPEG-TS file (- for stdin)")
    .option("--output <file>", "output MPEG-TS file (- for stdout; the summary then goes to stderr); or --hls");
}

/** `--hls DIR` in place of `--output` (cli/inject-hls.ts runs it). */
function hlsOptions(cmd: Command): Command {
  return cmd
    .option("--hls <dir>", "write HLS instead of a TS file: DIR/index.m3u8 (VOD, all segments) and DIR/master.m3u8")
    .option("--hls-segment-seconds <s>", "HLS target segment length; segments are cut on IDRs only", String(DEFAULT_SEGMENT_SECONDS))
    .addOption(new Option("--hls-markers <style>", "ad markers in the playlist").choices(MARKER_STYLES).default("cue"));
}

/** The breaks and how their cues are sent. */
function cueOptions(cmd: Command): Command {
  return cmd
    .option(
      "--break <start,duration>",
      "a break: seconds after the first video frame, and its length in seconds (repeatable)",
      (v: string, prev: OfflineBreak[]) => [...prev, parseBreakArg(v)],
      [],
    )
    .addOption(new Option("--mode <mode>", "cue style").choices(["splice_insert", "time_signal"]).default("splice_insert"))
    .option("--preroll <seconds>", "first send this long before the splice point (≥ 4)", "6")
    .option("--repeat <n>", "total sends of each cue, 1 s apart, same event id", "3")
    .option("--no-auto-return", "send a return splice_insert at the end instead of break_duration with auto_return")
    .option("--pid <pid>", "SCTE-35 PID", "500")
    .option("--heartbeat <seconds>", "splice_null heartbeat interval");
}

/** The channel and its store (splice event ids, schedule). */
function storeOptions(cmd: Command): Command {
  return cmd
    .option("--channel <id>", "channel whose splice event id counter (and, with SI, schedule) is used", "default")
    .option("--store <file>", "store file (default: onair.db in the data directory)")
    .option("--data-dir <dir>", "data directory");
}

/** DVB SI and the profile it takes its service and EPG fields from. */
function siOptions(cmd: Command): Command {
  return cmd
    .option("--start-time <iso>", "add DVB SI (SDT, EIT p/f + schedule from the store, TDT/TOT), the first packet being this wall time")
    .option("--profile <file>", "channel profile for SI service fields, EPG days, language and time zone (clear YAML/JSON or sealed)")
    .option("--key-file <file>", "key for a sealed --profile")
    .option("--passphrase-file <file>", "passphrase for a sealed --profile");
}

/** What the run prints. */
function reportOptions(cmd: Command): Command {
  return cmd.option("--json", "print the summary as JSON").option("--verbose", "log every cue and table event (JSON lines on stderr)");
}

/** The options of `onair inject`, group by group, in `--help` order. */
export const INJECT_OPTION_GROUPS: readonly InjectOptionsGroup[] = [
  ioOptions,
  hlsOptions,
  cueOptions,
  storeOptions,
  siOptions,
  reportOptions,
];

export function registerInject(program: Command): void {
  const cmd = program.command("inject").description("insert SCTE-35 cues into a TS file (same stage as the live channel, no lookahead)");
  for (const addGroup of INJECT_OPTION_GROUPS) addGroup(cmd);
  cmd.action(async (o: InjectOpts, c: Command) => (await actions()).injectAction(o, c));
}
