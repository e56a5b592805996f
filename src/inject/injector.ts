import {
  ContinuityCounter,
  NULL_PID,
  PmtSection,
  PsiTracker,
  TS_PACKET_SIZE,
  createPesHeader,
  discontinuityIndicator,
  hasPayload,
  hasPcr,
  nextVersionNumber,
  packetizeSections,
  payloadOffset,
  pusi,
  randomAccessIndicator,
  readPcr,
  readPesHeaderFromPacket,
  writeCachedPacket,
  writeNullPacket,
  STREAM_TYPE_SCTE35,
  type Descriptor,
  type PatSection,
} from "../ts/index.js";
import { PTS_TICKS_PER_MS, ptsAdd, ptsDiff } from "../ts/timestamps.js";
import { StreamClock } from "./clock.js";
import { encodeCue } from "./encode.js";
import { KeyframeGrid } from "./grid.js";
import { AU_IDR, IdrScanner, videoCodecOf } from "./nal.js";
import { CuePlanner, TICKS, type CuePlanConfig, type PlannedBreak, type PlannedCue, type PlannerCounters } from "./planner.js";

/** registration_descriptor 'CUEI' (SCTE 35 §8.1), program loop. */
export const CUEI_REGISTRATION: Descriptor = { tag: 0x05, data: Uint8Array.of(0x43, 0x55, 0x45, 0x49) };
/** cue_identifier_descriptor tag; cue_stream_type 0x01 = all commands. */
export const CUE_IDENTIFIER_TAG = 0x8a;
export const DEFAULT_SCTE35_PID = 500;
/** How far ahead a wall-clock break is mapped to a PTS by default (see addBreakAtWall). */
export const WALL_REACH_MS = 3_600_000;
/** Video stream types without a NAL scanner: MPEG-1/2 video, MPEG-4 part 2, AVS. */
const OTHER_VIDEO_TYPES = new Set([0x01, 0x02, 0x10, 0x42]);

/**
 * Something that fills null slots after cues (the DVB SI carousel). Returns true when it
 * wrote a packet into dst[off].
 */
export interface SlotFiller {
  fill(dst: Uint8Array, off: number, nowPcr: number, wallMs: number): boolean;
  /** PIDs of the input that the filler replaces (their packets become null slots), e.g. the SDT. */
  readonly replacesPids: readonly number[];
  /**
   * Sees the input's packets on the PAT PID and on `replacesPids` before the latter become
   * null slots (e.g. to take service fields from FFmpeg's SDT). Must not keep `src`.
   */
  observe?(src: Uint8Array, off: number, pid: number): void;
}

export interface InjectorEvent {
  event: string;
  [k: string]: unknown;
}

export interface InjectorOptions {
  scte35Pid?: number;
  cue: CuePlanConfig;
  /** persisted per-channel splice_event_id allocation (stored before the cue is sent) */
  allocateEventId: () => number;
  /** wall time of the stream's first PCR (offline: the start time; live: the real clock) */
  startWall?: number | (() => number);
  /**
   * how far ahead of the present a wall-clock break is turned into a PTS (default
   * WALL_REACH_MS, 1 h; must stay well under half a PTS wrap, 13 h 15 min)
   */
  wallReachMs?: number;
  /** the longest a cue waits for a null packet before it is inserted (default 100 ms) */
  maxSlotWaitTicks?: number;
  /** the program to work on (default: the first in the PAT) */
  programNumber?: number;
  onEvent?: (e: InjectorEvent) => void;
  /**
   * called with each cue packet sent (PTS domain info for the as-run log): the PCR of its
   * slot, its packet index and its lead, the splice point less that PCR across the 33-bit
   * wrap, in seconds (undefined for an immediate splice)
   */
  onCueSent?: (cue: PlannedCue, pcr: number, packetIndex: number, leadSeconds: number | undefined) => void;
  onIdr?: (pts: number) => void;
  si?: SlotFiller;
}

/** The stage's own counters. */
export interface StageCounters {
  packetsIn: number;
  packetsOut: number;
  nullsReplaced: number;
  inserted: number;
  pmtVersion: number;
  pmtRewrites: number;
  inputPmtChanges: number;
  scte35PidConflicts: number;
  ptsJumps: number;
  idrs: number;
  siPackets: number;
}

