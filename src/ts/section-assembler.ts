/**
 * Section assembly from TS packets of one PID (ISO/IEC 13818-1 §2.4.4.1).
 *
 * - pointer_field is read only when PUSI = 1; the bytes it skips finish the section in
 *   progress. Several sections may follow each other in a PUSI packet; a table_id of 0xFF
 *   (stuffing) ends the packet. A PUSI = 0 packet only continues a section; what follows
 *   the end of that section in it is stuffing (no pointer_field, so no new section).
 * - Continuity: a CC jump without discontinuity_indicator drops the section in progress and
 *   is counted; one duplicate packet (same CC) is ignored, a second one is an error.
 * - Each complete section is emitted as a copy (`Uint8Array` of exactly 3 + section_length
 *   bytes) with its PID. With `checkCrc` (default true) a section whose CRC does not match
 *   is counted and not emitted; sections without CRC (TDT) pass.
 * - Never throws on stream data: every problem is counted by kind in `errors` and reported
 *   to the optional `onError`; assembly resumes at the next PUSI.
 *
 * The packet path allocates nothing; one section buffer of 4096 bytes is preallocated.
 */
import {
  continuityCounter,
  discontinuityIndicator,
  hasPayload,
  payloadOffset,
  pid as packetPid,
  pusi,
  transportErrorIndicator,
  TS_PACKET_SIZE,
} from "./packet.js";
import { crc32Mpeg2 } from "./crc32.js";
import { TABLE_ID_STUFFING } from "./ids.js";
import {
  CRC_SIZE,
  LONG_SECTION_HEADER_SIZE,
  maxSectionLengthFor,
  MAX_PRIVATE_SECTION_LENGTH,
  MAX_SECTION_SIZE,
  SECTION_HEADER_SIZE,
  sectionHasCrc,
} from "./section.js";

export type SectionErrorKind =
  /** transport_error_indicator set: packet ignored, section in progress dropped. */
  | "transportError"
  /** CC jump without discontinuity_indicator (or a third copy of a packet). */
  | "continuity"
  /** pointer_field points past the end of the packet. */
  | "pointerField"
  /** section_length above the limit for its table_id (or the assembler's maximum), or too short for its header and CRC. */
  | "sectionLength"
  /** A section ended before its section_length (new PUSI arrived, or flush()). */
  | "truncated"
  /** CRC_32 mismatch. */
  | "crc";

export const SECTION_ERROR_KINDS: readonly SectionErrorKind[] = [
  "transportError",
  "continuity",
  "pointerField",
  "sectionLength",
  "truncated",
  "crc",
];

export type SectionErrorCounts = Record<SectionErrorKind, number>;

export type SectionHandler = (section: Uint8Array, pid: number) => void;
export type SectionErrorHandler = (kind: SectionErrorKind, pid: number) => void;

export interface SectionAssemblerOptions {
  onSection: SectionHandler;
  onError?: SectionErrorHandler;
  /** Drop and count sections with a wrong CRC (default true). */
  checkCrc?: boolean;
  /** Upper bound for section_length on this PID (default 4093; PSI tables use 1021 anyway). */
  maxSectionLength?: number;
}

export function createSectionErrorCounts(): SectionErrorCounts {
  return { transportError: 0, continuity: 0, pointerField: 0, sectionLength: 0, truncated: 0, crc: 0 };
}

export class SectionAssembler {
  readonly pid: number;
  readonly errors: SectionErrorCounts = createSectionErrorCounts();
  /** Complete sections emitted. */
  sections = 0;

  private readonly onSection: SectionHandler;
  private readonly onError: SectionErrorHandler | undefined;
  private readonly checkCrc: boolean;
  private readonly maxSectionLength: number;
  private readonly buf = new Uint8Array(MAX_SECTION_SIZE);
  /** Bytes collected of the section in progress; 0 = none in progress. */
  private have = 0;
  /** Total size of the section in progress once its header is known, else 0. */
  private need = 0;
  private lastCc = -1;
  private dupSeen = false;

  constructor(pid: number, opts: SectionAssemblerOptions) {
    this.pid = pid;
    this.onSection = opts.onSection;
    this.onError = opts.onError;
    this.checkCrc = opts.checkCrc ?? true;
    this.maxSectionLength = Math.min(opts.maxSectionLength ?? MAX_PRIVATE_SECTION_LENGTH, MAX_PRIVATE_SECTION_LENGTH);
  }

  /** True while a section is partly collected. */
  get inProgress(): boolean {
    return this.have > 0;
  }

