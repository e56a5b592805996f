/**
 * What the daemon shows of a channel, as pure functions of what the channel and the store
 * report (no I/O, no clock: `now` is an argument):
 * - `channelSnapshot`: the metrics snapshot of one scrape (observe/metrics.ts), with the
 *   output bitrate measured over at least `RATE_WINDOW_MS` between scrapes (`Rate` carries
 *   the last measurement from one scrape to the next);
 * - `channelView`: the API's view of a channel (GET /api/v1/channels[/:id]), and
 *   `consoleViewFields`, what the console adds to it (docs/api.md, ChannelView): name, time
 *   zone, next programme, output bitrate, TR 101 290 counters, last alert, HLS playlist,
 *   thumbnail and the break on air (`onAirBreak`); `countersView`, the event stream's
 *   `counters` event;
 * - `channelsReadiness`: the /readyz channel check.
 * A channel is "up" while its last packet went out less than `UP_WINDOW_MS` ago.
 */
import type { CueRequest } from "../store/cue-requests.js";
import type { ChannelView } from "../observe/http.js";
import { siFromCarousel, type ChannelSnapshot, type HlsSnapshot, type RestartReason, type Scte35Command } from "../observe/metrics.js";
import { PTS_CLOCK_HZ } from "../ts/timestamps.js";

export const UP_WINDOW_MS = 2000;
export const RATE_WINDOW_MS = 1000;
/** 90 kHz: the unit of a planned break's duration (splice_insert break_duration) */
const TICKS_PER_SECOND = PTS_CLOCK_HZ;

/** The output bitrate measured between scrapes. */
export interface Rate {
  bytes: number;
  at: number;
  bps: number | null;
}

type Mode = "splice_insert" | "time_signal";

/** What a snapshot reads of a channel's status (a `ChannelStatus` fits). */
export interface SnapshotStatus {
  bytesOut: number;
  lastOutputAt: number | null;
  source: string;
  live: {
    restartsByReason: Partial<Record<RestartReason, number>>;
    replacements: { manual: number; planned: number };
    lastProgress: { bitrate: number | null } | null;
  };
  injector: {
    packetsIn: number;
    packetsOut: number;
    nullsReplaced: number;
    inserted: number;
    cuesSent: Partial<Record<Scte35Command, number>>;
    cuesRepeated: number;
    breaksMoved: number;
    breaksDue: number;
  };
  si?: { tables: readonly { key: string; versionNumber: number | undefined; sectionsSent: number }[] } | undefined;
  /** the monitor's TR 101 290 counters (camelCase) */
  monitor: object;
  playlist?: { mediaMissing: number; mediaFailed: number } | undefined;
  outputs: readonly { name: string; errors: number; failing: boolean }[];
  hls?: HlsSnapshot | undefined;
}

/** The monitor's counters (camelCase) under the metric's indicator names (snake_case). */
export function monitorIndicators(m: object): ChannelSnapshot["monitorErrors"] {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(m as Record<string, number>)) out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = v;
  return out;
}

/** The bitrate measured since `prev` (kept until `RATE_WINDOW_MS` have passed); the first call only starts a measurement. */
export function nextRate(prev: Rate | undefined, bytesOut: number, now: number): Rate {
  const r = prev ? { ...prev } : { bytes: bytesOut, at: now, bps: null };
  if (now - r.at >= RATE_WINDOW_MS) {
    r.bps = ((bytesOut - r.bytes) * 8 * 1000) / (now - r.at);
    r.bytes = bytesOut;
    r.at = now;
  }
  return r;
}