/** Everything the metrics layer reads: the stage's counters, the planner's and the grid's. */
export interface InjectorCounters extends StageCounters, PlannerCounters {
  gridMispredictions: number;
}

interface QueuedPacket {
  pkt: Uint8Array;
  counter: ContinuityCounter;
  deadlinePcr: number;
  cue?: PlannedCue;
}

/**
 * The injector stage: takes runs of aligned TS packets, rewrites the PMT to announce the
 * SCTE-35 PID, learns the video key-frame grid, and writes cues (and SI) into null packets,
 * inserting only when no null packet comes in time. Emits output buffers the receiver
 * owns: a run handed over as `owned` is edited in place and emitted as views of it (no
 * copy); any other run is copied first and the copy is edited (see process()).
 */
export class Injector {
  readonly scte35Pid: number;
  readonly grid = new KeyframeGrid();
  readonly clock: StreamClock;
  readonly planner: CuePlanner;
  private readonly tracker: PsiTracker;
  private readonly scte35Cc = new ContinuityCounter();
  private readonly pmtCc = new ContinuityCounter();
  private readonly maxWait: number;
  private readonly wallReach: number;
  private readonly queue: QueuedPacket[] = [];
  private readonly pes = createPesHeader();
  private readonly replaced = new Uint8Array(8192);
  private readonly observed = new Uint8Array(8192);

  private programNumber: number;
  private pmtPid = -1;
  private pcrPid = -1;
  private videoPid = -1;
  private scanner: IdrScanner | undefined;
  private auPts = -1;
  private firstVideoPtsField = -1;
  private ourPmtVersion = -1;
  private pmtPackets: Uint8Array[] = [];
  private pmtCursor = 0;
  private packetIndex = 0;
  private readonly relativeBreaks: Array<{ startTicks: number; durationTicks: number; breakId?: string }> = [];
  private readonly wallBreaks: Array<{ wallMs: number; durationTicks: number; breakId?: string; spliceEventId?: number; asap?: boolean }> =
    [];

  readonly counters: StageCounters = {
    packetsIn: 0,
    packetsOut: 0,
    nullsReplaced: 0,
    inserted: 0,
    pmtVersion: -1,
    pmtRewrites: 0,
    inputPmtChanges: 0,
    scte35PidConflicts: 0,
    ptsJumps: 0,
    idrs: 0,
    siPackets: 0,
  };

