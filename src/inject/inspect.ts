/**
 * TsInspector: the analysis behind `onair inspect`. Pure: bytes in (any chunking), records
 * out through a callback; no I/O, never throws on stream data.
 *
 * What it reports, as records (one JSON object per line in `--json` mode):
 * - `program`: when a PMT is first seen or its content changes (PAT/PMT via PsiTracker).
 * - `scte35`: every splice_info_section assembled on a PID that a PMT lists with
 *   stream_type 0x86, decoded with `decodeSpliceInfoSection` (CRC verified there, so a CRC
 *   error carries both values). `packet` is the 0-based index of the packet where the
 *   section STARTS (what an analyzer shows); `arrivalSeconds` is the arrival time of the
 *   packet carrying its LAST byte.
 * - `error`: damage (sync loss with byte offset and bytes skipped, CC errors, TEI packets,
 *   section length/truncation/pointer errors, PSI CRC and decode errors, SCTE-35 decode
 *   failures, PCR jumps, a truncated final packet). For errors about one section, `packet`
 *   is where that section starts, as for `scte35`; otherwise where the damage was seen.
 *   At most `maxErrorRecords` error records are emitted; the rest are only counted.
 * - at `end()`: one `pid` record per PID seen (sorted by PID), then the `summary`.
 *
 * Continuity (domain §1.3): checked per PID on packets with payload; null packets, packets
 * with transport_error_indicator and adaptation-field-only packets are not checked (the
 * latter repeat the previous CC). One duplicate (same CC, identical bytes apart from the
 * PCR) is allowed, a third copy or a same-CC packet with other content is an error;
 * discontinuity_indicator allows any jump.
 *
 * Time base: the PCRs of the first PID seen carrying a PCR (for several programs on
 * different clocks, everything is timed against that one). A packet's time is interpolated
 * linearly by packet count between the PCRs around it (exact for CBR), extrapolated with
 * the first interval's rate before the first PCR and with the last interval's rate after
 * the last one; with a single PCR every packet gets that PCR's time; with none,
 * `arrivalSeconds` is null. Times are seconds since the first PCR (negative before it),
 * rounded to the microsecond. A PCR step backwards or of more than 10 s is bridged by
 * packet count at the previous rate (and reported unless discontinuity_indicator is set),
 * so the time line stays continuous. Records are emitted in stream order; an `scte35`
 * record (and what follows it) waits until the PCR after it has been read.
 */
import { isOnairError } from "../core/errors.js";
import { decodeSpliceInfoSection, type SpliceInfoSection } from "../scte35/index.js";
import {
  continuityCounter,
  discontinuityIndicator,
  hasPayload,
  hasPcr,
  NULL_PID,
  PAT_PID,
  PCR_MODULUS,
  pid as packetPid,
  pusi,
  readPcr,
  transportErrorIndicator,
  TS_PACKET_SIZE,
} from "../ts/packet.js";
import { STREAM_TYPE_SCTE35, type PmtSection } from "../ts/pmt.js";
import type { PatSection } from "../ts/pat.js";
import { PsiTracker } from "../ts/psi-tracker.js";
import { TsReader } from "../ts/reader.js";
import { SectionDemux, type SectionErrorKind } from "../ts/section-assembler.js";
import { ContinuityCheck } from "./inspect-cc.js";
import {
  hex,
  MAX_PCR_STEP,
  SECTION_ERROR_CODES,
  streamTypeName,
  toSeconds,
  WELL_KNOWN_PIDS,
  type ErrorRecord,
  type InspectRecord,
  type ProgramRecord,
  type ProgramStream,
  type Scte35Record,
  type SummaryRecord,
  type TsInspectorOptions,
} from "./inspect-records.js";

export * from "./inspect-records.js";

// ---------------------------------------------------------------- inspector

interface PendingCue {
  record: Scte35Record;
  endPacket: number;
}

export class TsInspector {
  private readonly onRecord: (record: InspectRecord) => void;
  private readonly maxErrorRecords: number;
  private readonly reader: TsReader;
  private readonly psi: PsiTracker;
  private readonly scte: SectionDemux;

