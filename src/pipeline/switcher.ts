import {
  NULL_PID,
  PAT_PID,
  TS_PACKET_SIZE,
  TsReader,
  adaptationFieldControl,
  hasPcr,
  pusi,
  setContinuityCounter,
  setDiscontinuityIndicator,
  continuityCounter,
  type TsReaderStats,
} from "../ts/index.js";

export type SwitcherSource = "live" | "slate";

export interface SwitcherEvents {
  /** the output switched to a source; `gapMs` = time since the previous source's last packet */
  onSwitch?(to: SwitcherSource, info: { gapMs: number; reason: string }): void;
}

export interface SwitcherOptions extends SwitcherEvents {
  /**
   * Aligned packets for the next stage (the injector). `owned`: `buf` is a chunk pushed to
   * the switcher, which nothing else writes later (the stage may keep and edit it in place);
   * otherwise it is the reader's scratch buffer, and the stage copies what it keeps.
   */
  onPackets(buf: Uint8Array, start: number, count: number, owned: boolean): void;
  /** Live silent this long → slate (default 300 ms). */
  liveTimeoutMs?: number;
  /**
   * An overlapped replacement is under way: the old FFmpeg airs on while the new one starts
   * beside it, to take over at its first byte.
   */
  overlapping?: () => boolean;
  /**
   * The live timeout while `overlapping()` (default 600 ms). A starting FFmpeg can starve the
   * running one of CPU for a few hundred ms on a loaded box; its successor is on its way, and
   * a slate flash at a planned handover (two time-base breaks) is worse than a short hold.
   * With the 100 ms tick the output's longest gap stays under 1 s.
   */
  overlapTimeoutMs?: number;
  /** monotonic ms */
  now?: () => number;
}

/**
 * Chooses between the live TS and a hot-standby slate TS, packet by packet, so the output
 * never stops while FFmpeg restarts or the input is gone.
 *
 * - Live silent for `liveTimeoutMs` (checked by `tick()`, and on every slate chunk) → slate;
 *   `overlapTimeoutMs` while an overlapped replacement is under way.
 * - Live back → switch at its first PAT packet (FFmpeg sends PAT/PMT first and before key
 *   frames), so the new segment starts with PSI.
 * - Continuity counters: at each switch every PID's counter is re-based so the output
 *   sequence stays continuous (the switcher owns CC across sources, keeping any damage
 *   inside one source visible); the first PCR packet after a switch gets
 *   discontinuity_indicator, since the time base changes.
 */
export class Switcher {
  private readonly liveReader: TsReader;
  private readonly slateReader: TsReader;
  private readonly liveTimeoutMs: number;
  private readonly overlapTimeoutMs: number;
  private readonly now: () => number;
  /** last CC written per PID, -1 = none */
  private readonly lastOutCc = new Int8Array(8192).fill(-1);
  /** CC offset per PID for the current segment, and whether it is still to be learnt */
  private readonly ccOffset = new Uint8Array(8192);
  private readonly ccPending = new Uint8Array(8192);
  private pendingDiscontinuity = false;
  private current: SwitcherSource = "slate";
  private lastLiveAt = Number.NEGATIVE_INFINITY;
  private lastOutAt = Number.NEGATIVE_INFINITY;
  private waitingForLivePat = false;
  /** Live is on air and goes on from a new FFmpeg: its packets count from its first PAT. */
  private liveNeedsPat = false;
  /** Live segments started without a switch (overlapped replacements). */
  handovers = 0;
  /** The chunk being pushed, while it is. */
  private pushing: Uint8Array | undefined;
  switches = 0;
  slatePackets = 0;
  livePackets = 0;

  constructor(private readonly opts: SwitcherOptions) {
    this.liveTimeoutMs = opts.liveTimeoutMs ?? 300;
    this.overlapTimeoutMs = Math.max(this.liveTimeoutMs, opts.overlapTimeoutMs ?? 600);
    this.now = opts.now ?? (() => performance.now());
    this.liveReader = new TsReader({ onPackets: (b, s, c) => this.onLive(b, s, c) });
    this.slateReader = new TsReader({ onPackets: (b, s, c) => this.onSlate(b, s, c) });
    this.ccPending.fill(1);
  }

  get source(): SwitcherSource {
    return this.current;
  }

  get liveStats(): TsReaderStats {
    return this.liveReader.stats;
  }

  /** `chunk` is the switcher's from now on (FFmpeg's stdout chunks are fresh buffers). */
  pushLive(chunk: Uint8Array): void {
    this.lastLiveAt = this.now();
    if (this.current === "slate" && !this.waitingForLivePat) this.waitingForLivePat = true;
    this.pushing = chunk;
    this.liveReader.push(chunk);
    this.pushing = undefined;
  }

