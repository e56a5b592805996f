/**
 * TsMonitor: ETSI TR 101 290 priority 1 and priority 2 indicators on one channel's output,
 * as cumulative counters (for Prometheus `_total` counters). Pure and synchronous: no I/O,
 * no timers, no allocation per packet (per-PID state lives in flat 8192-entry arrays;
 * only table changes and complete sections allocate).
 *
 * Feeding (use one of the two):
 * - `pushRun(buf, start, count, nowMs?)` with runs of aligned 188-byte packets exactly as
 *   `TsReader` hands them, plus `onSyncLoss()` (and, for readers that report isolated bad
 *   sync bytes without losing lock, `onSyncByteError()`) forwarded from the reader.
 * - `push(chunk, nowMs?)` / `end()`: the monitor owns a `TsReader` and wires both itself.
 *
 * Timing (how "0.5 s", "5 s", "700 ms" are measured):
 * - `clock: "stream"` (default): the stream's own clock. The output is CBR, so the time of a
 *   packet is its index × the packet duration learned from PCR pairs (Δpcr / Δpackets over
 *   consecutive PCRs of one PID with a 0–100 ms step and no discontinuity_indicator; a new
 *   rate is adopted when it agrees within 10 % with the current one or with the previous
 *   candidate, so one corrupted PCR value cannot skew it). Nothing is timed before the
 *   first usable PCR pair; a stream without PCR cannot be timed (use the wall clock).
 * - `clock: "wall"`: PAT, PMT, PID and PTS intervals use `nowMs` given to `pushRun`/`push`
 *   (every packet of a run gets the same time, so the accuracy is the chunk period) and
 *   `tick(nowMs)` finds overdue items while no packets arrive (a stalled output).
 * - PCR repetition and discontinuity are always measured on the stream: repetition as the
 *   packet distance between consecutive PCRs × packet duration (equals the PCR difference
 *   on a CBR stream, but a corrupted PCR value does not fake a gap), discontinuity as the
 *   PCR value difference (`pcrDiff`, wrap-safe).
 *
 * Interval indicators (PAT, PMT, PID, PCR repetition, PTS) count once per episode: an
 * episode starts when the limit is exceeded (found at the next occurrence or by the scan
 * run every 32 packets and at the end of each run), and ends at the next occurrence. A gap
 * still in progress at the end of the input is counted only if it already exceeded the limit.
 *
 * Indicators (counter: rule):
 * - tsSyncLoss, syncByteError (1.1, 1.2): `TsReader` drops lock at the first packet start
 *   that is not 0x47, so each reader sync-loss episode counts one of each. Finding sync at
 *   the start of the input (no packet seen yet) is not a loss.
 * - patError (1.3): PID 0 without a valid (CRC-correct) table_id 0x00 section for > 0.5 s
 *   (timed from the first packet), a section with another table_id on PID 0, or a
 *   scrambled packet on PID 0 (each such section or packet counts).
 * - continuityCountError (1.4), per domain §1.3: a packet with payload must carry last+1
 *   (mod 16); an adaptation-field-only packet must repeat the last value; one duplicate
 *   (same CC, same payload bytes and PUSI; the AF, so the PCR, is excepted) is allowed, a
 *   third copy is an error; discontinuity_indicator = 1 permits any value; null packets
 *   and AFC 00 packets are not checked. Each wrong packet counts once.
 * - pmtError (1.5): a PMT PID announced in the PAT without a valid table_id 0x02 section for
 *   > 0.5 s (timed from the PAT announcing it), or a scrambled packet on a PMT PID.
 * - pidError (1.6): an elementary PID of a current PMT with no packet for > `pidTimeoutMs`
 *   (default 5 s, timed from the PMT announcing it). Stream types in
 *   `pidErrorExemptStreamTypes` (default 0x86 SCTE-35, whose cues are sparse) are not checked.
 * - transportError (2.1): each packet with transport_error_indicator. Its header is not
 *   trusted, so it takes part in no other check, and the CC check of the PID it names
 *   restarts at the next packet (a TEI packet is one error, not also a CC error).
 * - crcError (2.2): each section with a wrong CRC_32 on PIDs 0x00, 0x01, the PMT PIDs,
 *   0x10, 0x11, 0x12 and 0x14 (sections without CRC such as the TDT pass).
 * - pcrRepetitionError (2.3a): > 40 ms between consecutive PCRs of a PCR_PID of a current
 *   PMT (as said above, on the stream clock).
 * - pcrDiscontinuityIndicatorError (2.3b): consecutive PCR values of a PCR_PID differing by
 *   < 0 or > 100 ms without discontinuity_indicator in the second packet. Every bad pair
 *   counts: one PCR value replaced by a wrong one makes two (the step there and back); a
 *   time-base step makes one.
 * - ptsError (2.5): > 700 ms between PES packets with a PTS on an elementary PID of a current
 *   PMT, once it has carried a PTS (arrival interval, not PTS values: B-frames reorder them).
 *
 * Per-PID breakdown (`perPid()`, see pid-breakdown.ts): CC, PID, PTS and PCR errors of the
 * PIDs the PAT/PMTs reference, and of the fixed PSI/SI PIDs once they err.
 */