  /** Index of the packet being processed (= packets processed before it). */
  private index = 0;
  private readonly pidPackets = new Float64Array(8192);
  private readonly pidCcErrors = new Uint32Array(8192);
  private readonly cc = new ContinuityCheck();
  /** stream_type per PID from any PMT (-1 = not an elementary stream). */
  private readonly esType = new Int16Array(8192).fill(-1);
  private readonly pmtPids = new Set<number>();
  private readonly nitPids = new Set<number>();
  private readonly programLines = new Map<number, string>();

  // counters
  private ccErrors = 0;
  private crcErrors = 0;
  private sectionErrors = 0;
  private scte35Sections = 0;
  private scte35Errors = 0;
  private errorRecords = 0;
  private errorsNotShown = 0;

  // sync loss episode waiting for its skipped byte count
  private syncLossOffset = -1;
  private skippedMark = 0;

  // SCTE-35 section start tracking (see pushScte)
  private readonly scteStart = new Int32Array(8192).fill(-1);
  private curCarried = false;
  private curCarriedStart = -1;

  // time base
  private pcrPid = -1;
  private firstPcrPacket = -1;
  private lastPcrPacket = -1;
  private lastPcr = 0;
  /** 27 MHz ticks from the first PCR to the last one, jumps bridged. */
  private elapsed = 0;
  /** ticks per packet of the first / the latest valid interval (0 = unknown). */
  private headRate = 0;
  private rate = 0;

  // ordered output
  private readonly pending: PendingCue[] = [];
  private readonly queue: InspectRecord[] = [];
  private ended = false;

  constructor(opts: TsInspectorOptions) {
    this.onRecord = opts.onRecord;
    this.maxErrorRecords = opts.maxErrorRecords ?? 1000;
    this.reader = new TsReader({
      onPackets: (b, s, n) => this.onPackets(b, s, n),
      onSyncLoss: (offset) => {
        this.syncLossOffset = offset;
      },
    });
    this.psi = new PsiTracker({
      onPat: (pat) => this.onPat(pat),
      onPmt: (pmt, p) => this.onPmt(pmt, p),
      onSectionError: (kind, p) => this.onSectionError(kind, p, this.index, "PSI"),
      onDecodeError: (code, p) =>
        this.error({
          code,
          message: `${p === PAT_PID ? "PAT" : "PMT"} section on PID ${hex(p, 4)} does not decode`,
          packet: this.index,
          pid: p,
        }),
    });
    this.scte = new SectionDemux({
      checkCrc: false,
      onSection: (s, p) => this.onScteSection(s, p),
      onError: (kind, p) => this.onSectionError(kind, p, this.scteSectionStart(), "SCTE-35"),
    });
  }

  /** Feeds bytes; chunks may be cut anywhere. */
  push(chunk: Uint8Array): void {
    if (this.ended) throw new Error("TsInspector.push after end()");
    this.reader.push(chunk);
  }

