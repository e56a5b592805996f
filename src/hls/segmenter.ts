/**
 * HLS segmenter: cuts the injected TS (runs of whole 188-byte packets, or arbitrary chunks
 * through `push`) into standalone segments, after the injector and never through FFmpeg.
 *
 * Contract (issue #21, domain §8):
 * - Follows PAT/PMT (ts/PsiTracker); the video PID is the PMT's first H.264/HEVC stream
 *   (else its first MPEG-2 video); SCTE-35 sections on the 0x86 PIDs are decoded into cue
 *   actions (cues.ts) and handed to the CutPlanner, which decides where to cut.
 * - An IDR is a video access unit whose first slice is an IDR (inject/nal.ts), or, for a
 *   codec the scanner does not know, one whose first packet has random_access_indicator.
 * - A segment starts at the PAT written just before the IDR when a PAT and a PMT precede the
 *   IDR's first packet with no elementary-stream packet in between (FFmpeg writes them so);
 *   otherwise at the IDR's first packet, with copies of the last PAT and PMT packets put in
 *   front. The copies keep their own continuity counters, which are the ones right before the
 *   next PAT/PMT of the segment, so each segment is free of CC errors. The SCTE-35 PID stays.
 * - A record's duration is the PTS distance to the next segment; for the last segment before
 *   a discontinuity or the end, the last frame's PTS plus one frame minus the first PTS.
 * - `discontinuity()` (a slate switch, an FFmpeg restart) ends the open segment, drops packets
 *   until the next IDR, and marks the next segment discontinuous; a video PTS jump (backwards,
 *   or more than MAX_PTS_STEP forwards) does the same by itself.
 * - Null packets (CBR padding for broadcast) are left out of the segments; everything else
 *   of the injected stream is kept, in order.
 * - Never throws on stream data. A record's bytes belong to the receiver.
 */
import { IdrScanner, AU_IDR, AU_UNKNOWN, videoCodecOf, type VideoCodec } from "../inject/nal.js";
import {
  NULL_PID,
  PAT_PID,
  PID_ROLE_ES,
  PID_ROLE_PMT,
  PsiTracker,
  SectionDemux,
  STREAM_TYPE_AAC_ADTS,
  STREAM_TYPE_AAC_LATM,
  STREAM_TYPE_MPEG2_VIDEO,
  STREAM_TYPE_SCTE35,
  TS_PACKET_SIZE,
  TsReader,
  createPesHeader,
  payloadOffset,
  randomAccessIndicator,
  readPesHeaderFromPacket,
  type PmtSection,
} from "../ts/index.js";
import { ptsDiff, PTS_CLOCK_HZ } from "../ts/timestamps.js";
import { cueAction } from "./cues.js";
import { CutPlanner, type Cut, type SegmentCue } from "./cut-planner.js";

/** A forward video PTS step above this (90 kHz, 10 s) is a discontinuity. */
export const MAX_PTS_STEP = 900_000;

export interface SegmentRecord {
  /** the whole segment: PAT, PMT, then the IDR's video PES first among elementary streams */
  bytes: Buffer;
  /** PTS of the segment's IDR (90 kHz) */
  firstPts: number;
  /** 90 kHz ticks to the next segment (or last frame + one frame) */
  durationTicks: number;
  /** the stream breaks before this segment (EXT-X-DISCONTINUITY) */
  discontinuity: boolean;
  /** the segment is longer than the target (a GOP longer than segmentSeconds) */
  long: boolean;
  cue?: SegmentCue;
}

export interface StreamInfo {
  videoPid: number;
  videoStreamType: number;
  /** AAC audio is in the program (mp4a.40.2 in CODECS) */
  aac: boolean;
}

export interface SegmenterOptions {
  segmentSeconds: number;
  onSegment: (rec: SegmentRecord) => void;
  /** the first segment is marked discontinuous (a restart continuing a playlist) */
  startWithDiscontinuity?: boolean;
}

interface OpenSegment {
  firstPts: number;
  discontinuity: boolean;
  cue?: SegmentCue;
}

/**
 * A cut point inside the buffer: where the segment would start, and whether it needs PAT/PMT
 * copies in front; `copies` are the ones current at that point (taken when its access unit
 * turns out to be an IDR), so that they fit the CCs of the tables that follow it.
 */
