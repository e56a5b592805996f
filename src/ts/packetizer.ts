/**
 * Sections → 188-byte TS packets on one PID (ISO/IEC 13818-1 §2.4.4.1, domain §1.5).
 *
 * - The first packet of every section start gets PUSI = 1 and a pointer_field (0 when the
 *   section starts right after it). When the tail of one section leaves room in a packet,
 *   the next section starts in the same packet (pointer_field = tail length), unless
 *   `newPacketPerSection` is set (SCTE-35 rule: each section starts at payload start).
 * - The rest of the last packet is padded with 0xFF.
 * - No adaptation field: AFC 01, scrambling 00, priority 0.
 *
 * Two ways to use it:
 * - `packetize(sections, pid, { counter })` returns ready packets with CCs stamped from the
 *   PID's ContinuityCounter.
 * - A table version is packetized once with `packetizeSections` (CC 0 placeholders) and
 *   cached; at output time each cached packet is written into a slot (a null packet of the
 *   live stream) with `writeCachedPacket(dst, off, cached, counter)`, which stamps the
 *   PID's next CC. No allocation on that path.
 */
import { OnairError } from "../core/errors.js";
import { continuityCounter, hasPayload, setContinuityCounter, TS_MAX_PAYLOAD, TS_PACKET_SIZE, writePacketHeader } from "./packet.js";
import { TABLE_ID_STUFFING } from "./ids.js";
import { SECTION_HEADER_SIZE, sectionSize } from "./section.js";

/** Continuity counter owner for one PID: +1 mod 16 per packet with payload. */
export class ContinuityCounter {
  private last: number;

  /** `last` is the CC of the previous packet; the default makes the first packet CC 0. */
  constructor(last = 15) {
    this.last = last & 0x0f;
  }

  /** CC of the most recent packet with payload. */
  get current(): number {
    return this.last;
  }

  /** Advances and returns the CC for the next packet with payload. */
  next(): number {
    this.last = (this.last + 1) & 0x0f;
    return this.last;
  }

  /** Continue after an observed CC (e.g. when taking over a PID from upstream). */
  set(lastCc: number): void {
    this.last = lastCc & 0x0f;
  }

  /**
   * Stamps the packet at buf[off]: next CC when it carries payload, the current CC when it
   * is adaptation-field only. Returns the CC written.
   */
  stamp(buf: Uint8Array, off: number): number {
    const cc = hasPayload(buf, off) ? this.next() : this.last;
    setContinuityCounter(buf, off, cc);
    return cc;
  }
}

export interface PacketizeOptions {
  /** Each section starts in a new packet at payload start (SCTE-35). Default false. */
  newPacketPerSection?: boolean;
}

function checkSections(sections: readonly Uint8Array[]): void {
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i];
    if (s.length < SECTION_HEADER_SIZE || sectionSize(s, 0) !== s.length || s[0] === TABLE_ID_STUFFING) {
      throw new OnairError("ONAIR_TS_BAD_SECTION", "cannot packetize: not one whole section", {
        index: i,
        length: s.length,
      });
    }
  }
}

/** Number of packets `packetizeSections` produces. */
export function countPackets(sections: readonly Uint8Array[], opts: PacketizeOptions = {}): number {
  return layout(sections, opts, null, 0);
}

/**
 * Packetizes sections on `pid` with CC 0 in every packet (to be stamped when written).
 * Throws ONAIR_TS_BAD_SECTION when an entry is not exactly one section.
 */
export function packetizeSections(sections: Uint8Array | readonly Uint8Array[], pid: number, opts: PacketizeOptions = {}): Uint8Array[] {
  const list: readonly Uint8Array[] = sections instanceof Uint8Array ? [sections] : sections;
  checkSections(list);
  const out: Uint8Array[] = [];
  layout(list, opts, out, pid);
  return out;
}

/** Packetizes and stamps CCs from `counter` (a fresh counter starting at 0 when omitted). */
export function packetize(
  sections: Uint8Array | readonly Uint8Array[],
  pid: number,
  opts: PacketizeOptions & { counter?: ContinuityCounter } = {},
): Uint8Array[] {
  const pkts = packetizeSections(sections, pid, opts);
  const counter = opts.counter ?? new ContinuityCounter();
  for (const p of pkts) counter.stamp(p, 0);
  return pkts;
}

/**
 * Copies a cached 188-byte packet into dst[off] and stamps the PID's next CC. Returns the CC.
 */
export function writeCachedPacket(dst: Uint8Array, off: number, cached: Uint8Array, counter: ContinuityCounter): number {
  if (cached.length === TS_PACKET_SIZE) {
    dst.set(cached, off);
  } else {
    for (let i = 0; i < TS_PACKET_SIZE; i++) dst[off + i] = cached[i];
  }
  return counter.stamp(dst, off);
}

/** CC of a cached packet (0 until stamped). */
export function cachedPacketCc(cached: Uint8Array): number {
  return continuityCounter(cached, 0);
}

/**
 * Lays sections out in packets; counts them, and builds them when `out` is given.
 */
function layout(sections: readonly Uint8Array[], opts: PacketizeOptions, out: Uint8Array[] | null, pid: number): number {
  const perSection = opts.newPacketPerSection ?? false;
  const n = sections.length;
  let idx = 0;
  let pos = 0; // bytes of sections[idx] already written
  let count = 0;
  while (idx < n) {
    const remaining = sections[idx].length - pos;
    // A section starts in this packet when the current one starts here, or (packing) when its
    // tail leaves room after the pointer_field for at least one byte of the next section.
    const startsHere = pos === 0 || (!perSection && idx + 1 < n && remaining < TS_MAX_PAYLOAD - 1);
    const pkt = out ? new Uint8Array(TS_PACKET_SIZE).fill(0xff) : null;
    let p = 4;
    if (pkt) writePacketHeader(pkt, 0, pid, startsHere, 0);
    if (startsHere) {
      if (pkt) pkt[p] = pos === 0 ? 0 : remaining;
      p++;
    }
    while (p < TS_PACKET_SIZE && idx < n) {
      const sec = sections[idx];
      const take = Math.min(sec.length - pos, TS_PACKET_SIZE - p);
      if (pkt) pkt.set(sec.subarray(pos, pos + take), p);
      p += take;
      pos += take;
      if (pos < sec.length) break;
      idx++;
      pos = 0;
      if (perSection || !startsHere) break;
    }
    if (out && pkt) out.push(pkt);
    count++;
  }
  return count;
}