  /**
   * End of input: flushes partial sections, emits every held record, one `pid` record per
   * PID seen and the summary, and returns the summary.
   */
  end(): SummaryRecord {
    if (this.ended) throw new Error("TsInspector.end called twice");
    this.reader.end();
    this.ended = true;
    const stats = this.reader.stats;
    this.reportSyncLoss();
    if (stats.truncatedBytes > 0) {
      this.error({
        code: "ONAIR_INSPECT_TRUNCATED_PACKET",
        message: `the input ends inside a packet: ${stats.truncatedBytes} bytes after the last whole packet`,
        details: { bytes: stats.truncatedBytes },
      });
    }
    for (let p = 0; p < 8192; p++) {
      const a = this.scte.assembler(p);
      if (!a?.inProgress) continue;
      this.curCarried = true;
      this.curCarriedStart = this.scteStart[p];
      a.flush();
    }
    if (stats.packets === 0) {
      this.error({
        code: "ONAIR_INSPECT_NO_PACKETS",
        message: `no TS packets found in ${stats.bytesIn} bytes`,
      });
    }
    this.resolvePending(true);

    for (let p = 0; p < 8192; p++) {
      if (this.pidPackets[p] === 0) continue;
      const es = this.esType[p] >= 0 && !WELL_KNOWN_PIDS.has(p) && !this.pmtPids.has(p);
      this.onRecord({
        type: "pid",
        pid: p,
        ...(es ? { streamType: this.esType[p] } : {}),
        streamTypeName: this.pidName(p),
        packets: this.pidPackets[p],
        ccErrors: this.pidCcErrors[p],
      });
    }
    const summary: SummaryRecord = {
      type: "summary",
      packets: stats.packets,
      resyncs: stats.resyncs,
      bytesSkipped: stats.bytesSkipped,
      truncatedBytes: stats.truncatedBytes,
      transportErrors: stats.transportErrors,
      ccErrors: this.ccErrors,
      crcErrors: this.crcErrors,
      scte35Sections: this.scte35Sections,
      sectionErrors: this.sectionErrors,
      scte35Errors: this.scte35Errors,
      errorsNotShown: this.errorsNotShown,
    };
    const duration = this.durationTicks(stats.packets);
    if (duration !== undefined) summary.durationSeconds = toSeconds(duration);
    this.onRecord(summary);
    return summary;
  }

  // ---------------------------------------------------------------- packets

  private onPackets(buf: Uint8Array, start: number, count: number): void {
    this.reportSyncLoss();
    for (let i = 0, o = start; i < count; i++, o += TS_PACKET_SIZE) {
      this.packet(buf, o);
      this.index++;
    }
    this.skippedMark = this.reader.stats.bytesSkipped;
  }

  private packet(buf: Uint8Array, o: number): void {
    const p = packetPid(buf, o);
    const i = this.index;
    this.pidPackets[p]++;
    if (transportErrorIndicator(buf, o)) {
      this.error({
        code: "ONAIR_INSPECT_TRANSPORT_ERROR",
        message: `packet ${i} on PID ${hex(p, 4)} has transport_error_indicator set`,
        packet: i,
        pid: p,
      });
    } else {
      if (p !== NULL_PID && hasPayload(buf, o)) this.checkCc(buf, o, p, i);
      if (hasPcr(buf, o)) {
        if (this.pcrPid < 0) this.pcrPid = p;
        if (p === this.pcrPid) this.onPcr(i, readPcr(buf, o), discontinuityIndicator(buf, o));
      }
    }
    this.psi.push(buf, o);
    if (this.scte.hasPid(p)) this.pushScte(buf, o, p, i);
  }

  private checkCc(buf: Uint8Array, o: number, p: number, i: number): void {
    const problem = this.cc.check(buf, o, p);
    if (!problem) return;
    this.ccErrors++;
    this.pidCcErrors[p]++;
    this.error({
      code: "ONAIR_INSPECT_CC",
      message: `PID ${hex(p, 4)}: ${problem}`,
      packet: i,
      pid: p,
      details: { previous: this.cc.previous, got: continuityCounter(buf, o) },
    });
  }

  private reportSyncLoss(): void {
    if (this.syncLossOffset < 0) return;
    const bytes = this.reader.stats.bytesSkipped - this.skippedMark;
    const offset = this.syncLossOffset;
    this.syncLossOffset = -1;
    this.skippedMark = this.reader.stats.bytesSkipped;
    const atEnd = this.ended;
    this.error({
      code: "ONAIR_INSPECT_SYNC_LOSS",
      message: atEnd
        ? `no packet sync from byte ${offset} to the end: ${bytes} bytes skipped`
        : `lost packet sync at byte ${offset}: ${bytes} bytes skipped before packet ${this.index}`,
      ...(atEnd ? {} : { packet: this.index }),
      offset,
      details: { bytesSkipped: bytes },
    });
  }

  // ---------------------------------------------------------------- PSI

  private onPat(pat: PatSection): void {
    for (const prog of pat.programs) {
      if (prog.programNumber === 0) this.nitPids.add(prog.pid);
      else this.pmtPids.add(prog.pid);
    }
  }