import { DEFAULT_SYNC_LOCK_COUNT, TsReader } from "../ts/reader.js";
import {
  CAT_PID,
  EIT_PID,
  NIT_PID,
  NULL_PID,
  PAT_PID,
  SDT_PID,
  TDT_PID,
  TS_PACKET_SIZE,
  discontinuityIndicator,
  payloadHash,
  payloadOffset,
  readPcrField,
} from "../ts/packet.js";
import { readPacketPts } from "../ts/pes.js";
import { PsiTracker } from "../ts/psi-tracker.js";
import { TABLE_ID_PAT, TABLE_ID_PMT } from "../ts/ids.js";
import { SectionDemux, type SectionErrorKind } from "../ts/section-assembler.js";
import { pcrDiff } from "../ts/timestamps.js";
import {
  createTr101290Counters,
  TR101290_PID_INDICATORS,
  type Tr101290Counters,
  type Tr101290PidRow,
  type TsMonitorOptions,
} from "./indicators.js";
import { isFixedPsiPid, K_CC, K_PCR_DISC, K_PCR_REP, K_PID, K_PTS, PidBreakdown } from "./pid-breakdown.js";

export * from "./indicators.js";

const PIDS = 8192;
const SCAN_STRIDE = 32;
const PCR_TICKS_PER_MS = 27000;
/** PSI/SI PIDs whose sections are CRC-checked besides PID 0 and the PMT PIDs. */
const SI_CRC_PIDS: readonly number[] = [CAT_PID, NIT_PID, SDT_PID, EIT_PID, TDT_PID];

// watch flags
const W_ES = 1;
const W_PMT = 2;
const W_PCR = 4;
const W_EXEMPT = 8;
// overdue (episode) flags
const OV_PID = 1;
const OV_PTS = 2;
const OV_PMT = 4;
const OV_PCR = 8;

/** True when two rate estimates agree within 10 %. */
function close(a: number, b: number): boolean {
  return b > 0 && Math.abs(a - b) <= 0.1 * b;
}

export class TsMonitor {
  /** Live cumulative counters (read them, do not write them). */
  readonly counters: Tr101290Counters = createTr101290Counters();
  /** Packets seen. */
  packets = 0;

  private readonly wall: boolean;
  private readonly patMs: number;
  private readonly pmtMs: number;
  private readonly pidMs: number;
  private readonly pcrMs: number;
  private readonly pcrMaxStep: number;
  private readonly ptsMs: number;
  private readonly exemptTypes: ReadonlySet<number>;
  private readonly lockCount: number;

  private readonly tracker: PsiTracker;
  private readonly demux: SectionDemux;
  private reader: TsReader | undefined;

  // clock
  private msPerPacket = 0;
  private rateCandidate = 0;
  private wallNow = 0;
  /** Position of the current packet: packet index (stream clock) or ms (wall clock). */
  private now = 0;
  private idx = 0;
  private nextScan = SCAN_STRIDE;