interface Mark {
  offset: number;
  prefix: boolean;
  pts: number;
  copies?: Buffer[];
}

export class Segmenter {
  readonly planner: CutPlanner;
  readonly stats = { packets: 0, nullsDropped: 0, segments: 0, idrs: 0, discontinuities: 0, cues: 0, longSegments: 0 };
  info: StreamInfo | undefined;

  private readonly opts: SegmenterOptions;
  private readonly psi: PsiTracker;
  private readonly sections: SectionDemux;
  private readonly reader: TsReader;
  private readonly pes = createPesHeader();
  private buf: Buffer = Buffer.allocUnsafe(1 << 20);
  private len = 0;
  private open: OpenSegment | undefined;
  private pendingDiscontinuity: boolean;
  private videoPid = -1;
  private codec: VideoCodec | undefined;
  private scanner: IdrScanner | undefined;
  private readonly scte35 = new Uint8Array(8192);
  /** the access unit being scanned: its cut mark, or undefined once decided */
  private au: Mark | undefined;
  /** the previous IDR of the open segment (a look-back cut point) */
  private prevIdr: Mark | undefined;
  /** offset of the packet being processed */
  private cursor = 0;
  private patMark = -1;
  private pmtSincePat = false;
  private esSincePat = false;
  private lastPat: Buffer[] = [];
  private lastPmt: Buffer[] = [];
  private lastPts = -1;
  private lastDts = -1;
  private maxPts = -1;
  private frameTicks = 3600;

  constructor(opts: SegmenterOptions) {
    this.opts = opts;
    this.planner = new CutPlanner(opts.segmentSeconds);
    this.pendingDiscontinuity = opts.startWithDiscontinuity ?? false;
    this.psi = new PsiTracker({ onPmt: (pmt) => this.onPmt(pmt) });
    this.sections = new SectionDemux({ onSection: (s) => this.onScte35(s), checkCrc: true });
    this.reader = new TsReader({ onPackets: (b, s, c) => this.pushPackets(b, s, c) });
  }

  /** Bytes of any chunking (a pipe); packets are found by the TsReader. */
  push(chunk: Uint8Array): void {
    this.reader.push(chunk);
  }

  /** `count` whole packets at buf[start] (what the injector emits). Copies what it keeps. */
  pushPackets(buf: Uint8Array, start: number, count: number): void {
    const src = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    if (this.len + count * TS_PACKET_SIZE > this.buf.length) this.reserve(count * TS_PACKET_SIZE);
    const first = this.len;
    // null packets are CBR padding for broadcast: they stay out of the segments
    let run = -1;
    const end = start + count * TS_PACKET_SIZE;
    for (let o = start; o < end; o += TS_PACKET_SIZE) {
      if ((((src[o + 1] & 0x1f) << 8) | src[o + 2]) !== NULL_PID) {
        if (run < 0) run = o;
        continue;
      }
      this.stats.nullsDropped++;
      if (run >= 0) this.len += src.copy(this.buf, this.len, run, o);
      run = -1;
    }
    if (run >= 0) this.len += src.copy(this.buf, this.len, run, end);
    // the packets are in the buffer already; a cut while they are processed moves the cursor with them
    const kept = (this.len - first) / TS_PACKET_SIZE;
    this.cursor = first;
    for (let i = 0; i < kept; i++, this.cursor += TS_PACKET_SIZE) this.onPacket(this.cursor);
    this.stats.packets += count;
  }

  /** The source changes (slate, restart): end the open segment and drop until the next IDR. */
  discontinuity(): void {
    this.rebase(this.finishOpen(this.len), []);
    this.au = undefined;
    this.pendingDiscontinuity = true;
    this.planner.reset();
    this.stats.discontinuities++;
  }

  /** End of stream: the open segment is emitted. */
  end(): void {
    this.reader.end();
    this.rebase(this.finishOpen(this.len), []);
  }