  constructor(private readonly opts: InjectorOptions) {
    this.scte35Pid = opts.scte35Pid ?? DEFAULT_SCTE35_PID;
    if (!Number.isInteger(this.scte35Pid) || this.scte35Pid < 0x20 || this.scte35Pid > 0x1ffe) {
      throw new RangeError(`SCTE-35 PID must be 0x20..0x1FFE, got ${this.scte35Pid}`);
    }
    this.maxWait = opts.maxSlotWaitTicks ?? TICKS / 10;
    this.wallReach = Math.min(opts.wallReachMs ?? WALL_REACH_MS, 12 * WALL_REACH_MS);
    this.programNumber = opts.programNumber ?? -1;
    this.clock = new StreamClock(opts.startWall ?? (() => Date.now()), {
      onJump: (j) => {
        this.counters.ptsJumps++;
        this.grid.reset();
        // breaks whose splice point is still ahead were planned in the old time base: back to
        // wall time (the clock still has the old anchor here), planned again under the same
        // event id once the new anchor is set (SCTE 35 §9.4: new data under the same id)
        for (const b of this.planner.rebase(j.fromPcr)) {
          const ids = { durationTicks: b.durationTicks, breakId: b.breakId, spliceEventId: b.spliceEventId };
          if (b.immediate) this.planner.addBreak({ duePts: 0, immediate: true, ...ids });
          else this.wallBreaks.push({ wallMs: this.clock.wallAt(b.pts), ...ids, asap: b.asap });
        }
        this.emitEvent({ event: "pts_jump", fromPcr: j.fromPcr, toPcr: j.toPcr, deltaTicks: j.deltaTicks, packet: j.packetIndex });
      },
    });
    this.planner = new CuePlanner(opts.cue, this.grid, encodeCue, opts.allocateEventId, {
      onPlanned: (b) => this.emitEvent({ event: "break_planned", ...breakFields(b) }),
      onMoved: (b, reason) => this.emitEvent({ event: "break_moved", reason, ...breakFields(b) }),
      onFailed: (req, err) =>
        this.emitEvent({
          event: "break_failed",
          breakId: req.breakId,
          spliceEventId: req.spliceEventId,
          code: (err as { code?: unknown }).code,
          message: err instanceof Error ? err.message : String(err),
        }),
      onLate: (b, lateTicks) =>
        this.emitEvent({
          event: "break_late",
          lateMs: Math.round(lateTicks / PTS_TICKS_PER_MS),
          gopMs: Math.round(this.grid.period / PTS_TICKS_PER_MS),
          ...breakFields(b),
        }),
      onDropped: (b, reason) => this.emitEvent({ event: "break_dropped", spliceEventId: b.spliceEventId, breakId: b.breakId, reason }),
    });
    this.tracker = new PsiTracker({
      onPat: (pat) => this.onPat(pat),
      onPmt: (pmt, pid) => this.onPmt(pmt, pid),
      onDecodeError: (code, pid) => this.emitEvent({ event: "psi_decode_error", code, pid }),
    });
    for (const p of opts.si?.replacesPids ?? []) this.replaced[p] = 1;
    if (opts.si?.observe) {
      this.observed[0] = 1;
      for (const p of opts.si.replacesPids) this.observed[p] = 1;
    }
  }

  /** A break START ticks after the first video access unit's PTS (offline command). */
  addBreakFromStart(startTicks: number, durationTicks: number, breakId?: string): void {
    if (this.firstVideoPts >= 0) {
      this.planner.addBreak({ duePts: ptsAdd(this.firstVideoPts, startTicks), durationTicks, breakId });
    } else {
      this.relativeBreaks.push({ startTicks, durationTicks, breakId });
    }
  }

  /**
   * A break at a wall-clock time (live schedule). It becomes a PTS only once it is within
   * `wallReachMs` of the stream's present: a 33-bit PTS names an instant only within half a
   * wrap (13 h 15 min) of now, so a time further ahead is kept as wall time until then.
   */
  addBreakAtWall(wallMs: number, durationTicks: number, breakId?: string, spliceEventId?: number): void {
    this.wallBreaks.push({ wallMs, durationTicks, breakId, spliceEventId });
    if (this.clock.ready) this.planWallBreaks();
  }

  /** "As soon as possible": the first IDR after the present (the stream's PCR) + preroll. */
  addImmediateBreak(durationTicks: number, breakId?: string, spliceEventId?: number): void {
    this.planner.addImmediateBreak(durationTicks, breakId, spliceEventId, this.clock.now(this.packetIndex));
  }

  /**
   * Cancels a break not yet at its splice point (the stream's PCR): its pending sends stop
   * and a splice_insert with splice_event_cancel_indicator goes out under the same id.
   * False when no such break is pending.
   */
  cancelBreak(spliceEventId: number): boolean {
    return this.planner.cancel(spliceEventId, this.clock.now(this.packetIndex));
  }

  /**
   * Ends a break on air early: an in cue (same id) on the first IDR a preroll from now.
   * Returns its splice PTS, or -1 when the break is not on air (see CuePlanner.returnNow).
   */
  returnBreak(spliceEventId: number): number {
    return this.planner.returnNow(spliceEventId, this.clock.now(this.packetIndex));
  }

  /** The next planned splice point from now (the stream's PCR), or null. */
  nextSplice(): { plan: PlannedBreak; seconds: number } | null {
    const now = this.clock.now(this.packetIndex);
    return now < 0 ? null : this.planner.nextSplice(now);
  }

  /** PTS of the first video access unit (file order), or -1. */
  get firstVideoPts(): number {
    return this.firstVideoPtsField;
  }

