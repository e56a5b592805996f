import { PTS_CLOCK_HZ, PTS_TICKS_PER_MS, ptsAdd, ptsDiff } from "../ts/timestamps.js";

/**
 * Stream time for the injector. PCR and PTS run on the same 90 kHz system time clock,
 * so the PCR (interpolated to the packet) is "now" for a receiver: a cue's lead time is
 * splice PTS − PCR at the packet that carries it.
 *
 * - `onPcr(pcr27, packetIndex)` on every PCR; `now(packetIndex)` interpolates between PCRs
 *   with the packet rate learned from the last PCR interval (CBR streams make this exact).
 * - Wall time: anchored at the first PCR (to a given start time offline, to the real clock
 *   live), the anchor following the PCR hourly; `wallAt`/`ptsForWall` map both ways within
 *   13 h of the present and survive the 33-bit wrap.
 * - A PCR that steps backwards or forwards by more than `jumpTicks` (an FFmpeg restart) re-
 *   anchors: wall time continues from where it was, the jump is counted and reported.
 */
export interface StreamClockEvents {
  onJump?(info: { fromPcr: number; toPcr: number; deltaTicks: number; packetIndex: number }): void;
}

/** The wall-time anchor follows the PCR in steps of this many 90 kHz ticks (1 h). */
const ANCHOR_ADVANCE_TICKS = 3600 * PTS_CLOCK_HZ;

export class StreamClock {
  private anchorPcr = -1;
  private anchorWall = 0;
  private lastBase = -1;
  private lastPacket = 0;
  /** 90 kHz ticks per packet, from the last PCR interval */
  private ticksPerPacket = 0;
  jumps = 0;

  constructor(
    /** wall time (ms) of the first PCR, or a function asked at the first PCR */
    private readonly startWall: number | (() => number),
    private readonly events: StreamClockEvents = {},
    private readonly jumpTicks = PTS_CLOCK_HZ,
  ) {}

  get ready(): boolean {
    return this.lastBase >= 0;
  }

  /**
   * Feeds a PCR (27 MHz) seen in packet number `packetIndex` (counted over the stream).
   * `discontinuity`: the packet's discontinuity_indicator announces a new time base, which
   * re-anchors however small the step.
   */
  onPcr(pcr27: number, packetIndex: number, discontinuity = false): void {
    const base = Math.floor(pcr27 / 300);
    if (this.lastBase < 0) {
      this.anchorPcr = base;
      this.anchorWall = typeof this.startWall === "function" ? this.startWall() : this.startWall;
    } else {
      const d = ptsDiff(base, this.lastBase);
      const packets = packetIndex - this.lastPacket;
      if (d < 0 || d > this.jumpTicks || discontinuity) {
        const wallNow = this.wallAt(this.now(packetIndex));
        this.jumps++;
        this.events.onJump?.({ fromPcr: this.lastBase, toPcr: base, deltaTicks: d, packetIndex });
        this.anchorPcr = base;
        this.anchorWall = wallNow;
      } else {
        if (packets > 0 && d > 0) this.ticksPerPacket = d / packets;
        this.advanceAnchor(base);
      }
    }
    this.lastBase = base;
    this.lastPacket = packetIndex;
  }

  /**
   * Moves the anchor up to `base` once it is an hour behind: `wallAt` measures from the
   * anchor with a signed 33-bit difference, which names an instant only within half a wrap
   * (13 h 15 min) of it, so a channel on one time base for longer would read wall time a wrap
   * (26 h 30 min) off.
   */
  private advanceAnchor(base: number): void {
    const d = ptsDiff(base, this.anchorPcr);
    if (d < ANCHOR_ADVANCE_TICKS) return;
    this.anchorWall += d / PTS_TICKS_PER_MS;
    this.anchorPcr = base;
  }

  /** PCR base (90 kHz) at packet `packetIndex`, interpolated from the last PCR; -1 before any. */
  now(packetIndex: number): number {
    if (this.lastBase < 0) return -1;
    const extra = (packetIndex - this.lastPacket) * this.ticksPerPacket;
    // never extrapolate past a missing PCR by more than the jump threshold
    return ptsAdd(this.lastBase, Math.floor(Math.min(extra, this.jumpTicks)));
  }

  /** Wall time (ms since the epoch) of a 90 kHz stream instant. */
  wallAt(pts: number): number {
    return this.anchorWall + ptsDiff(pts, this.anchorPcr) / PTS_TICKS_PER_MS;
  }

  /** The 90 kHz stream instant of a wall time. */
  ptsForWall(wallMs: number): number {
    return ptsAdd(this.anchorPcr, Math.round((wallMs - this.anchorWall) * PTS_TICKS_PER_MS));
  }

  /** Packets per second at the current rate (0 until two PCRs were seen). */
  get packetRate(): number {
    return this.ticksPerPacket > 0 ? PTS_CLOCK_HZ / this.ticksPerPacket : 0;
  }
}
