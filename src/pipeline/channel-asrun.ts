/**
 * A channel's as-run recorder: what actually aired, written to the store.
 *
 * - **Cues.** The first send of an out or in cue (not a heartbeat, not a repeat) writes, in
 *   one transaction, its `cues` row, its as-run row (`kind: "cue"`, scheduled and actual wall
 *   time, splice PTS, splice_event_id, `{ kind, command, leadSeconds }`) and, for an out cue of
 *   the control API, the request closed as aired. `leadSeconds` is the injector's figure, taken
 *   across the 33-bit PTS wrap (never recomputed here by subtraction). A cue planned again
 *   under its id after a time-base change (an FFmpeg restart, the slate) is sent again but is
 *   the same break: its rows are written once.
 * - **Scheduled time of a cue.** For an out cue the break's due time (the time an API cue
 *   asked for, else the schedule's break start as the planner was asked it); for an in cue
 *   the splice point it announces. Undefined before the stream clock is anchored.
 * - **Items.** Once the output runs, the schedule item on air is looked up at the item
 *   boundaries the schedule gives (and at least every 30 s, for re-imports; 5 s after a
 *   failed read) and written when it changes. The item already running when the output
 *   started is written with `joined_late: true` (scheduled = its real start, actual = now).
 */
import type { Logger } from "pino";
import type { Clock } from "../core/clock.js";
import type { PlannedBreak, PlannedCue } from "../inject/planner.js";
import { recordItemAired } from "../store/asrun-export.js";
import type { Store } from "../store/db.js";
import type { ChannelCues } from "./channel-cues.js";
import type { SwitcherSource } from "./switcher.js";

/** How many recent cues are remembered to tell a resend from a new cue. */
const CUE_MEMORY = 256;

export interface CueAired {
  kind: string;
  spliceEventId: number;
  splicePts: number;
  leadSeconds: number;
}

/** What the recorder reads of the injector. */
export interface AsRunInjector {
  clock: { readonly ready: boolean; wallAt(pts: number): number; ptsForWall(wallMs: number): number };
  planner: { readonly planned: readonly Pick<PlannedBreak, "spliceEventId" | "requestedPts">[] };
}

export interface AsRunRecorderOptions {
  channel: string;
  /** read for the item on air */
  store: Pick<Store, "presentFollowing">;
  clock: Clock;
  log: Logger;
  /** the injector's stream clock (wall ↔ PTS) and its planned breaks */
  injector: AsRunInjector;
  /** the API's cues: their asked-for time, and closing them as aired */
  cues: Pick<ChannelCues, "requestedMs" | "markAired">;
  /** a store write that must not stop playout (the channel's retry queue) */
  write: (what: string, run: (st: Store) => void) => void;
  /** a store read failed */
  storeError: (err: unknown, what: string) => void;
  /** what is on air now (live or slate), written with each item */
  source: () => SwitcherSource;
  /** a cue aired (first send, once per break side) */
  onCue: (e: CueAired) => void;
}

export class AsRunRecorder {
  private readonly o: AsRunRecorderOptions;
  /** `spliceEventId:kind` of the cues whose rows this run wrote */
  private readonly cueRows = new Set<string>();
  /** wall ms of the first packet put out by this run */
  private outputSince: number | null = null;
  /** the schedule item last written (start:event_id) */
  private airedKey: string | undefined;
  /** wall ms of the next look at the present item */
  private itemCheckAt = 0;

  constructor(o: AsRunRecorderOptions) {
    this.o = o;
  }

  /** A packet was put out (O(1); call on every output). */
  output(): void {
    this.outputSince ??= this.o.clock.now();
  }

  /** The injector sent a cue; `leadSeconds` is its figure (across the PTS wrap), 0 for an immediate splice. */
  cueSent(c: PlannedCue, leadSeconds: number): void {
    if (c.kind === "heartbeat") return;
    const { channel, log } = this.o;
    log.info({ event: "cue_sent", kind: c.kind, spliceEventId: c.spliceEventId, splicePts: c.splicePts, leadSeconds, send: c.sendsDone });
    if (c.sendsDone !== 1 || this.isResend(c)) return;
    this.o.onCue({ kind: c.kind, spliceEventId: c.spliceEventId, splicePts: c.splicePts, leadSeconds });
    const scheduledMs = this.cueWallMs(c);
    const actualMs = this.o.clock.now();
    const section = Buffer.from(c.section).toString("base64");
    const details = { kind: c.kind, command: c.spec.command, leadSeconds };
    // one transaction: a retried write never leaves a cue without its as-run row or twice
    this.o.write("cue", (st) =>
      st.transaction("cue as-run", () => {
        st.recordCue({ channel, spliceEventId: c.spliceEventId, kind: c.kind, scheduledMs, pts: c.splicePts, section });
        if (c.kind === "out") this.o.cues.markAired(st, c.spliceEventId, actualMs);
        st.insertAsRun({ channel, kind: "cue", scheduledMs, actualMs, pts: c.splicePts, eventId: c.spliceEventId, details });
      }),
    );
  }

  /** Writes the schedule item on air when it changed (see the module comment); call often. */
  checkItem(): void {
    const now = this.o.clock.now();
    if (this.outputSince === null || now < this.itemCheckAt) return;
    let pf: ReturnType<Store["presentFollowing"]>;
    try {
      pf = this.o.store.presentFollowing(this.o.channel, now);
    } catch (err) {
      this.o.storeError(err, "present item lookup");
      this.itemCheckAt = now + 5000;
      return;
    }
    const boundary = pf.present ? pf.present.startMs + pf.present.durationMs : pf.following?.startMs;
    this.itemCheckAt = Math.min(boundary ?? Number.POSITIVE_INFINITY, now + 30_000);
    const item = pf.present;
    if (!item) return;
    const key = `${item.startMs}:${item.eventId}`;
    if (key === this.airedKey) return;
    const joinedLate = this.airedKey === undefined && item.startMs < this.outputSince;
    this.airedKey = key;
    const clock = this.o.injector.clock;
    const pts = clock.ready ? clock.ptsForWall(now) : undefined;
    const extra: Record<string, unknown> = { source: this.o.source() };
    if (joinedLate) extra.joined_late = true;
    const lateMs = now - item.startMs;
    this.o.log.info({ event: "item_aired", eventId: item.eventId, startMs: item.startMs, title: item.title, lateMs, joinedLate });
    this.o.write("as-run item", (st) => recordItemAired(st, this.o.channel, item, now, pts, extra));
  }

  /** A cue sent again under its id after a time-base change: its rows are already written. */
  private isResend(c: PlannedCue): boolean {
    const key = `${c.spliceEventId}:${c.kind}`;
    if (this.cueRows.has(key)) return true;
    this.cueRows.add(key);
    if (this.cueRows.size > CUE_MEMORY) this.cueRows.delete(this.cueRows.values().next().value!);
    return false;
  }

  /** The planned wall time of a cue's splice point (see the module comment). */
  private cueWallMs(c: PlannedCue): number | undefined {
    const asked = c.kind === "out" ? this.o.cues.requestedMs(c.spliceEventId) : undefined;
    if (asked !== undefined) return asked;
    const { clock, planner } = this.o.injector;
    if (!clock.ready || c.splicePts < 0) return undefined;
    const plan = c.kind === "out" ? planner.planned.find((b) => b.spliceEventId === c.spliceEventId) : undefined;
    return Math.round(clock.wallAt(plan?.requestedPts ?? c.splicePts));
  }
}