  get stats(): InjectorCounters {
    const p = this.planner.counters;
    return { ...this.counters, ...p, cuesSent: { ...p.cuesSent }, gridMispredictions: this.grid.mispredictions };
  }

  /**
   * Processes `count` aligned packets at buf[start]. Output goes to `emit` as one or more
   * buffers the receiver owns. With `owned` the caller hands the bytes over (a chunk it read
   * and will not reuse): packets are edited in place and emitted as views of it; otherwise
   * they are copied first.
   */
  process(buf: Uint8Array, start: number, count: number, emit: (out: Buffer) => void, owned = false): void {
    const bytes = count * TS_PACKET_SIZE;
    let out: Buffer;
    if (owned) {
      out = Buffer.from(buf.buffer, buf.byteOffset + start, bytes);
    } else {
      out = Buffer.allocUnsafe(bytes);
      out.set(buf.subarray(start, start + bytes), 0);
    }
    this.counters.packetsIn += count;
    let segStart = 0;
    for (let i = 0, off = 0; i < count; i++, off += TS_PACKET_SIZE) {
      const idx = this.packetIndex++;
      const pid = ((out[off + 1] & 0x1f) << 8) | out[off + 2];
      if (pid !== NULL_PID) {
        if (this.observed[pid] === 1) this.opts.si!.observe!(out, off, pid);
        this.tracker.push(out, off);
        if (pid === this.pcrPid && hasPcr(out, off)) this.onPcr(readPcr(out, off), idx, discontinuityIndicator(out, off));
        if (pid === this.videoPid) this.onVideo(out, off);
      }
      const now = this.clock.now(idx);
      if (now >= 0) this.pollCues(now);
      // a queued packet whose deadline passed goes in before this packet
      while (this.queue.length && now >= 0 && ptsDiff(now, this.queue[0].deadlinePcr) >= 0) {
        if (off > segStart) emit(out.subarray(segStart, off));
        segStart = off;
        const ins = Buffer.allocUnsafe(TS_PACKET_SIZE);
        this.writeQueued(ins, 0, now, idx);
        this.counters.inserted++;
        this.counters.packetsOut++;
        emit(ins);
      }
      if (pid === NULL_PID) {
        this.fillSlot(out, off, now, idx);
      } else if (pid === this.pmtPid) {
        this.rewritePmtPacket(out, off);
      } else if (pid === this.scte35Pid) {
        // the input uses our SCTE-35 PID: its packets would corrupt our cue stream
        this.counters.scte35PidConflicts++;
        if (this.counters.scte35PidConflicts === 1) this.emitEvent({ event: "scte35_pid_conflict", pid });
        writeNullPacket(out, off);
        this.fillSlot(out, off, now, idx);
      } else if (this.replaced[pid] === 1) {
        writeNullPacket(out, off);
        this.fillSlot(out, off, now, idx);
      }
    }
    this.counters.packetsOut += count;
    if (count * TS_PACKET_SIZE > segStart) emit(out.subarray(segStart));
  }

  /** End of stream: cues still waiting are counted as dropped. */
  end(): void {
    for (const q of this.queue) if (q.cue) this.planner.counters.cuesDropped++;
    this.queue.length = 0;
  }

  private emitEvent(e: InjectorEvent): void {
    this.opts.onEvent?.(e);
  }

  private onPcr(pcr27: number, idx: number, discontinuity: boolean): void {
    this.clock.onPcr(pcr27, idx, discontinuity);
    if (this.wallBreaks.length) this.planWallBreaks();
  }

  /** Hands the wall-time breaks within reach of the present to the planner, as PTS. */
  private planWallBreaks(): void {
    const reachEnd = this.clock.wallAt(this.clock.now(this.packetIndex)) + this.wallReach;
    for (let i = 0; i < this.wallBreaks.length;) {
      const b = this.wallBreaks[i];
      if (b.wallMs > reachEnd) {
        i++;
        continue;
      }
      this.wallBreaks.splice(i, 1);
      this.planner.addBreak({
        duePts: this.clock.ptsForWall(b.wallMs),
        durationTicks: b.durationTicks,
        breakId: b.breakId,
        spliceEventId: b.spliceEventId,
        ...(b.asap ? { asap: true } : {}),
      });
    }
  }