  private reserve(bytes: number): void {
    if (this.len + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + bytes));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private onPacket(at: number): void {
    const b = this.buf;
    const pid = ((b[at + 1] & 0x1f) << 8) | b[at + 2];
    const role = this.psi.pidRole[pid];
    this.psi.push(b, at);
    if (pid === this.videoPid) {
      this.onVideo(at);
    } else if (pid === PAT_PID) {
      this.keepTable(this.lastPat, at);
      this.patMark = at;
      this.pmtSincePat = false;
      this.esSincePat = false;
    } else if (role === PID_ROLE_PMT) {
      this.keepTable(this.lastPmt, at);
      this.pmtSincePat = true;
    } else if (this.scte35[pid] === 1) {
      this.sections.push(b, at);
    } else if (role === PID_ROLE_ES) {
      this.esSincePat = true;
    }
  }

  /** Keeps a copy of the packets of the latest PAT or PMT section (from its PUSI packet on). */
  private keepTable(list: Buffer[], at: number): void {
    if ((this.buf[at + 1] & 0x40) !== 0) list.length = 0;
    if (list.length < 8) list.push(Buffer.from(this.buf.subarray(at, at + TS_PACKET_SIZE)));
  }

  private onPmt(pmt: PmtSection): void {
    this.scte35.fill(0);
    for (const s of pmt.streams) {
      if (s.streamType === STREAM_TYPE_SCTE35) {
        this.scte35[s.elementaryPid] = 1;
        this.sections.addPid(s.elementaryPid);
      }
    }
    const video =
      pmt.streams.find((s) => videoCodecOf(s.streamType) !== undefined) ??
      pmt.streams.find((s) => s.streamType === STREAM_TYPE_MPEG2_VIDEO);
    const aac = pmt.streams.some((s) => s.streamType === STREAM_TYPE_AAC_ADTS || s.streamType === STREAM_TYPE_AAC_LATM);
    if (!video) return;
    this.info = { videoPid: video.elementaryPid, videoStreamType: video.streamType, aac };
    if (video.elementaryPid === this.videoPid) return;
    this.videoPid = video.elementaryPid;
    this.codec = videoCodecOf(video.streamType);
    this.scanner = this.codec ? new IdrScanner(this.codec) : undefined;
  }

  private onScte35(section: Uint8Array): void {
    const a = cueAction(section);
    if (!a) return;
    this.stats.cues++;
    this.planner.addCue(a, this.lastPts);
  }

  private onVideo(at: number): void {
    if ((this.buf[at + 1] & 0x40) !== 0 && readPesHeaderFromPacket(this.buf, at, this.pes) && this.pes.pts >= 0) {
      const pts = this.pes.pts;
      const dts = this.pes.dts >= 0 ? this.pes.dts : pts;
      if (this.isJump(pts, dts)) {
        at = this.jump(at);
        readPesHeaderFromPacket(this.buf, at, this.pes);
      }
      this.startAccessUnit(at, pts, dts);
      if (!this.scanner) {
        this.decide(randomAccessIndicator(this.buf, at) ? AU_IDR : 0);
        return;
      }
      this.scanner.startAccessUnit();
      this.feedScanner(this.pes.payloadStart, at + TS_PACKET_SIZE);
      return;
    }
    this.esSincePat = true;
    if (this.au && this.scanner) {
      const p = payloadOffset(this.buf, at);
      if (p >= 0) this.feedScanner(p, at + TS_PACKET_SIZE);
    }
  }

  private feedScanner(from: number, to: number): void {
    const v = this.scanner!.feed(this.buf, from, to);
    if (v !== AU_UNKNOWN) this.decide(v);
  }

  /** A PTS step backwards or beyond MAX_PTS_STEP, or a DTS that does not advance. */
  private isJump(pts: number, dts: number): boolean {
    if (this.lastPts < 0) return false;
    const step = ptsDiff(pts, this.lastPts);
    return step < -MAX_PTS_STEP || step > MAX_PTS_STEP || (this.lastDts >= 0 && ptsDiff(dts, this.lastDts) <= 0);
  }