/** One channel's metrics snapshot; `rate` is the one returned by the previous scrape's call. */
export function channelSnapshot(
  s: SnapshotStatus,
  mode: Mode,
  secondsToNextSplice: number | null,
  rate: Rate | undefined,
  now: number,
): { snapshot: ChannelSnapshot; rate: Rate } {
  const inj = s.injector;
  const r = nextRate(rate, s.bytesOut, now);
  const si = s.si ? siFromCarousel(s.si.tables) : { tableVersions: {}, sectionsSent: {} };
  const snapshot: ChannelSnapshot = {
    up: s.lastOutputAt !== null && now - s.lastOutputAt < UP_WINDOW_MS,
    restartsByReason: { ...s.live.restartsByReason, manual: s.live.replacements.manual, planned: s.live.replacements.planned },
    inputBitrateBps: s.live.lastProgress?.bitrate ?? null,
    outputBitrateBps: r.bps,
    packetsIn: inj.packetsIn,
    packetsOut: inj.packetsOut,
    nullsReplaced: inj.nullsReplaced,
    packetsInserted: inj.inserted,
    cuesSent: { ...inj.cuesSent },
    cuesRepeated: { [mode]: inj.cuesRepeated },
    cuesLate: { [mode]: inj.breaksMoved },
    breaksDue: inj.breaksDue,
    secondsToNextSplice,
    tableVersions: si.tableVersions,
    sectionsSent: si.sectionsSent,
    slateActive: s.source === "slate",
    monitorErrors: monitorIndicators(s.monitor),
    playlistMediaMissing: s.playlist?.mediaMissing,
    playlistMediaFailed: s.playlist?.mediaFailed,
    outputs: s.outputs,
    hls: s.hls,
  };
  return { snapshot, rate: r };
}