  private onVideo(buf: Uint8Array, off: number): void {
    const scanner = this.scanner;
    if (!hasPayload(buf, off)) return;
    if (pusi(buf, off)) {
      if (!readPesHeaderFromPacket(buf, off, this.pes) || this.pes.pts < 0) return;
      const pts = this.pes.pts;
      this.auPts = pts;
      this.grid.observeFrame(this.pes.dts >= 0 ? this.pes.dts : pts);
      if (this.firstVideoPtsField < 0) {
        this.firstVideoPtsField = pts;
        for (const b of this.relativeBreaks.splice(0)) {
          this.planner.addBreak({ duePts: ptsAdd(pts, b.startTicks), durationTicks: b.durationTicks, breakId: b.breakId });
        }
      }
      if (!scanner) {
        // a codec the NAL scanner does not know (MPEG-2 video…): the encoder's
        // random_access_indicator marks the access units that start a closed GOP
        if (randomAccessIndicator(buf, off)) this.auDecided(AU_IDR);
        return;
      }
      scanner.startAccessUnit();
      const start = this.pes.payloadStart;
      if (start >= 0 && start < off + TS_PACKET_SIZE) scanner.feed(buf, start, off + TS_PACKET_SIZE);
      if (scanner.done) this.auDecided(scanner.verdict);
    } else if (scanner && !scanner.done && this.auPts >= 0) {
      const p = payloadOffset(buf, off);
      if (p >= 0) {
        scanner.feed(buf, p, off + TS_PACKET_SIZE);
        if (scanner.done) this.auDecided(scanner.verdict);
      }
    }
  }

  private auDecided(verdict: number): void {
    if (verdict !== AU_IDR) return;
    this.counters.idrs++;
    this.grid.observeIdr(this.auPts);
    this.opts.onIdr?.(this.auPts);
  }

  private pollCues(now: number): void {
    const due = this.planner.nextDuePcr;
    if (due === Number.POSITIVE_INFINITY) return;
    if (due !== Number.NEGATIVE_INFINITY && ptsDiff(now, due) < 0) return;
    for (;;) {
      const cue = this.planner.poll(now);
      if (!cue) break;
      // packetized once per cue (SCTE-35: one section per packet start), CC stamped at write
      const pkts = packetizeSections(cue.section, this.scte35Pid, { newPacketPerSection: true });
      let deadline = ptsAdd(now, this.maxWait);
      if (cue.splicePts >= 0 && ptsDiff(cue.splicePts, deadline) < TICKS / 4) deadline = now;
      for (let k = 0; k < pkts.length; k++) {
        this.queue.push({ pkt: pkts[k], counter: this.scte35Cc, deadlinePcr: deadline, cue: k === pkts.length - 1 ? cue : undefined });
      }
      // the planner must not hand the same send out twice while it waits for a slot
      this.planner.sent(cue, now);
    }
  }

  private fillSlot(out: Buffer, off: number, now: number, idx: number): void {
    if (this.queue.length) {
      this.writeQueued(out, off, now, idx);
      this.counters.nullsReplaced++;
      return;
    }
    const si = this.opts.si;
    if (si && now >= 0 && si.fill(out, off, now, this.clock.wallAt(now))) {
      this.counters.nullsReplaced++;
      this.counters.siPackets++;
    }
  }

  private writeQueued(out: Uint8Array, off: number, now: number, idx: number): void {
    const q = this.queue.shift()!;
    writeCachedPacket(out, off, q.pkt, q.counter);
    if (q.cue) {
      const leadSeconds = q.cue.splicePts >= 0 ? ptsDiff(q.cue.splicePts, now) / TICKS : undefined;
      this.opts.onCueSent?.(q.cue, now, idx, leadSeconds);
      this.emitEvent({
        event: "cue_sent",
        kind: q.cue.kind,
        spliceEventId: q.cue.spliceEventId,
        splicePts: q.cue.splicePts,
        pcr: now,
        leadSeconds,
        send: q.cue.sendsDone,
      });
    }
  }