  private onPmt(pmt: PmtSection, pmtPid: number): void {
    const streams: ProgramStream[] = pmt.streams.map((s) => ({
      pid: s.elementaryPid,
      streamType: s.streamType,
      streamTypeName: streamTypeName(s.streamType),
    }));
    for (const s of pmt.streams) {
      this.esType[s.elementaryPid] = s.streamType;
      if (s.streamType === STREAM_TYPE_SCTE35 && s.elementaryPid !== PAT_PID && !this.pmtPids.has(s.elementaryPid)) {
        this.scte.addPid(s.elementaryPid);
      }
    }
    const rec: ProgramRecord = { type: "program", programNumber: pmt.programNumber, pmtPid, pcrPid: pmt.pcrPid, streams };
    const line = JSON.stringify(rec);
    if (this.programLines.get(pmt.programNumber) === line) return;
    this.programLines.set(pmt.programNumber, line);
    this.out(rec);
  }

  private onSectionError(kind: SectionErrorKind, p: number, packet: number, what: string): void {
    // CC and TEI damage is already reported per packet.
    if (kind === "continuity" || kind === "transportError") return;
    if (kind === "crc") this.crcErrors++;
    else this.sectionErrors++;
    const messages: Record<keyof typeof SECTION_ERROR_CODES, string> = {
      pointerField: "pointer_field points past the end of the packet",
      sectionLength: "section_length is above the limit for its table or too short for its header and CRC_32",
      truncated: this.ended
        ? "section cut short: section_length runs past the end of the input"
        : "section cut short: section_length runs past the start of the next section",
      crc: "section dropped: CRC_32 does not match",
    };
    this.error({
      code: SECTION_ERROR_CODES[kind],
      message: `${what} PID ${hex(p, 4)}: ${messages[kind]}`,
      packet,
      pid: p,
    });
  }

  // ---------------------------------------------------------------- SCTE-35

  /**
   * Feeds one packet of an SCTE-35 PID and keeps where its sections start. A section that
   * completes (or fails) during this push started here, unless it is the one that was
   * already in progress before (`curCarried`, consumed by the first section or error).
   * After a PUSI packet, a section still in progress started in it.
   */
  private pushScte(buf: Uint8Array, o: number, p: number, i: number): void {
    const a = this.scte.assembler(p);
    if (!a) return;
    this.curCarried = a.inProgress;
    this.curCarriedStart = this.scteStart[p];
    a.push(buf, o);
    this.curCarried = false;
    if (a.inProgress && pusi(buf, o)) this.scteStart[p] = i;
  }

  private scteSectionStart(): number {
    const start = this.curCarried ? this.curCarriedStart : this.index;
    this.curCarried = false;
    return start;
  }

  private onScteSection(bytes: Uint8Array, p: number): void {
    const packet = this.scteSectionStart();
    let section: SpliceInfoSection;
    try {
      section = decodeSpliceInfoSection(bytes);
    } catch (e) {
      this.scte35Errors++;
      const code = isOnairError(e) ? e.code : "ONAIR_INTERNAL";
      if (code === "ONAIR_SCTE35_CRC") this.crcErrors++;
      this.error({
        code,
        message: `SCTE-35 PID ${hex(p, 4)}: ${e instanceof Error ? e.message : String(e)}`,
        packet,
        pid: p,
        ...(isOnairError(e) && Object.keys(e.fields).length > 0 ? { details: e.fields } : {}),
      });
      return;
    }
    this.scte35Sections++;
    const record: Scte35Record = { type: "scte35", packet, pid: p, arrivalSeconds: null, section };
    const endPacket = this.ended ? this.index - 1 : this.index;
    if (this.pending.length === 0 && this.firstPcrPacket >= 0 && endPacket === this.lastPcrPacket) {
      record.arrivalSeconds = toSeconds(this.elapsed);
      this.onRecord(record);
      return;
    }
    this.pending.push({ record, endPacket });
    this.queue.push(record);
  }

  // ---------------------------------------------------------------- time