  // per-PID state
  private readonly lastCc = new Int8Array(PIDS).fill(-1);
  private readonly dupUsed = new Uint8Array(PIDS);
  /** Hash of the PID's last payload packet when it is in an earlier run (see `lastOff`). */
  private readonly lastHash = new Int32Array(PIDS);
  /**
   * Offset of the PID's last payload packet in the current run's buffer, or -1: a duplicate
   * is compared byte for byte within a run, and against `lastHash` across runs, so only the
   * last packet of each PID in a run is hashed (not every packet: 184 bytes each).
   */
  private readonly lastOff = new Int32Array(PIDS).fill(-1);
  /** PIDs with `lastOff` set in the current run. */
  private readonly touched = new Uint16Array(PIDS);
  private nTouched = 0;
  private readonly lastSeen = new Float64Array(PIDS);
  private readonly watch = new Uint8Array(PIDS);
  private readonly overdue = new Uint8Array(PIDS);
  private readonly pmtLast = new Float64Array(PIDS);
  private readonly ptsLast = new Float64Array(PIDS).fill(-1);
  private readonly pcrLastValue = new Float64Array(PIDS).fill(-1);
  private readonly pcrLastIdx = new Float64Array(PIDS);
  private pmtPidList: number[] = [];
  private esPidList: number[] = [];
  private pcrPidList: number[] = [];
  private patLast = 0;
  private patOverdue = false;

  private readonly breakdown: PidBreakdown;

  constructor(opts: TsMonitorOptions = {}) {
    this.wall = opts.clock === "wall";
    this.patMs = opts.patIntervalMs ?? 500;
    this.pmtMs = opts.pmtIntervalMs ?? 500;
    this.pidMs = opts.pidTimeoutMs ?? 5000;
    this.pcrMs = opts.pcrIntervalMs ?? 40;
    this.pcrMaxStep = (opts.pcrMaxStepMs ?? 100) * PCR_TICKS_PER_MS;
    this.ptsMs = opts.ptsIntervalMs ?? 700;
    this.exemptTypes = new Set(opts.pidErrorExemptStreamTypes ?? [0x86]);
    this.breakdown = new PidBreakdown(opts.maxLabelledPids ?? 64);
    this.lockCount = opts.lockCount ?? DEFAULT_SYNC_LOCK_COUNT;
    this.tracker = new PsiTracker({
      onPat: () => this.rebuild(),
      onPmt: () => this.rebuild(),
    });
    this.demux = new SectionDemux({
      onSection: (s, p) => this.onSection(s, p),
      onError: (kind, p) => this.onSectionError(kind, p),
    });
    this.demux.addPid(PAT_PID);
    for (const p of SI_CRC_PIDS) this.demux.addPid(p);
  }

  /** A copy of the counters. */
  snapshot(): Tr101290Counters {
    return { ...this.counters };
  }

  /** Per-PID rows: labelled PIDs in labelling order, then "other". */
  perPid(): Tr101290PidRow[] {
    return this.breakdown.rows();
  }

  /** Packet duration in ms learned from the PCRs (0 until known). */
  get packetDurationMs(): number {
    return this.msPerPacket;
  }

  /** The PSI tracker following PAT/PMT (read-only use). */
  get psi(): PsiTracker {
    return this.tracker;
  }

  /**
   * The reader lost sync (forward `TsReader`'s `onSyncLoss`): one TS_sync_loss and one
   * Sync_byte_error. Ignored before the first packet (acquiring sync is not losing it).
   */
  onSyncLoss(): void {
    if (this.packets === 0) return;
    this.counters.tsSyncLoss++;
    this.counters.syncByteError++;
  }

  /** A packet start that is not 0x47, reported by a reader that kept its lock. */
  onSyncByteError(): void {
    this.counters.syncByteError++;
  }

  /** Feeds arbitrary chunks through a monitor-owned TsReader. */
  push(chunk: Uint8Array, nowMs?: number): void {
    if (nowMs !== undefined) this.wallNow = nowMs;
    this.reader ??= new TsReader({
      lockCount: this.lockCount,
      onPackets: (b, s, c) => this.pushRun(b, s, c),
      onSyncLoss: () => this.onSyncLoss(),
    });
    this.reader.push(chunk);
  }

