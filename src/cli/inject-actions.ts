/**
 * The action of `onair inject` (declared in inject.ts, loaded when it runs): the injector
 * over a TS file, the way the live channel does, with no lookahead.
 */
import type { Command } from "commander";
import { OnairError } from "../core/errors.js";
import { resolveStorePath } from "../core/paths.js";
import { siOptionsFromProfile, type OfflineBreak, type OfflineInjectResult } from "../inject/offline.js";
import { breaksNotPlacedError } from "../inject/offline-breaks.js";
import type { InjectorEvent } from "../inject/injector.js";
import { SiSlotFiller, type SiFillerOptions, type SiFillerStats } from "../inject/si-filler.js";
import { isSealedName, loadProfileFile } from "../config/loader.js";
import { resolveKey, wipeKey } from "../config/keys.js";
import type { ChannelProfile } from "../config/profile-schema.js";
import { siEventsFromItems } from "../schedule/si-events.js";
import { parseCliTime } from "./time.js";
import { TICKS, defaultCuePlanConfig, type CueMode, type CuePlanConfig } from "../inject/planner.js";
import { createLogger, type Logger } from "../observe/logger.js";
import { openStore, type Store } from "../store/db.js";
import { out as outLine } from "./io.js";
import { hlsJson, injectRunner, type HlsCliOpts } from "./inject-hls.js";

/** The parsed flags of `onair inject` (inject.ts declares them, by options group). */
export interface InjectOpts extends HlsCliOpts {
  input: string;
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
  startTime?: string;
  profile?: string;
  keyFile?: string;
  passphraseFile?: string;
}

async function loadProfile(o: InjectOpts): Promise<ChannelProfile> {
  const path = o.profile!;
  if (!isSealedName(path)) return (await loadProfileFile(path, { allowClear: true })).profile;
  const key = await resolveKey({ keyFile: o.keyFile, passphraseFile: o.passphraseFile });
  try {
    return (await loadProfileFile(path, { key })).profile;
  } finally {
    await wipeKey(key);
  }
}

function siSummary(s: SiFillerStats): string[] {
  const lines: string[] = [];
  const svc = s.service;
  if (!svc) return ["SI: not started (no PAT in the input)"];
  lines.push(
    `SI: service ${svc.serviceId} "${svc.serviceName}" / "${svc.providerName}" (tsid ${svc.transportStreamId}, onid 0x${svc.originalNetworkId
      .toString(16)
      .toUpperCase()}, from the ${s.serviceSource}); ${s.events} events; ${s.sections} sections in ${s.packets} packets`,
  );
  const tables = s.tables.map((t) => {
    const version = t.versionNumber !== undefined ? ` v${t.versionNumber}` : "";
    return `${t.key} ${t.sectionsSent}${version} (max ${(t.longestIntervalMs / 1000).toFixed(1)} s)`;
  });
  if (tables.length) lines.push(`SI tables: ${tables.join(", ")}`);
  if (s.droppedEvents) lines.push(`SI: ${s.droppedEvents} events did not fit their EIT segment`);
  return lines;
}

function num(v: string, flag: string, min: number, max: number, integer = false): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new OnairError(
      "ONAIR_CLI_BAD_OPTION",
      `${flag} must be ${integer ? "a whole number" : "a number"} in ${min}..${max} (got "${v}")`,
    );
  }
  return n;
}

/** The run's summary on stdout (on stderr when the TS goes to stdout): text, or one JSON line. */
function printSummary(o: InjectOpts, result: OfflineInjectResult, si: SiFillerStats | undefined): void {
  const s = result.injector;
  const out = o.output === "-" ? (line: string) => process.stderr.write(`${line}\n`) : outLine;
  if (o.json) {
    out(
      JSON.stringify({
        reader: result.reader,
        injector: s,
        bytesOut: result.bytesOut,
        breaks: result.breaks,
        ...(si ? { si } : {}),
        ...hlsJson(result),
      }),
    );
    return;
  }
  out(`packets: ${s.packetsIn} in, ${s.packetsOut} out (${s.nullsReplaced} nulls replaced, ${s.inserted} inserted)`);
  const placed = result.breaks.filter((b) => b.placed).length;
  out(`breaks: ${placed} of ${result.breaks.length} placed; ${s.breaksPlanned} planned, ${s.breaksMoved} moved for lead time`);
  out(
    `cues sent: ${
      Object.entries(s.cuesSent)
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") || "none"
    } (${s.cuesRepeated} repeats, ${s.cuesDropped} dropped)`,
  );
  out(`PMT version ${s.pmtVersion}; IDRs seen ${s.idrs}; PTS jumps ${s.ptsJumps}`);
  if (si) for (const line of siSummary(si)) out(line);
  const r = result.reader;
  if (r.resyncs || r.bytesSkipped || r.truncatedPackets || r.transportErrors) {
    const truncated = `${r.truncatedBytes} bytes of a truncated packet`;
    out(`damage: ${r.resyncs} resyncs, ${r.bytesSkipped} bytes skipped, ${truncated}, ${r.transportErrors} transport errors`);
  }
}