/** What the API view is made of: the channel's status and splice plan, and what the store holds. */
export interface ViewInput {
  id: string;
  mode: Mode;
  status: { state: string; source: string; lastOutputAt: number | null; live: { restarts: number } };
  /** the injector's next planned splice, if any */
  next: { plan: { spliceEventId: number; breakDurationTicks: number }; seconds: number } | null;
  /** the earliest stored cue not handed to the injector yet (looked up only without `next`) */
  waiting?: Pick<CueRequest, "spliceEventId" | "atMs" | "durationMs"> | undefined;
  /** the schedule item on air */
  present?: { title: string; startMs: number; durationMs: number } | undefined;
  /** the channel's last cue in the store */
  lastCue?: { spliceEventId: number; kind: string; createdMs: number } | undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The API view of a channel: the injector's planned splice first, else a cue waiting in the store. */
export function channelView(v: ViewInput, now: number): ChannelView {
  const { status: s, next, waiting, present, lastCue } = v;
  const nextCue: ChannelView["nextCue"] = next
    ? {
        spliceEventId: next.plan.spliceEventId,
        command: v.mode,
        at: iso(now + next.seconds * 1000),
        durationSeconds: next.plan.breakDurationTicks / TICKS_PER_SECOND,
      }
    : waiting
      ? { spliceEventId: waiting.spliceEventId, command: v.mode, at: iso(waiting.atMs), durationSeconds: waiting.durationMs / 1000 }
      : null;
  return {
    id: v.id,
    enabled: true,
    // the switcher may air the slate before the outage tracker calls it one: the wall says "slate"
    state: s.state === "on_air" && s.source === "slate" ? "slate" : s.state,
    up: s.lastOutputAt !== null && now - s.lastOutputAt < UP_WINDOW_MS,
    slateActive: s.source === "slate",
    currentItem: present ? { title: present.title, start: iso(present.startMs), end: iso(present.startMs + present.durationMs) } : null,
    lastCue: lastCue
      ? { spliceEventId: lastCue.spliceEventId, command: lastCue.kind, at: iso(lastCue.createdMs), durationSeconds: null }
      : null,
    nextCue,
    restarts: s.live.restarts,
    source: s.source,
  };
}

/** What the console adds to a channel's view (docs/api.md, ChannelView). */
export interface ConsoleViewInput {
  name: string;
  /** the profile's epg.timeZone */
  timeZone: string;
  /** the schedule item after the present one */
  following?: { title: string; startMs: number; durationMs: number } | undefined;
  /** measured between views (`nextRate`), null before two views a second apart */
  outputBitrateBps: number | null;
  /** the monitor's TR 101 290 counters (camelCase) */
  monitor: object;
  lastAlert?: { atMs: number; kind: string; text: string } | undefined;
  /** the channel has an hls output */
  hls: boolean;
  thumbnail?: { seq: number; atMs: number } | undefined;
  /** the break on air now (`onAirBreak`) */
  onAir?: { spliceEventId: number; atMs: number; returnAtMs: number } | undefined;
}

/** The console's fields of a channel view. */
export function consoleViewFields(id: string, x: ConsoleViewInput): Record<string, unknown> {
  const item = (i: ConsoleViewInput["following"]) =>
    i ? { title: i.title, start: iso(i.startMs), end: iso(i.startMs + i.durationMs) } : null;
  return {
    name: x.name,
    timeZone: x.timeZone,
    nextItem: item(x.following),
    onAirCue: x.onAir ? { spliceEventId: x.onAir.spliceEventId, at: iso(x.onAir.atMs), returnAt: iso(x.onAir.returnAtMs) } : null,
    outputBitrateBps: x.outputBitrateBps === null ? null : Math.round(x.outputBitrateBps),
    tr101290: monitorIndicators(x.monitor),
    lastAlert: x.lastAlert ? { at: iso(x.lastAlert.atMs), kind: x.lastAlert.kind, text: x.lastAlert.text } : null,
    hls: x.hls ? { playlist: `/hls/${encodeURIComponent(id)}/index.m3u8` } : null,
    thumbnail: x.thumbnail
      ? { url: `/api/v1/channels/${encodeURIComponent(id)}/thumbnail.jpg`, seq: x.thumbnail.seq, at: iso(x.thumbnail.atMs) }
      : null,
  };
}

/** The event stream's `counters` event of a channel. */
export function countersView(
  id: string,
  s: { lastOutputAt: number | null; monitor: object },
  outputBitrateBps: number | null,
  now: number,
): { id: string; outputBitrateBps: number | null; tr101290: Record<string, number>; up: boolean } {
  return {
    id,
    outputBitrateBps: outputBitrateBps === null ? null : Math.round(outputBitrateBps),
    tr101290: monitorIndicators(s.monitor),
    up: s.lastOutputAt !== null && now - s.lastOutputAt < UP_WINDOW_MS,
  };
}

/**
 * The planned break on air at wall time `now`: its splice point passed and its return (the
 * planned one, or an early one) not reached yet. `wallAt` maps a PTS to wall ms (the
 * injector's stream clock, once ready). O(planned breaks).
 */
export function onAirBreak(
  planned: readonly { spliceEventId: number; splicePts: number; returnPts: number }[],
  wallAt: (pts: number) => number,
  now: number,
): { spliceEventId: number; atMs: number; returnAtMs: number } | undefined {
  for (const b of planned) {
    const atMs = Math.round(wallAt(b.splicePts));
    const returnAtMs = Math.round(wallAt(b.returnPts));
    if (atMs <= now && now < returnAtMs) return { spliceEventId: b.spliceEventId, atMs, returnAtMs };
  }
  return undefined;
}

/** What the /readyz channel check reads of a channel (a `Channel` fits). */
export interface ReadinessSource {
  id: string;
  state: string;
  readiness(): { up: boolean; failingOutputs: { name: string; error: string | null }[] };
}

/** /readyz channel check: every channel puts out packets, and no output of it is failing. */
export function channelsReadiness(channels: Iterable<ReadinessSource>): { ready: boolean; details: unknown; reasons: string[] } {
  const reasons: string[] = [];
  const details = [...channels].map((c) => {
    const r = c.readiness();
    if (!r.up) reasons.push(`channel ${c.id}: no packets out (${c.state})`);
    for (const o of r.failingOutputs) reasons.push(`channel ${c.id}: output ${o.name} failing (${o.error ?? "error"})`);
    return { id: c.id, up: r.up, state: c.state, ...(r.failingOutputs.length ? { failingOutputs: r.failingOutputs } : {}) };
  });
  if (details.length === 0) reasons.push("no channel loaded");
  return { ready: reasons.length === 0, details, reasons };
}
