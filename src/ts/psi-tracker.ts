/**
 * PsiTracker: follows the PAT and the PMTs of a live TS. Feed it every packet; it assembles
 * PID 0 and the PMT PIDs the PAT announces, decodes a section only when its CRC differs
 * from the last one seen on that PID (PAT/PMT repeat every 100 ms with ffmpeg), and keeps a
 * PID → stream_type map for the elementary streams. Never throws on stream data: decode
 * failures are counted in `decodeErrors` and reported to `onDecodeError`.
 */
import { isOnairError } from "../core/errors.js";
import { readCrc32 } from "./crc32.js";
import { PAT_PID, TABLE_ID_PAT, TABLE_ID_PMT } from "./ids.js";
import { pid as packetPid, TS_PACKET_SIZE } from "./packet.js";
import { PatSection } from "./pat.js";
import { PmtSection } from "./pmt.js";
import { SectionDemux, type SectionErrorKind } from "./section-assembler.js";

export interface PsiTrackerOptions {
  onPat?: (pat: PatSection) => void;
  onPmt?: (pmt: PmtSection, pid: number) => void;
  onDecodeError?: (code: string, pid: number) => void;
  onSectionError?: (kind: SectionErrorKind, pid: number) => void;
}

/** pidRole values. */
export const PID_ROLE_NONE = 0;
export const PID_ROLE_PAT = 1;
export const PID_ROLE_PMT = 2;
export const PID_ROLE_ES = 3;

export class PsiTracker {
  pat: PatSection | undefined;
  /** Current PMT per program_number. */
  readonly pmts = new Map<number, PmtSection>();
  /** Role of each PID (PID_ROLE_*), indexable on the hot path. */
  readonly pidRole = new Uint8Array(8192);
  /** stream_type of each elementary PID (valid where pidRole is PID_ROLE_ES). */
  readonly streamType = new Uint8Array(8192);
  decodeErrors = 0;
  readonly demux: SectionDemux;

  private readonly opts: PsiTrackerOptions;
  private readonly lastCrc = new Float64Array(8192).fill(-1);
  private readonly pmtPidProgram = new Map<number, number>();

  constructor(opts: PsiTrackerOptions = {}) {
    this.opts = opts;
    this.demux = new SectionDemux({
      onSection: (s, p) => this.onSection(s, p),
      onError: opts.onSectionError,
    });
    this.demux.addPid(PAT_PID);
    this.pidRole[PAT_PID] = PID_ROLE_PAT;
  }

  push(buf: Uint8Array, off: number): void {
    const r = this.pidRole[packetPid(buf, off)];
    if (r === PID_ROLE_PAT || r === PID_ROLE_PMT) this.demux.push(buf, off);
  }

  pushRun(buf: Uint8Array, start: number, count: number): void {
    const role = this.pidRole;
    for (let i = 0, o = start; i < count; i++, o += TS_PACKET_SIZE) {
      const r = role[((buf[o + 1] & 0x1f) << 8) | buf[o + 2]];
      if (r === PID_ROLE_PAT || r === PID_ROLE_PMT) this.demux.push(buf, o);
    }
  }

  private onSection(s: Uint8Array, p: number): void {
    const tid = s[0];
    if (tid !== TABLE_ID_PAT && tid !== TABLE_ID_PMT) return;
    if (s.length >= 4) {
      const crc = readCrc32(s, s.length - 4);
      if (this.lastCrc[p] === crc) return;
      this.lastCrc[p] = crc;
    }
    try {
      if (p === PAT_PID && tid === TABLE_ID_PAT) this.applyPat(PatSection.decode(s));
      else if (tid === TABLE_ID_PMT && this.pidRole[p] === PID_ROLE_PMT) this.applyPmt(PmtSection.decode(s), p);
    } catch (e) {
      this.decodeErrors++;
      this.lastCrc[p] = -1;
      this.opts.onDecodeError?.(isOnairError(e) ? e.code : "ONAIR_INTERNAL", p);
    }
  }

  private applyPat(pat: PatSection): void {
    if (!pat.currentNextIndicator) return;
    for (const [pmtPid] of this.pmtPidProgram) {
      this.demux.removePid(pmtPid);
      this.pidRole[pmtPid] = PID_ROLE_NONE;
      this.lastCrc[pmtPid] = -1;
    }
    this.pmtPidProgram.clear();
    for (const prog of pat.programs) {
      if (prog.programNumber === 0) continue;
      this.pmtPidProgram.set(prog.pid, prog.programNumber);
      this.pidRole[prog.pid] = PID_ROLE_PMT;
      this.demux.addPid(prog.pid);
    }
    this.pat = pat;
    this.opts.onPat?.(pat);
  }

  private applyPmt(pmt: PmtSection, p: number): void {
    if (!pmt.currentNextIndicator) return;
    const old = this.pmts.get(pmt.programNumber);
    if (old) {
      for (const s of old.streams) {
        if (this.pidRole[s.elementaryPid] === PID_ROLE_ES) this.pidRole[s.elementaryPid] = PID_ROLE_NONE;
      }
    }
    for (const s of pmt.streams) {
      if (this.pidRole[s.elementaryPid] === PID_ROLE_NONE || this.pidRole[s.elementaryPid] === PID_ROLE_ES) {
        this.pidRole[s.elementaryPid] = PID_ROLE_ES;
        this.streamType[s.elementaryPid] = s.streamType;
      }
    }
    this.pmts.set(pmt.programNumber, pmt);
    this.opts.onPmt?.(pmt, p);
  }
}
