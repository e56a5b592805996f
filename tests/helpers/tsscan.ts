/**
 * A plain scan of a whole TS for tests: per-packet PID, CC checks, PCRs, and the sections
 * of chosen PIDs with the index of the packet where each starts. Written from the packet
 * rules directly, not through the injector, so tests check the injector against it.
 */
import { readFileSync } from "node:fs";
import {
  NULL_PID,
  PCR_MODULUS,
  PTS_MODULUS,
  SectionAssembler,
  TsReader,
  TS_PACKET_SIZE,
  adaptationFieldControl,
  continuityCounter,
  discontinuityIndicator,
  pid as pidOf,
  pusi,
  readPcr,
} from "../../src/ts/index.js";

export interface ScannedSection {
  pid: number;
  /** index of the packet where the section starts (PUSI packet) */
  packet: number;
  bytes: Uint8Array;
}

export interface TsScan {
  packets: number;
  pidCounts: Map<number, number>;
  ccErrors: Map<number, number>;
  /** every PCR, by packet index */
  pcrs: Array<{ packet: number; pid: number; pcr: number }>;
  sections: ScannedSection[];
  resyncs: number;
  bytesSkipped: number;
  truncatedBytes: number;
  /** PID of each packet (for positional comparisons) */
  pidAt: Uint16Array;
}

export function scanTs(file: string | Uint8Array, sectionPids: number[] = []): TsScan {
  const data = typeof file === "string" ? readFileSync(file) : file;
  const pidCounts = new Map<number, number>();
  const ccErrors = new Map<number, number>();
  const lastCc = new Map<number, number>();
  const pcrs: TsScan["pcrs"] = [];
  const sections: ScannedSection[] = [];
  const pidAt = new Uint16Array(Math.ceil(data.length / TS_PACKET_SIZE) + 1);
  let index = 0;
  const starts = new Map<number, number>();
  const assemblers = new Map<number, SectionAssembler>();
  for (const p of sectionPids) {
    assemblers.set(
      p,
      new SectionAssembler(p, {
        checkCrc: false,
        onSection: (s, pid) => sections.push({ pid, packet: starts.get(pid) ?? -1, bytes: s }),
      }),
    );
  }
  const reader = new TsReader({
    onPacket: (buf, off) => {
      const pid = pidOf(buf, off);
      pidAt[index] = pid;
      pidCounts.set(pid, (pidCounts.get(pid) ?? 0) + 1);
      if (pid !== NULL_PID) {
        const cc = continuityCounter(buf, off);
        const afc = adaptationFieldControl(buf, off);
        const prev = lastCc.get(pid);
        if (prev !== undefined && !discontinuityIndicator(buf, off)) {
          const payload = afc === 1 || afc === 3;
          const expected = payload ? (prev + 1) & 15 : prev;
          // one duplicate allowed (same CC on a payload packet)
          if (cc !== expected && !(payload && cc === prev)) ccErrors.set(pid, (ccErrors.get(pid) ?? 0) + 1);
        }
        lastCc.set(pid, cc);
        const pcr = readPcr(buf, off);
        if (pcr >= 0) pcrs.push({ packet: index, pid, pcr });
        const asm = assemblers.get(pid);
        if (asm) {
          if (pusi(buf, off)) starts.set(pid, index);
          asm.push(buf, off);
        }
      }
      index++;
    },
  });
  reader.push(data);
  reader.end();
  return {
    packets: index,
    pidCounts,
    ccErrors,
    pcrs,
    sections,
    resyncs: reader.stats.resyncs,
    bytesSkipped: reader.stats.bytesSkipped,
    truncatedBytes: reader.stats.truncatedBytes,
    pidAt,
  };
}

/** PCR base (90 kHz) at a packet, interpolated linearly between the PCRs around it. */
export function pcrAtPacket(scan: TsScan, packet: number): number {
  const list = scan.pcrs;
  let lo = 0;
  let hi = list.length - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (list[mid].packet <= packet) lo = mid;
    else hi = mid;
  }
  const a = list[lo];
  const b = list[hi];
  if (b.packet === a.packet) return a.pcr / 300;
  // across the wrap the later PCR is smaller
  const bp = b.pcr < a.pcr ? b.pcr + PCR_MODULUS : b.pcr;
  return ((a.pcr + ((bp - a.pcr) * (packet - a.packet)) / (b.packet - a.packet)) / 300) % PTS_MODULUS;
}
