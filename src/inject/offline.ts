import { createReadStream, createWriteStream, fstatSync, type BigIntStats } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import { once } from "node:events";
import { OnairError } from "../core/errors.js";
import { TsReader, type TsReaderStats } from "../ts/index.js";
import type { ChannelProfile } from "../config/profile-schema.js";
import type { DvbCharset } from "../si/text.js";
import type { SiFillerOptions } from "./si-filler.js";
import { Injector, type InjectorCounters, type InjectorEvent, type SlotFiller } from "./injector.js";
import { OfflineBreakTracker, type BreakOutcome } from "./offline-breaks.js";
import type { CuePlanConfig, PlannedCue } from "./planner.js";
import { TICKS } from "./planner.js";

export interface OfflineBreak {
  /** seconds after the PTS of the first video access unit (file order) */
  startSeconds: number;
  durationSeconds: number;
  breakId?: string;
}

export interface OfflineInjectOptions {
  /** a file, or "-" for stdin */
  input: string;
  /** a file, or "-" for stdout */
  output: string;
  breaks: OfflineBreak[];
  cue: CuePlanConfig;
  scte35Pid?: number;
  allocateEventId: () => number;
  /** wall time of the first packet (SI); default: now */
  startWallMs?: number;
  si?: SlotFiller;
  onEvent?: (e: InjectorEvent) => void;
  onCueSent?: (cue: PlannedCue, pcr: number, packetIndex: number, leadSeconds: number | undefined) => void;
}

export interface OfflineInjectResult {
  reader: TsReaderStats;
  injector: InjectorCounters;
  bytesOut: number;
  /** each requested break, in order, and whether it is in the output (see offline-breaks.ts) */
  breaks: BreakOutcome[];
  /** seconds from the first video frame to the last IDR, when there was video */
  lastIdrSeconds?: number;
}

/** The profile's `epg.charset` as a DVB text table (ISO 6937 is not written: UTF-8 instead). */
export function profileCharset(charset: ChannelProfile["epg"]["charset"]): DvbCharset {
  return charset === "latin-1" ? "iso-8859-1" : "utf-8";
}

/**
 * SI filler options from a channel profile: service fields (`service`), EPG switches, days,
 * text table, time zone and country (`epg`). The caller adds `channel` and `events`.
 */
export function siOptionsFromProfile(p: ChannelProfile): Omit<SiFillerOptions, "channel" | "events"> {
  return {
    service: {
      serviceId: p.service.serviceId,
      transportStreamId: p.service.transportStreamId,
      originalNetworkId: p.service.originalNetworkId,
      serviceName: p.service.name,
      providerName: p.service.provider,
      serviceType: p.service.type,
    },
    eit: p.epg.enabled,
    scheduleDays: p.epg.days,
    charset: profileCharset(p.epg.charset),
    timeZone: p.epg.timeZone,
    countryCode: p.epg.country,
  };
}

/** A regular file's stats (a path, or fd 0/1 for "-"), or undefined: missing, a pipe, a tty. */
async function regularFile(path: string, fd: 0 | 1): Promise<BigIntStats | undefined> {
  try {
    const st = path === "-" ? fstatSync(fd, { bigint: true }) : await stat(path, { bigint: true });
    return st.isFile() ? st : undefined;
  } catch {
    return undefined; // a missing input is reported when it is opened; a missing output is new
  }
}

/**
 * Refuses an output that is the input file, under any name: the same path, a symlink or a
 * hard link to it, or stdin/stdout redirected from/to it (same device and inode). Called
 * before the output is opened, since opening it for writing truncates the input.
 */
export async function refuseOutputOntoInput(input: string, output: string): Promise<void> {
  const a = await regularFile(input, 0);
  if (!a) return;
  const b = await regularFile(output, 1);
  if (!b || a.dev !== b.dev || a.ino !== b.ino) return;
  const real = input === "-" ? undefined : await realpath(input).catch(() => undefined);
  throw new OnairError(
    "ONAIR_INJECT_SAME_FILE",
    `the output ${output === "-" ? "(stdout)" : output} is the input file${real ? ` ${real}` : ""}: writing it would destroy the input; choose another output`,
    { input, output, realpath: real, dev: Number(a.dev), ino: Number(a.ino) },
  );
}

