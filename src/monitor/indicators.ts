/**
 * The TR 101 290 indicators TsMonitor counts (ETSI TR 101 290 §5.2.1 priority 1 and
 * §5.2.2 priority 2), their numbers and names, the per-PID subset, and the monitor's options.
 */

/** Cumulative TR 101 290 counters (never decrease). */
export interface Tr101290Counters {
  /** 1.1 TS_sync_loss */
  tsSyncLoss: number;
  /** 1.2 Sync_byte_error */
  syncByteError: number;
  /** 1.3 PAT_error */
  patError: number;
  /** 1.4 Continuity_count_error */
  continuityCountError: number;
  /** 1.5 PMT_error */
  pmtError: number;
  /** 1.6 PID_error */
  pidError: number;
  /** 2.1 Transport_error */
  transportError: number;
  /** 2.2 CRC_error */
  crcError: number;
  /** 2.3a PCR_repetition_error */
  pcrRepetitionError: number;
  /** 2.3b PCR_discontinuity_indicator_error */
  pcrDiscontinuityIndicatorError: number;
  /** 2.5 PTS_error */
  ptsError: number;
}

export type Tr101290Indicator = keyof Tr101290Counters;

/** The indicators with their TR 101 290 number and name (for metric help texts and labels). */
export const TR101290_INDICATORS: readonly { key: Tr101290Indicator; priority: 1 | 2; number: string; name: string }[] = [
  { key: "tsSyncLoss", priority: 1, number: "1.1", name: "TS_sync_loss" },
  { key: "syncByteError", priority: 1, number: "1.2", name: "Sync_byte_error" },
  { key: "patError", priority: 1, number: "1.3", name: "PAT_error" },
  { key: "continuityCountError", priority: 1, number: "1.4", name: "Continuity_count_error" },
  { key: "pmtError", priority: 1, number: "1.5", name: "PMT_error" },
  { key: "pidError", priority: 1, number: "1.6", name: "PID_error" },
  { key: "transportError", priority: 2, number: "2.1", name: "Transport_error" },
  { key: "crcError", priority: 2, number: "2.2", name: "CRC_error" },
  { key: "pcrRepetitionError", priority: 2, number: "2.3a", name: "PCR_repetition_error" },
  { key: "pcrDiscontinuityIndicatorError", priority: 2, number: "2.3b", name: "PCR_discontinuity_indicator_error" },
  { key: "ptsError", priority: 2, number: "2.5", name: "PTS_error" },
];

export function createTr101290Counters(): Tr101290Counters {
  return {
    tsSyncLoss: 0,
    syncByteError: 0,
    patError: 0,
    continuityCountError: 0,
    pmtError: 0,
    pidError: 0,
    transportError: 0,
    crcError: 0,
    pcrRepetitionError: 0,
    pcrDiscontinuityIndicatorError: 0,
    ptsError: 0,
  };
}

/** The indicators broken down per PID. */
export const TR101290_PID_INDICATORS = [
  "continuityCountError",
  "pidError",
  "ptsError",
  "pcrRepetitionError",
  "pcrDiscontinuityIndicatorError",
] as const satisfies readonly Tr101290Indicator[];

export type Tr101290PidIndicator = (typeof TR101290_PID_INDICATORS)[number];

export type Tr101290PidRow = { pid: number | "other" } & Record<Tr101290PidIndicator, number>;

export interface TsMonitorOptions {
  /** "stream" (default): PCR-derived packet clock; "wall": `nowMs` passed in. */
  clock?: "stream" | "wall";
  /** PAT_error limit (default 500 ms). */
  patIntervalMs?: number;
  /** PMT_error limit per PMT PID (default 500 ms). */
  pmtIntervalMs?: number;
  /** PID_error limit (default 5000 ms). */
  pidTimeoutMs?: number;
  /** PCR_repetition_error limit (default 40 ms, DVB; ISO allows 100 ms). */
  pcrIntervalMs?: number;
  /** PCR_discontinuity_indicator_error: largest legal step (default 100 ms). */
  pcrMaxStepMs?: number;
  /** PTS_error limit (default 700 ms). */
  ptsIntervalMs?: number;
  /** Elementary stream types not checked for PID_error (default [0x86], SCTE-35). */
  pidErrorExemptStreamTypes?: readonly number[];
  /** Most PIDs with their own per-PID row (default 64). */
  maxLabelledPids?: number;
  /** Sync bytes in a row to lock, for the reader owned by `push` (default 5). */
  lockCount?: number;
}