  /** As `pushLive`. */
  pushSlate(chunk: Uint8Array): void {
    this.tick();
    this.pushing = chunk;
    this.slateReader.push(chunk);
    this.pushing = undefined;
  }

  /**
   * The live FFmpeg ended (exited or replaced; all its output has been pushed): forgets a
   * partial packet and, when live is on air, switches to the slate now rather than after
   * `liveTimeoutMs` of silence. A new FFmpeg can be back within that timeout; its stream
   * must still start a new segment (at its PAT, counters re-based, PCR discontinuity), or
   * its restarted continuity counters and time base would go out unmarked.
   */
  resetLive(reason = "live ended"): void {
    this.liveReader.end();
    if (this.current === "live") this.switchTo("slate", reason);
    else this.waitingForLivePat = true;
  }

  /**
   * Live goes on from a new FFmpeg that took over from the old one without a gap (an
   * overlapped replacement; call before its first chunk): the old run's partial packet is
   * dropped, and live starts a new segment at the new run's first PAT (counters re-based,
   * PCR discontinuity), without going through the slate.
   */
  newLiveSegment(): void {
    this.liveReader.end();
    if (this.current === "live") this.liveNeedsPat = true;
    else this.waitingForLivePat = true;
  }

  /** Checks the live timeout; call it periodically (the slate's chunks call it too). */
  tick(): void {
    if (this.current !== "live") return;
    const silentMs = this.now() - this.lastLiveAt;
    if (silentMs <= this.liveTimeoutMs) return;
    if (silentMs <= this.overlapTimeoutMs && this.opts.overlapping?.() === true) return;
    this.switchTo("slate", "live silent");
  }

  private switchTo(to: SwitcherSource, reason: string): void {
    const t = this.now();
    const gapMs = this.lastOutAt === Number.NEGATIVE_INFINITY ? 0 : t - this.lastOutAt;
    this.current = to;
    this.switches++;
    this.newSegment();
    this.waitingForLivePat = to === "slate";
    this.liveNeedsPat = false;
    this.opts.onSwitch?.(to, { gapMs, reason });
  }

  /** The output's next packets come from another stream: counters re-based, PCR discontinuity. */
  private newSegment(): void {
    this.ccPending.fill(1);
    this.pendingDiscontinuity = true;
  }

  private onLive(buf: Uint8Array, start: number, count: number): void {
    if (this.current !== "live" || this.liveNeedsPat) {
      if (this.current !== "live" && !this.waitingForLivePat) return;
      // a new segment starts at the first PAT of the live stream; drop what comes before it
      let i = 0;
      for (; i < count; i++) {
        const off = start + i * TS_PACKET_SIZE;
        if ((((buf[off + 1] & 0x1f) << 8) | buf[off + 2]) === PAT_PID && pusi(buf, off)) break;
      }
      if (i === count) return;
      if (this.current === "live") {
        this.liveNeedsPat = false;
        this.handovers++;
        this.newSegment();
      } else this.switchTo("live", "live back");
      start += i * TS_PACKET_SIZE;
      count -= i;
    }
    this.livePackets += count;
    this.forward(buf, start, count);
  }

  private onSlate(buf: Uint8Array, start: number, count: number): void {
    if (this.current !== "slate") return;
    this.slatePackets += count;
    this.forward(buf, start, count);
  }

  private forward(buf: Uint8Array, start: number, count: number): void {
    const lastOut = this.lastOutCc;
    for (let i = 0, off = start; i < count; i++, off += TS_PACKET_SIZE) {
      const pid = ((buf[off + 1] & 0x1f) << 8) | buf[off + 2];
      if (pid === NULL_PID) continue;
      const cc = continuityCounter(buf, off);
      const payload = (adaptationFieldControl(buf, off) & 1) === 1;
      if (this.ccPending[pid] === 1) {
        this.ccPending[pid] = 0;
        const prev = lastOut[pid];
        const want = prev < 0 ? cc : payload ? (prev + 1) & 15 : prev;
        this.ccOffset[pid] = (want - cc) & 15;
      }
      const out = (cc + this.ccOffset[pid]) & 15;
      if (out !== cc) setContinuityCounter(buf, off, out);
      lastOut[pid] = out;
      if (this.pendingDiscontinuity && hasPcr(buf, off)) {
        setDiscontinuityIndicator(buf, off, true);
        this.pendingDiscontinuity = false;
      }
    }
    this.lastOutAt = this.now();
    this.opts.onPackets(buf, start, count, buf === this.pushing);
  }
}