  private onPcr(i: number, pcr: number, discontinuity: boolean): void {
    if (this.firstPcrPacket < 0) {
      this.firstPcrPacket = i;
      this.lastPcrPacket = i;
      this.lastPcr = pcr;
      this.resolvePending(false);
      return;
    }
    const n = i - this.lastPcrPacket;
    let delta = (((pcr - this.lastPcr) % PCR_MODULUS) + PCR_MODULUS) % PCR_MODULUS;
    const jump = discontinuity || delta > MAX_PCR_STEP;
    if (jump) {
      if (!discontinuity) {
        this.error({
          code: "ONAIR_INSPECT_PCR_JUMP",
          message: `PCR on PID ${hex(this.pcrPid, 4)} jumped without discontinuity_indicator`,
          packet: i,
          pid: this.pcrPid,
          details: { previousPcr: this.lastPcr, pcr },
        });
      }
      delta = this.rate * n;
    } else {
      this.rate = delta / n;
      if (this.headRate === 0) this.headRate = this.rate;
    }
    // cues in (lastPcrPacket, i]: interpolate inside this interval
    const stepRate = delta / n;
    for (const c of this.pending) {
      if (c.endPacket > this.lastPcrPacket && c.endPacket <= i) {
        c.record.arrivalSeconds = toSeconds(this.elapsed + (c.endPacket - this.lastPcrPacket) * stepRate);
      }
    }
    this.elapsed += delta;
    this.lastPcrPacket = i;
    this.lastPcr = pcr;
    this.resolvePending(false);
  }

  /** Times pending cues that can be timed now (all of them when `final`), then flushes the queue in order. */
  private resolvePending(final: boolean): void {
    let open = 0;
    for (const c of this.pending) {
      if (c.record.arrivalSeconds !== null) continue;
      if (this.firstPcrPacket < 0) {
        if (!final) open++;
        continue;
      }
      if (c.endPacket < this.firstPcrPacket) {
        if (this.headRate > 0 || final) {
          c.record.arrivalSeconds = toSeconds((c.endPacket - this.firstPcrPacket) * this.headRate);
        } else open++;
      } else if (c.endPacket === this.lastPcrPacket || final) {
        c.record.arrivalSeconds = toSeconds(this.elapsed + (c.endPacket - this.lastPcrPacket) * this.rate);
      } else {
        open++;
      }
    }
    if (open > 0) return;
    this.pending.length = 0;
    for (const r of this.queue) this.onRecord(r);
    this.queue.length = 0;
  }

  /** Time from packet 0 to the end of the last packet, or undefined with fewer than two PCRs. */
  private durationTicks(packets: number): number | undefined {
    if (this.rate === 0 || this.headRate === 0) return undefined;
    return this.firstPcrPacket * this.headRate + this.elapsed + (packets - this.lastPcrPacket) * this.rate;
  }

  // ---------------------------------------------------------------- output

  private pidName(p: number): string {
    const known = WELL_KNOWN_PIDS.get(p);
    if (known) return known;
    if (this.pmtPids.has(p)) return "PMT";
    if (this.nitPids.has(p)) return "NIT";
    if (this.esType[p] >= 0) return streamTypeName(this.esType[p]);
    return "unknown";
  }

  private out(r: InspectRecord): void {
    if (this.pending.length === 0) this.onRecord(r);
    else this.queue.push(r);
  }

  private error(e: Omit<ErrorRecord, "type">): void {
    if (this.errorRecords >= this.maxErrorRecords) {
      this.errorsNotShown++;
      return;
    }
    this.errorRecords++;
    this.out({ type: "error", ...e });
  }
}

/** Inspects a whole buffer and returns every record (summary last). For tests and small inputs. */
export function inspectBytes(bytes: Uint8Array, opts: Omit<TsInspectorOptions, "onRecord"> = {}): InspectRecord[] {
  const records: InspectRecord[] = [];
  const inspector = new TsInspector({ ...opts, onRecord: (r) => records.push(r) });
  inspector.push(bytes);
  inspector.end();
  return records;
}
