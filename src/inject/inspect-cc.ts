/**
 * Per-PID continuity_counter check for `onair inspect` (domain §1.3), on packets with
 * payload only (the caller skips null, TEI and adaptation-field-only packets). One
 * duplicate (same CC, identical bytes apart from the PCR) is allowed; a third copy or a
 * same-CC packet with other content is an error; discontinuity_indicator allows any jump.
 */
import { continuityCounter, discontinuityIndicator, hasPcr, TS_PACKET_SIZE } from "../ts/packet.js";

export class ContinuityCheck {
  private readonly lastCc = new Int8Array(8192).fill(-1);
  private readonly dupSeen = new Uint8Array(8192);
  /** Previous packet with payload per PID, for the duplicate rule. */
  private readonly lastPacket = new Map<number, Uint8Array>();
  /** The PID's continuity_counter before the packet last checked (-1: none yet). */
  previous = -1;

  /** Checks the packet at buf[o] of PID `p`; returns what is wrong with its CC, or undefined. */
  check(buf: Uint8Array, o: number, p: number): string | undefined {
    const cc = continuityCounter(buf, o);
    const last = this.lastCc[p];
    this.previous = last;
    let problem: string | undefined;
    if (last >= 0 && !discontinuityIndicator(buf, o)) {
      if (cc === last) {
        if (this.dupSeen[p] !== 0) problem = `continuity counter ${cc} repeated a third time`;
        else if (!this.sameAsLast(buf, o, p)) problem = `continuity counter ${cc} repeated with different content`;
        else {
          this.dupSeen[p] = 1;
          return undefined;
        }
      } else if (cc !== ((last + 1) & 0x0f)) {
        problem = `continuity counter jumped from ${last} to ${cc} (expected ${(last + 1) & 0x0f})`;
      }
    }
    this.dupSeen[p] = 0;
    this.lastCc[p] = cc;
    this.keepPacket(buf, o, p);
    return problem;
  }

  private keepPacket(buf: Uint8Array, o: number, p: number): void {
    let kept = this.lastPacket.get(p);
    if (!kept) {
      kept = new Uint8Array(TS_PACKET_SIZE);
      this.lastPacket.set(p, kept);
    }
    for (let k = 0; k < TS_PACKET_SIZE; k++) kept[k] = buf[o + k];
  }

  /** Identical to the previous packet of the PID, apart from the PCR field. */
  private sameAsLast(buf: Uint8Array, o: number, p: number): boolean {
    const kept = this.lastPacket.get(p);
    if (!kept) return false;
    const pcr = hasPcr(buf, o);
    for (let k = 0; k < TS_PACKET_SIZE; k++) {
      if (pcr && k >= 6 && k < 12) continue;
      if (kept[k] !== buf[o + k]) return false;
    }
    return true;
  }
}