/**
 * The injector of an offline run with its break tracker: the breaks asked for (seconds after
 * the first video frame) planned, every event and sent cue passed to the tracker and then to
 * the caller. `injectFile` and the HLS run (hls/offline.ts) share it.
 */
export function offlineInjector(opts: Omit<OfflineInjectOptions, "input" | "output">): {
  tracker: OfflineBreakTracker;
  injector: Injector;
  /** The run's result once the input is read: the reader's counters, bytes out and each break's outcome. */
  result: (reader: TsReader, bytesOut: number) => OfflineInjectResult;
} {
  const tracker = new OfflineBreakTracker(opts.breaks);
  const injector = new Injector({
    scte35Pid: opts.scte35Pid,
    cue: opts.cue,
    allocateEventId: opts.allocateEventId,
    startWall: opts.startWallMs ?? Date.now(),
    onEvent: (e) => {
      tracker.onEvent(e);
      opts.onEvent?.(e);
    },
    onCueSent: (cue, pcr, packetIndex, leadSeconds) => {
      tracker.onCueSent(cue);
      opts.onCueSent?.(cue, pcr, packetIndex, leadSeconds);
    },
    onIdr: (pts) => tracker.onIdr(pts),
    si: opts.si,
  });
  for (const b of opts.breaks) {
    injector.addBreakFromStart(Math.round(b.startSeconds * TICKS), Math.round(b.durationSeconds * TICKS), b.breakId);
  }
  const result = (reader: TsReader, bytesOut: number): OfflineInjectResult => {
    const first = injector.firstVideoPts;
    return {
      reader: { ...reader.stats },
      injector: injector.stats,
      bytesOut,
      breaks: tracker.outcomes(first),
      lastIdrSeconds: tracker.lastIdrSeconds(first),
    };
  };
  return { tracker, injector, result };
}

/**
 * Runs the injector over a file: the same stage the live channel runs, with no lookahead.
 * Respects the output's back-pressure; the read side is never ahead by more than a chunk.
 * Refuses (ONAIR_INJECT_SAME_FILE) an output that is the input, before touching either.
 */
export async function injectFile(opts: OfflineInjectOptions): Promise<OfflineInjectResult> {
  await refuseOutputOntoInput(opts.input, opts.output);
  const { injector, result } = offlineInjector(opts);
  const pending: Buffer[] = [];
  const emit = (b: Buffer): void => {
    pending.push(b);
  };
  // runs inside the chunk just read are ours to edit in place; a packet stitched across two
  // chunks lives in the reader's own buffer, which it reuses, so that one is copied
  let chunkNow: Uint8Array | undefined;
  const reader = new TsReader({ onPackets: (buf, start, count) => injector.process(buf, start, count, emit, buf === chunkNow) });
  // "-" reads stdin / writes stdout, so FFmpeg can pipe into it
  const input = opts.input === "-" ? process.stdin : createReadStream(opts.input, { highWaterMark: 1 << 20 });
  const output = opts.output === "-" ? process.stdout : createWriteStream(opts.output);
  const outputError = new Promise<never>((_, reject) => output.once("error", reject));
  outputError.catch(() => undefined);
  let bytesOut = 0;
  const flush = async (): Promise<void> => {
    for (const b of pending) {
      bytesOut += b.length;
      if (!output.write(b)) await Promise.race([once(output, "drain"), outputError]);
    }
    pending.length = 0;
  };
  try {
    for await (const chunk of input) {
      chunkNow = chunk as Buffer;
      reader.push(chunkNow);
      await flush();
    }
    reader.end();
    injector.end();
    await flush();
    if (output !== process.stdout) {
      output.end();
      await Promise.race([once(output, "finish"), outputError]);
    }
  } catch (e) {
    if (output !== process.stdout) output.destroy();
    if (input !== process.stdin) input.destroy();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT" || err.code === "EACCES" || err.code === "EISDIR") {
      throw new OnairError("ONAIR_INJECT_IO", `cannot read or write ${err.path ?? "a file"}: ${err.code}`, { path: err.path });
    }
    throw e;
  }
  return result(reader, bytesOut);
}