  /** End of the input fed with `push`: emits what the reader still holds. */
  end(): void {
    this.reader?.end();
  }

  /** Wall clock only: looks for overdue items at `nowMs` (call it periodically while live). */
  tick(nowMs: number): void {
    if (!this.wall) return;
    this.wallNow = nowMs;
    this.now = nowMs;
    this.scan();
  }

  /**
   * Feeds `count` contiguous 188-byte packets at buf[start + i × 188] (only valid during the
   * call; nothing is kept). `nowMs` is used by the wall clock only; when omitted there, the
   * last value given is reused.
   */
  pushRun(buf: Uint8Array, start: number, count: number, nowMs?: number): void {
    if (nowMs !== undefined) this.wallNow = nowMs;
    for (let i = 0, o = start; i < count; i++, o += TS_PACKET_SIZE) this.packet(buf, o);
    // the run's buffer is not kept: hash each PID's last payload packet for the next run
    for (let k = 0; k < this.nTouched; k++) {
      const p = this.touched[k];
      this.lastHash[p] = payloadHash(buf, this.lastOff[p]);
      this.lastOff[p] = -1;
    }
    this.nTouched = 0;
    if (count > 0) this.scan();
  }

  private packet(buf: Uint8Array, o: number): void {
    const idx = this.packets++;
    const now = this.wall ? this.wallNow : idx;
    this.idx = idx;
    this.now = now;
    if (idx === 0) this.patLast = now;
    const c = this.counters;
    const b1 = buf[o + 1];
    const p = ((b1 & 0x1f) << 8) | buf[o + 2];
    if ((b1 & 0x80) !== 0) {
      c.transportError++;
      this.lastCc[p] = -1;
      return;
    }
    const w = this.watch[p];
    if ((w & W_ES) !== 0) {
      if ((this.overdue[p] & OV_PID) === 0 && (w & W_EXEMPT) === 0 && this.elapsedMs(this.lastSeen[p], now) > this.pidMs) {
        this.countPid(K_PID, p);
      }
      this.overdue[p] &= ~OV_PID;
    }
    this.lastSeen[p] = now;
    if (p !== NULL_PID) {
      const b3 = buf[o + 3];
      this.checkCc(buf, o, p, b3);
      const scrambled = b3 >= 0x40;
      if (scrambled) {
        if (p === PAT_PID) c.patError++;
        else if ((w & W_PMT) !== 0) c.pmtError++;
      } else {
        this.tracker.push(buf, o);
        this.demux.push(buf, o);
      }
      if ((b3 & 0x20) !== 0 && buf[o + 4] >= 7 && buf[o + 4] <= 183 && (buf[o + 5] & 0x10) !== 0) {
        this.onPcr(buf, o, p, idx);
      }
      if ((b1 & 0x40) !== 0 && (w & W_ES) !== 0 && !scrambled && readPacketPts(buf, o) >= 0) {
        if ((this.overdue[p] & OV_PTS) === 0 && this.ptsLast[p] >= 0 && this.elapsedMs(this.ptsLast[p], now) > this.ptsMs) {
          this.countPid(K_PTS, p);
        }
        this.overdue[p] &= ~OV_PTS;
        this.ptsLast[p] = now;
      }
    }
    if (idx >= this.nextScan) {
      this.nextScan = idx + SCAN_STRIDE;
      this.scan();
    }
  }

  /** Domain §1.3. */
  private checkCc(buf: Uint8Array, o: number, p: number, b3: number): void {
    const afc = (b3 >> 4) & 0x03;
    if (afc === 0) return;
    const cc = b3 & 0x0f;
    const last = this.lastCc[p];
    if ((afc & 0x01) === 0) {
      // adaptation field only: the CC repeats
      if (last >= 0 && cc !== last) {
        if (discontinuityIndicator(buf, o)) {
          this.lastCc[p] = cc;
          this.dupUsed[p] = 0;
        } else {
          this.countPid(K_CC, p);
        }
      }
      return;
    }
    if (last >= 0 && cc !== ((last + 1) & 0x0f) && !discontinuityIndicator(buf, o)) {
      if (cc === last && this.dupUsed[p] === 0 && this.samePayload(buf, o, p)) {
        this.dupUsed[p] = 1;
        return;
      }
      this.countPid(K_CC, p);
      if (cc === last) return; // a further copy: keep the duplicate used up
    }
    this.lastCc[p] = cc;
    this.dupUsed[p] = 0;
    if (this.lastOff[p] < 0) this.touched[this.nTouched++] = p;
    this.lastOff[p] = o;
  }