  /** A video access unit starts at buf[at]: note where a cut before it would go. */
  private startAccessUnit(at: number, pts: number, dts: number): void {
    const d = this.lastDts >= 0 ? ptsDiff(dts, this.lastDts) : 0;
    if (d > 0 && d < PTS_CLOCK_HZ) {
      this.frameTicks = d;
      this.planner.setFrameTicks(d);
    }
    this.lastPts = pts;
    this.lastDts = dts;
    const atPat = this.patMark >= 0 && this.pmtSincePat && !this.esSincePat;
    this.au = atPat ? { offset: this.patMark, prefix: false, pts } : { offset: at, prefix: true, pts };
    this.patMark = -1;
    this.esSincePat = true;
  }

  /** A PTS jump at the access unit starting at buf[at] (the cursor): a discontinuity before it. Returns its new offset. */
  private jump(at: number): number {
    this.rebase(this.finishOpen(at), []);
    this.au = undefined;
    this.pendingDiscontinuity = true;
    this.planner.reset();
    this.stats.discontinuities++;
    this.lastDts = -1;
    return this.cursor;
  }

  private decide(verdict: number): void {
    const au = this.au!;
    this.au = undefined;
    if (verdict !== AU_IDR) {
      if (this.open && ptsDiff(au.pts, this.maxPts) > 0) this.maxPts = au.pts;
      if (!this.open) this.rebase(this.cursor + TS_PACKET_SIZE, []); // nothing before the first IDR is kept
      return;
    }
    this.stats.idrs++;
    if (au.prefix) au.copies = [...this.lastPat, ...this.lastPmt];
    const cuts = this.planner.onIdr(au.pts, !this.open);
    for (const c of cuts) this.applyCut(c, au);
    if (cuts.length === 0 || cuts[cuts.length - 1].previous) this.prevIdr = au;
    if (this.open && ptsDiff(au.pts, this.maxPts) > 0) this.maxPts = au.pts;
  }

  private applyCut(c: Cut, au: Mark): void {
    const mark = c.previous ? this.prevIdr! : au;
    if (this.open) this.emit(this.open, mark.offset, ptsDiff(mark.pts, this.open.firstPts));
    const shift = this.rebase(mark.offset, mark.copies ?? []);
    if (c.previous) au.offset += shift;
    this.prevIdr = undefined;
    if (!c.previous) this.maxPts = mark.pts; // frames after a look-back cut stay in the new segment
    this.open = { firstPts: mark.pts, discontinuity: this.pendingDiscontinuity, cue: c.cue };
    this.pendingDiscontinuity = false;
  }

  /**
   * Starts a new buffer holding `prefix` then buf[from, len): the bytes before `from` were
   * emitted (the receiver owns them) or are dropped. Returns how far kept offsets moved.
   */
  private rebase(from: number, prefix: Buffer[]): number {
    const head = prefix.length * TS_PACKET_SIZE;
    const tail = this.len - from;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length, head + tail + (1 << 16)));
    for (let i = 0; i < prefix.length; i++) prefix[i].copy(next, i * TS_PACKET_SIZE);
    this.buf.copy(next, head, from, this.len);
    const shift = head - from;
    this.buf = next;
    this.len = head + tail;
    this.patMark = this.patMark >= from ? this.patMark + shift : -1;
    this.cursor += shift;
    return shift;
  }

  /** Emits the open segment up to `end`; returns where `end` is now (a look-back cut moves it). */
  private finishOpen(end: number): number {
    if (!this.open) return end;
    if (this.prevIdr && this.planner.isLong(ptsDiff(this.maxPts, this.open.firstPts) + this.frameTicks)) {
      // the length rule looks back here too: the segment ends at its previous IDR
      const tail: Mark = { offset: end, prefix: false, pts: this.maxPts };
      this.applyCut(this.planner.lookBack(), tail);
      end = tail.offset;
    }
    const last = ptsDiff(this.maxPts, this.open.firstPts) + this.frameTicks;
    this.emit(this.open, end, last);
    this.open = undefined;
    this.prevIdr = undefined;
    return end;
  }

  private emit(seg: OpenSegment, end: number, durationTicks: number): void {
    if (end <= 0) return;
    const long = this.planner.isLong(durationTicks);
    if (long) this.stats.longSegments++;
    this.stats.segments++;
    const bytes = this.buf.subarray(0, end);
    this.opts.onSegment({ bytes, firstPts: seg.firstPts, durationTicks, discontinuity: seg.discontinuity, long, cue: seg.cue });
  }
}