  private onPat(pat: PatSection): void {
    if (this.programNumber < 0 || pat.pmtPid(this.programNumber) < 0) {
      const first = pat.programs.find((p) => p.programNumber !== 0);
      if (!first) return;
      this.programNumber = first.programNumber;
    }
    const pid = pat.pmtPid(this.programNumber);
    if (pid !== this.pmtPid) {
      this.pmtPid = pid;
      this.pmtPackets = [];
    }
  }

  private onPmt(pmt: PmtSection, pid: number): void {
    if (pid !== this.pmtPid || pmt.programNumber !== this.programNumber) return;
    this.counters.inputPmtChanges++;
    const streams = pmt.streams.filter((s) => s.elementaryPid !== this.scte35Pid);
    if (streams.length !== pmt.streams.length) {
      this.counters.scte35PidConflicts++;
      this.emitEvent({ event: "scte35_pid_conflict", pid: this.scte35Pid });
    }
    streams.push({
      streamType: STREAM_TYPE_SCTE35,
      elementaryPid: this.scte35Pid,
      descriptors: [{ tag: CUE_IDENTIFIER_TAG, data: Uint8Array.of(0x01) }],
    });
    const hasCuei = pmt.programInfo.some(
      (d) => d.tag === 0x05 && d.data.length >= 4 && d.data[0] === 0x43 && d.data[1] === 0x55 && d.data[2] === 0x45 && d.data[3] === 0x49,
    );
    // ours differs from the input's version from the start, and bumps on every input change
    this.ourPmtVersion = this.ourPmtVersion < 0 ? nextVersionNumber(pmt.versionNumber) : nextVersionNumber(this.ourPmtVersion);
    const ours = new PmtSection({
      programNumber: pmt.programNumber,
      versionNumber: this.ourPmtVersion,
      pcrPid: pmt.pcrPid,
      programInfo: hasCuei ? pmt.programInfo : [CUEI_REGISTRATION, ...pmt.programInfo],
      streams,
    });
    this.pmtPackets = packetizeSections(ours.encode(), this.pmtPid);
    this.counters.pmtVersion = this.ourPmtVersion;
    this.counters.pmtRewrites++;
    this.pcrPid = pmt.pcrPid;
    const video = streams.find((s) => videoCodecOf(s.streamType) !== undefined) ?? streams.find((s) => OTHER_VIDEO_TYPES.has(s.streamType));
    const newVideo = video ? video.elementaryPid : -1;
    const codec = video ? videoCodecOf(video.streamType) : undefined;
    if (newVideo !== this.videoPid || this.scanner?.codec !== codec) {
      this.videoPid = newVideo;
      this.scanner = codec ? new IdrScanner(codec) : undefined;
      if (this.counters.inputPmtChanges > 1) this.grid.reset();
    }
    this.emitEvent({
      event: "pmt_rewritten",
      version: this.ourPmtVersion,
      pmtPid: this.pmtPid,
      videoPid: this.videoPid,
      scte35Pid: this.scte35Pid,
    });
  }

  private rewritePmtPacket(out: Buffer, off: number): void {
    if (pusi(out, off)) this.pmtCursor = 0;
    const pkts = this.pmtPackets;
    if (this.pmtCursor < pkts.length) {
      writeCachedPacket(out, off, pkts[this.pmtCursor++], this.pmtCc);
      // our PMT is longer than the input's: the rest goes into the next slots, urgently
      if (this.pmtCursor === 1 && pkts.length > 1) {
        const now = this.clock.now(this.packetIndex);
        for (let k = 1; k < pkts.length; k++)
          this.queue.unshift({ pkt: pkts[pkts.length - k], counter: this.pmtCc, deadlinePcr: now < 0 ? 0 : now });
        this.pmtCursor = pkts.length;
      }
    } else {
      writeNullPacket(out, off);
    }
  }
}

function breakFields(b: PlannedBreak): Record<string, unknown> {
  return {
    spliceEventId: b.spliceEventId,
    requestedPts: b.requestedPts,
    splicePts: b.splicePts,
    returnPts: b.returnPts,
    breakDurationTicks: b.breakDurationTicks,
    breakId: b.breakId,
  };
}