  /** Whether the packet at `o` repeats the PID's last payload packet (PUSI and payload bytes). */
  private samePayload(buf: Uint8Array, o: number, p: number): boolean {
    const q = this.lastOff[p];
    if (q < 0) return payloadHash(buf, o) === this.lastHash[p];
    if (((buf[o + 1] ^ buf[q + 1]) & 0x40) !== 0) return false;
    const a = payloadOffset(buf, o);
    const b = payloadOffset(buf, q);
    if (a < 0 || b < 0) return a < 0 && b < 0;
    if (a - o !== b - q) return false;
    for (let i = a, j = b; i < o + TS_PACKET_SIZE; i++, j++) if (buf[i] !== buf[j]) return false;
    return true;
  }

  private onPcr(buf: Uint8Array, o: number, p: number, idx: number): void {
    const pcr = readPcrField(buf, o + 6);
    const di = (buf[o + 5] & 0x80) !== 0;
    const lastValue = this.pcrLastValue[p];
    if (lastValue >= 0) {
      const d = pcrDiff(pcr, lastValue);
      const packets = idx - this.pcrLastIdx[p];
      if (!di && d > 0 && d <= this.pcrMaxStep && packets > 0) this.learnRate(d / PCR_TICKS_PER_MS / packets);
      if ((this.watch[p] & W_PCR) !== 0) {
        if (!di && (d < 0 || d > this.pcrMaxStep)) this.countPid(K_PCR_DISC, p);
        if ((this.overdue[p] & OV_PCR) === 0 && packets * this.msPerPacket > this.pcrMs) this.countPid(K_PCR_REP, p);
      }
    }
    this.overdue[p] &= ~OV_PCR;
    this.pcrLastValue[p] = pcr;
    this.pcrLastIdx[p] = idx;
  }

  private learnRate(r: number): void {
    if (this.msPerPacket === 0 || close(r, this.msPerPacket) || close(r, this.rateCandidate)) {
      this.msPerPacket = r;
      this.rateCandidate = 0;
    } else {
      this.rateCandidate = r;
    }
  }

  /** ms between two positions (0 while the stream clock is unknown). */
  private elapsedMs(from: number, to: number): number {
    return this.wall ? to - from : (to - from) * this.msPerPacket;
  }

  /** Finds overdue PAT, PMTs, PIDs, PTS and PCRs at the current position. */
  private scan(): void {
    if (!this.wall && this.msPerPacket === 0) return;
    const now = this.now;
    const ov = this.overdue;
    if (!this.patOverdue && this.elapsedMs(this.patLast, now) > this.patMs) {
      this.patOverdue = true;
      this.counters.patError++;
    }
    const pmts = this.pmtPidList;
    for (let i = 0; i < pmts.length; i++) {
      const p = pmts[i];
      if ((ov[p] & OV_PMT) === 0 && this.elapsedMs(this.pmtLast[p], now) > this.pmtMs) {
        ov[p] |= OV_PMT;
        this.counters.pmtError++;
      }
    }
    const es = this.esPidList;
    for (let i = 0; i < es.length; i++) {
      const p = es[i];
      if ((ov[p] & OV_PID) === 0 && (this.watch[p] & W_EXEMPT) === 0 && this.elapsedMs(this.lastSeen[p], now) > this.pidMs) {
        ov[p] |= OV_PID;
        this.countPid(K_PID, p);
      }
      if ((ov[p] & OV_PTS) === 0 && this.ptsLast[p] >= 0 && this.elapsedMs(this.ptsLast[p], now) > this.ptsMs) {
        ov[p] |= OV_PTS;
        this.countPid(K_PTS, p);
      }
    }
    const r = this.msPerPacket;
    if (r > 0) {
      const pcrs = this.pcrPidList;
      for (let i = 0; i < pcrs.length; i++) {
        const p = pcrs[i];
        if ((ov[p] & OV_PCR) === 0 && this.pcrLastValue[p] >= 0 && (this.idx - this.pcrLastIdx[p]) * r > this.pcrMs) {
          ov[p] |= OV_PCR;
          this.countPid(K_PCR_REP, p);
        }
      }
    }
  }

