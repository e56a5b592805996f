import { PTS_CLOCK_HZ, PTS_MODULUS, ptsAdd, ptsDiff } from "../ts/timestamps.js";

/**
 * Learns a channel's key-frame grid from the IDR PTS values it observes, and predicts
 * the first IDR at or after a given PTS. The live stage cannot look ahead, so a splice
 * point is a prediction from period and phase.
 *
 * - Frame duration F: the smallest positive step between successive decode timestamps.
 * - Period G: when the recent IDR spacings are all equal (a grid that is a whole number of
 *   frames, which is what onair's pipelines produce), exactly that; otherwise their mean,
 *   and predictions are snapped to the frame lattice (last IDR + n·F).
 * - A spacing that is not a positive multiple of F within half a frame, or a timestamp jump
 *   reported by the PTS clock, restarts learning (the period is kept as a hint).
 */
export class KeyframeGrid {
  private readonly idrs: number[] = [];
  private lastDts = -1;
  private frameTicks = 0;
  private periodHint = 0;
  /** IDRs that arrived where the grid did not predict them (after learning). */
  mispredictions = 0;
  /** Times the grid was relearned after a jump or an irregular spacing. */
  relearns = 0;

  constructor(private readonly maxHistory = 16) {}

  /** Decode timestamp of every access unit (DTS, or PTS when there is no DTS). */
  observeFrame(dts: number): void {
    if (this.lastDts >= 0) {
      const d = ptsDiff(dts, this.lastDts);
      if (d > 0 && d < PTS_CLOCK_HZ && (this.frameTicks === 0 || d < this.frameTicks)) this.frameTicks = d;
    }
    this.lastDts = dts;
  }

  /** PTS of an access unit found to be an IDR. */
  observeIdr(pts: number): void {
    const n = this.idrs.length;
    if (n > 0) {
      const last = this.idrs[n - 1];
      const step = ptsDiff(pts, last);
      if (step <= 0) {
        this.restart(pts);
        return;
      }
      if (n >= 2 && this.ready) {
        const predicted = this.predictAtOrAfter(ptsAdd(last, 1));
        if (predicted !== pts) {
          const off = Math.abs(ptsDiff(pts, predicted));
          this.mispredictions++;
          // far off the grid: the encoder restarted or changed its GOP; learn again
          if (off > this.period / 2) {
            this.restart(pts);
            return;
          }
        }
      }
    }
    this.idrs.push(pts);
    if (this.idrs.length > this.maxHistory) this.idrs.shift();
  }

  /** Forget the phase (a timestamp jump); keep the period as a hint. */
  reset(): void {
    if (this.idrs.length >= 2) this.periodHint = this.period;
    this.idrs.length = 0;
    this.lastDts = -1;
    this.relearns++;
  }

  private restart(pts: number): void {
    this.reset();
    this.idrs.push(pts);
  }

  /** True when period and phase are known (two IDRs seen, or one plus a period hint). */
  get ready(): boolean {
    return this.idrs.length >= 2 || (this.idrs.length === 1 && this.periodHint > 0);
  }

  get frameDuration(): number {
    return this.frameTicks;
  }

  get lastIdr(): number {
    return this.idrs.length ? this.idrs[this.idrs.length - 1] : -1;
  }

  /** Grid period in 90 kHz ticks (0 when unknown). */
  get period(): number {
    const n = this.idrs.length;
    if (n < 2) return this.periodHint;
    const first = ptsDiff(this.idrs[1], this.idrs[0]);
    let regular = true;
    for (let i = 2; i < n; i++) {
      if (ptsDiff(this.idrs[i], this.idrs[i - 1]) !== first) {
        regular = false;
        break;
      }
    }
    if (regular) return first;
    return ptsDiff(this.idrs[n - 1], this.idrs[0]) / (n - 1);
  }

  /** True when the period is a whole number of frames and every spacing was equal. */
  get exact(): boolean {
    const g = this.period;
    return Number.isInteger(g) && (this.frameTicks === 0 || g % this.frameTicks === 0);
  }

  /**
   * The first IDR PTS at or after `pts`, predicted from the grid; -1 when not ready.
   * For a past instant, the first remembered IDR at or after it.
   */
  predictAtOrAfter(pts: number): number {
    if (!this.ready) return -1;
    const last = this.lastIdr;
    const d = ptsDiff(pts, last);
    if (d <= 0) {
      for (const idr of this.idrs) if (ptsDiff(idr, pts) >= 0) return idr;
      return last;
    }
    const g = this.period;
    let k = Math.ceil(d / g);
    if (Number.isInteger(g)) return ptsAdd(last, k * g);
    const f = this.frameTicks > 0 ? this.frameTicks : 1;
    for (;;) {
      const off = Math.round((k * g) / f) * f;
      if (off >= d) return ptsAdd(last, off);
      k++;
    }
  }

  /** The n-th predicted IDR after the one at `idrPts` (n ≥ 1). */
  nextAfter(idrPts: number, n = 1): number {
    let p = idrPts;
    for (let i = 0; i < n; i++) p = this.predictAtOrAfter((p + 1) % PTS_MODULUS);
    return p;
  }
}