  /** Feeds one 188-byte packet of this PID at buf[off]. */
  push(pkt: Uint8Array, off: number): void {
    if (transportErrorIndicator(pkt, off)) {
      this.reset();
      this.lastCc = -1;
      this.error("transportError");
      return;
    }
    if (!hasPayload(pkt, off)) return; // AF-only: CC does not advance
    const cc = continuityCounter(pkt, off);
    if (this.lastCc >= 0 && !discontinuityIndicator(pkt, off)) {
      if (cc === this.lastCc) {
        if (!this.dupSeen) {
          this.dupSeen = true;
          return;
        }
        this.reset();
        this.error("continuity");
        return;
      }
      if (cc !== ((this.lastCc + 1) & 0x0f)) {
        this.reset();
        this.error("continuity");
      }
    }
    this.dupSeen = false;
    this.lastCc = cc;

    let p = payloadOffset(pkt, off);
    if (p < 0) return;
    const end = off + TS_PACKET_SIZE;

    if (!pusi(pkt, off)) {
      if (this.have > 0) this.append(pkt, p, end);
      return;
    }
    const pointer = pkt[p];
    p++;
    if (p + pointer > end) {
      this.reset();
      this.error("pointerField");
      return;
    }
    if (this.have > 0) {
      this.append(pkt, p, p + pointer);
      if (this.have > 0) {
        this.reset();
        this.error("truncated");
      }
    }
    p += pointer;
    while (p < end && pkt[p] !== TABLE_ID_STUFFING) {
      p = this.append(pkt, p, end);
      if (p < 0 || this.have > 0) return;
    }
  }

  /** End of input: a section in progress is counted as truncated and dropped. */
  flush(): void {
    if (this.have > 0) {
      this.reset();
      this.error("truncated");
    }
  }

  /** Forgets the section in progress and the CC history (e.g. after a stream restart). */
  resetState(): void {
    this.reset();
    this.lastCc = -1;
    this.dupSeen = false;
  }

  /** Total errors of every kind. */
  get errorCount(): number {
    let n = 0;
    for (const k of SECTION_ERROR_KINDS) n += this.errors[k];
    return n;
  }

  private reset(): void {
    this.have = 0;
    this.need = 0;
  }

  private error(kind: SectionErrorKind): void {
    this.errors[kind]++;
    this.onError?.(kind, this.pid);
  }

  /**
   * Appends bytes from pkt[p, end) to the section in progress (starting one when none is).
   * Returns the position after the bytes consumed, or -1 when the section was rejected.
   */
  private append(pkt: Uint8Array, p: number, end: number): number {
    const buf = this.buf;
    if (this.need === 0) {
      while (this.have < SECTION_HEADER_SIZE && p < end) buf[this.have++] = pkt[p++];
      if (this.have < SECTION_HEADER_SIZE) return p;
      const len = ((buf[1] & 0x0f) << 8) | buf[2];
      const ssi = (buf[1] & 0x80) !== 0;
      if (
        len > this.maxSectionLength ||
        len > maxSectionLengthFor(buf[0]) ||
        (ssi && len < LONG_SECTION_HEADER_SIZE - SECTION_HEADER_SIZE + CRC_SIZE) ||
        (sectionHasCrc(buf[0], ssi) && len < CRC_SIZE)
      ) {
        this.reset();
        this.error("sectionLength");
        return -1;
      }
      this.need = SECTION_HEADER_SIZE + len;
    }
    const take = Math.min(this.need - this.have, end - p);
    for (let i = 0; i < take; i++) buf[this.have + i] = pkt[p + i];
    this.have += take;
    p += take;
    if (this.have === this.need) this.complete();
    return p;
  }

  private complete(): void {
    const size = this.need;
    this.reset();
    const buf = this.buf;
    if (this.checkCrc && sectionHasCrc(buf[0], (buf[1] & 0x80) !== 0) && crc32Mpeg2(buf, 0, size) !== 0) {
      this.error("crc");
      return;
    }
    this.sections++;
    this.onSection(buf.slice(0, size), this.pid);
  }
}

/**
 * Routes packets to one SectionAssembler per PID of interest (a flat 8192-entry table,
 * no lookup allocation). Packets of other PIDs are ignored.
 */
export class SectionDemux {
  private readonly byPid: (SectionAssembler | undefined)[] = new Array<SectionAssembler | undefined>(8192).fill(undefined);
  private readonly opts: SectionAssemblerOptions;

  constructor(opts: SectionAssemblerOptions) {
    this.opts = opts;
  }

  /** Starts assembling sections on `pid` (no-op when already). Returns its assembler. */
  addPid(pid: number): SectionAssembler {
    let a = this.byPid[pid & 0x1fff];
    if (!a) {
      a = new SectionAssembler(pid & 0x1fff, this.opts);
      this.byPid[pid & 0x1fff] = a;
    }
    return a;
  }

  removePid(pid: number): void {
    this.byPid[pid & 0x1fff] = undefined;
  }

  hasPid(pid: number): boolean {
    return this.byPid[pid & 0x1fff] !== undefined;
  }

  assembler(pid: number): SectionAssembler | undefined {
    return this.byPid[pid & 0x1fff];
  }

  /** Feeds the packet at buf[off] to its PID's assembler, if any. */
  push(buf: Uint8Array, off: number): void {
    const a = this.byPid[packetPid(buf, off)];
    if (a) a.push(buf, off);
  }

  /** Feeds a run of `count` contiguous packets. */
  pushRun(buf: Uint8Array, start: number, count: number): void {
    for (let i = 0, o = start; i < count; i++, o += TS_PACKET_SIZE) this.push(buf, o);
  }
}