  private onSection(s: Uint8Array, p: number): void {
    const tid = s[0];
    if (p === PAT_PID) {
      if (tid !== TABLE_ID_PAT) {
        this.counters.patError++;
        return;
      }
      if (!this.patOverdue && this.elapsedMs(this.patLast, this.now) > this.patMs) this.counters.patError++;
      this.patOverdue = false;
      this.patLast = this.now;
      return;
    }
    if (tid === TABLE_ID_PMT && (this.watch[p] & W_PMT) !== 0) {
      if ((this.overdue[p] & OV_PMT) === 0 && this.elapsedMs(this.pmtLast[p], this.now) > this.pmtMs) {
        this.counters.pmtError++;
      }
      this.overdue[p] &= ~OV_PMT;
      this.pmtLast[p] = this.now;
    }
  }

  private onSectionError(kind: SectionErrorKind, _p: number): void {
    if (kind === "crc") this.counters.crcError++;
  }

  /** Recomputes the watched PIDs from the current PAT and its programs' PMTs. */
  private rebuild(): void {
    const pat = this.tracker.pat;
    const next = new Uint8Array(PIDS);
    const pmtPids: number[] = [];
    const esPids: number[] = [];
    const pcrPids: number[] = [];
    const add = (p: number, flag: number, list: number[]): void => {
      if ((next[p] & flag) === 0) list.push(p);
      next[p] |= flag;
    };
    if (pat) {
      for (const prog of pat.programs) {
        if (prog.programNumber === 0) continue;
        add(prog.pid, W_PMT, pmtPids);
        const pmt = this.tracker.pmts.get(prog.programNumber);
        if (!pmt) continue;
        if (pmt.pcrPid !== NULL_PID) add(pmt.pcrPid, W_PCR, pcrPids);
        for (const s of pmt.streams) {
          add(s.elementaryPid, W_ES, esPids);
          if (this.exemptTypes.has(s.streamType)) next[s.elementaryPid] |= W_EXEMPT;
        }
      }
    }
    const now = this.now;
    for (const p of this.pmtPidList) {
      if ((next[p] & W_PMT) === 0 && !isFixedPsiPid(p)) this.demux.removePid(p);
    }
    for (const p of [...this.pmtPidList, ...this.esPidList, ...this.pcrPidList]) {
      if (next[p] === 0) this.overdue[p] = 0;
    }
    for (let i = 0; i < pmtPids.length; i++) {
      const p = pmtPids[i];
      if ((this.watch[p] & W_PMT) === 0) {
        this.pmtLast[p] = now;
        this.overdue[p] &= ~OV_PMT;
        this.demux.addPid(p);
        this.breakdown.label(p);
      }
    }
    for (let i = 0; i < esPids.length; i++) {
      const p = esPids[i];
      if ((this.watch[p] & W_ES) === 0) {
        this.lastSeen[p] = now;
        this.ptsLast[p] = -1;
        this.overdue[p] &= ~(OV_PID | OV_PTS);
        this.breakdown.label(p);
      }
    }
    for (let i = 0; i < pcrPids.length; i++) {
      const p = pcrPids[i];
      if ((this.watch[p] & W_PCR) === 0) {
        this.overdue[p] &= ~OV_PCR;
        this.breakdown.label(p);
      }
    }
    this.watch.set(next);
    this.pmtPidList = pmtPids;
    this.esPidList = esPids;
    this.pcrPidList = pcrPids;
  }

  /** Counts one error of a per-PID kind (and its total). */
  private countPid(k: number, p: number): void {
    this.counters[TR101290_PID_INDICATORS[k]]++;
    this.breakdown.count(k, p);
  }
}
