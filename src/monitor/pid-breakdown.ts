/**
 * The per-PID breakdown of TsMonitor's CC, PID, PTS and PCR errors: a bounded set of
 * labelled PIDs (at most `maxLabelled`, in labelling order), everything else summed under
 * "other". A PID keeps its label once given, so every labelled series only grows.
 */
import { CAT_PID, NIT_PID, PAT_PID, TDT_PID } from "../ts/packet.js";
import { TR101290_PID_INDICATORS, type Tr101290PidRow } from "./indicators.js";

const PIDS = 8192;
// per-PID kinds (index into TR101290_PID_INDICATORS)
export const K_CC = 0;
export const K_PID = 1;
export const K_PTS = 2;
export const K_PCR_REP = 3;
export const K_PCR_DISC = 4;
const KINDS = TR101290_PID_INDICATORS.length;

/** PAT, CAT and the DVB SI PIDs NIT…TDT. */
export function isFixedPsiPid(p: number): boolean {
  return p === PAT_PID || p === CAT_PID || (p >= NIT_PID && p <= TDT_PID);
}

export class PidBreakdown {
  private readonly labelled = new Uint8Array(PIDS);
  private readonly labelledList: number[] = [];
  private readonly perPidCounts = new Float64Array(PIDS * KINDS);
  private readonly otherCounts = new Float64Array(KINDS);

  constructor(private readonly maxLabelled: number) {}

  /** Gives `p` its own row while there is room. */
  label(p: number): void {
    if (this.labelled[p] === 0 && this.labelledList.length < this.maxLabelled) {
      this.labelled[p] = 1;
      this.labelledList.push(p);
    }
  }

  /** Counts one error of kind `k` on PID `p` (fixed PSI/SI PIDs get a label when they err). */
  count(k: number, p: number): void {
    if (this.labelled[p] === 0 && isFixedPsiPid(p)) this.label(p);
    if (this.labelled[p] !== 0) this.perPidCounts[p * KINDS + k]++;
    else this.otherCounts[k]++;
  }

  /** Labelled PIDs in labelling order, then "other". */
  rows(): Tr101290PidRow[] {
    const rows: Tr101290PidRow[] = [];
    for (const p of this.labelledList) rows.push(row(p, this.perPidCounts, p * KINDS));
    rows.push(row("other", this.otherCounts, 0));
    return rows;
  }
}

function row(pid: number | "other", a: Float64Array, at: number): Tr101290PidRow {
  return {
    pid,
    continuityCountError: a[at + K_CC],
    pidError: a[at + K_PID],
    ptsError: a[at + K_PTS],
    pcrRepetitionError: a[at + K_PCR_REP],
    pcrDiscontinuityIndicatorError: a[at + K_PCR_DISC],
  };
}