/** The cue plan from `--preroll`, `--repeat`, `--mode`, `--no-auto-return` and `--heartbeat`. */
function cuePlan(o: InjectOpts): CuePlanConfig {
  const preroll = Number(o.preroll);
  if (!Number.isFinite(preroll) || preroll < 4) {
    throw new OnairError("ONAIR_CUE_PREROLL", `--preroll must be at least 4 seconds (got "${o.preroll}")`);
  }
  return defaultCuePlanConfig({
    prerollTicks: Math.round(preroll * TICKS),
    repeat: num(o.repeat, "--repeat", 1, 100, true),
    mode: o.mode,
    autoReturn: o.autoReturn,
    heartbeatTicks: o.heartbeat ? Math.round(num(o.heartbeat, "--heartbeat", 1, 3600) * TICKS) : 0,
  });
}

/** The SI filler of a run with `--start-time` or `--profile`: service and EPG from the profile, events from the store. */
function siFiller(store: Store, channel: string, profile: ChannelProfile | undefined, log: Logger): SiSlotFiller {
  const base = profile ? siOptionsFromProfile(profile) : {};
  const mapping = { defaultLanguage: profile?.epg.language, ratingCountry: profile?.epg.country };
  const siOpts: SiFillerOptions = {
    ...base,
    channel,
    events: (from, to) => siEventsFromItems(store.eventsForSi(channel, from, to), mapping),
    onEvent: (e) => {
      if (e.event === "si_started" && e.events === 0)
        log.warn({ ...e, event: "epg_empty" }, `no schedule items for channel ${channel} around the start time`);
      else if (e.event === "si_service_mismatch" || e.event === "si_no_input_sdt") log.warn(e);
      else log.info(e);
    },
  };
  return new SiSlotFiller(siOpts);
}

interface InjectRun {
  o: InjectOpts;
  breaks: OfflineBreak[];
  cue: CuePlanConfig;
  pid: number;
  channel: string;
  startWallMs: number;
  log: Logger;
}

/** Runs the injector over the file with the store's event ids; the cues sent go to the store. */
async function injectWithStore(r: InjectRun, store: Store, si: SiSlotFiller | undefined): Promise<OfflineInjectResult> {
  const { channel, log } = r;
  return injectRunner(r.o)({
    input: r.o.input,
    output: r.o.output ?? "",
    breaks: r.breaks,
    cue: r.cue,
    scte35Pid: r.pid,
    allocateEventId: () => store.allocateSpliceEventId(channel),
    startWallMs: r.startWallMs,
    si,
    onEvent: (e: InjectorEvent) => {
      if (e.event === "break_moved" || e.event === "scte35_pid_conflict" || e.event === "pts_jump") log.warn(e);
      else log.info(e);
    },
    onCueSent: (c, pcr, _idx, leadSeconds) => {
      if (c.sendsDone !== 1 || c.kind === "heartbeat") return;
      store.recordCue({
        channel,
        spliceEventId: c.spliceEventId,
        kind: c.kind,
        pts: c.splicePts,
        section: Buffer.from(c.section).toString("base64"),
        details: { sentPcr: pcr, leadSeconds: leadSeconds ?? 0 },
      });
    },
  });
}

export async function injectAction(o: InjectOpts, cmd: Command): Promise<void> {
  const cue = cuePlan(o);
  const pid = num(o.pid, "--pid", 0x20, 0x1ffe, true);
  const profile = o.profile ? await loadProfile(o) : undefined;
  // the profile names the channel unless --channel is given
  const channel = profile && cmd.getOptionValueSource("channel") === "default" ? profile.channel.id : o.channel;
  const log = createLogger({ destination: process.stderr, level: o.verbose ? "info" : "warn" }).child({ channel });
  const withSi = o.startTime !== undefined || profile !== undefined;
  const startWallMs = o.startTime !== undefined ? parseCliTime(o.startTime, "--start-time") : Date.now();
  const store = openStore(resolveStorePath(o.store, { flag: o.dataDir }));
  try {
    const si = withSi ? siFiller(store, channel, profile, log) : undefined;
    const result = await injectWithStore({ o, breaks: o.break, cue, pid, channel, startWallMs, log }, store, si);
    printSummary(o, result, si?.stats());
    // the output is complete; a requested break missing from it still fails the command
    const notPlaced = breaksNotPlacedError(result.breaks, result.lastIdrSeconds);
    if (notPlaced) throw notPlaced;
  } finally {
    store.close();
  }
}
