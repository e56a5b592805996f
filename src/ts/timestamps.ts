/**
 * PES timestamps (PTS/DTS, 33 bits at 90 kHz) and PCR (27 MHz = base × 300 + ext).
 * JavaScript bitwise operators are 32-bit, so everything wider uses `*`, `/`, `%`.
 * All 33-bit results are in [0, 2^33); differences are taken modulo 2^33 (domain §1.7).
 */

/** The 90 kHz system clock of PTS, DTS, the PCR base and every SCTE-35 time: the one constant for it. */
export const PTS_CLOCK_HZ = 90_000;
/** 90 kHz ticks per millisecond. */
export const PTS_TICKS_PER_MS = PTS_CLOCK_HZ / 1000;
export const PCR_CLOCK_HZ = 27000000;
/** 2^33: PTS, DTS and PCR base wrap here (≈ 26 h 30 min 44 s). */
export const PTS_MODULUS = 8589934592;
const PTS_HALF = 4294967296;
/** PCR in 27 MHz units wraps at 2^33 × 300. */
export const PCR27_MODULUS = PTS_MODULUS * 300;

/** 4-bit prefixes of the 5-byte timestamp field. */
export const PTS_PREFIX_PTS_ONLY = 0x2;
export const PTS_PREFIX_PTS_WITH_DTS = 0x3;
export const PTS_PREFIX_DTS = 0x1;

/** Reduces any integer (negative too) into [0, 2^33). */
export function wrapPts(value: number): number {
  const r = value % PTS_MODULUS;
  return r < 0 ? r + PTS_MODULUS : r;
}

/** (a + b) mod 2^33. */
export function ptsAdd(a: number, b: number): number {
  return wrapPts(a + b);
}

/** (a − b) mod 2^33, in [0, 2^33). */
export function ptsSub(a: number, b: number): number {
  return wrapPts(a - b);
}

/**
 * Signed distance a − b across the wrap, in [−2^32, 2^32): positive when a is later.
 * Example: a = 10, b = 2^33 − 10 → +20.
 */
export function ptsDiff(a: number, b: number): number {
  const d = wrapPts(a - b);
  return d >= PTS_HALF ? d - PTS_MODULUS : d;
}

/** −1, 0 or 1 as a is earlier than, equal to, or later than b (modular). */
export function ptsCompare(a: number, b: number): number {
  const d = ptsDiff(a, b);
  return d > 0 ? 1 : d < 0 ? -1 : 0;
}

/** True when a is strictly later than b (modular). */
export function ptsIsAfter(a: number, b: number): boolean {
  return ptsDiff(a, b) > 0;
}

/**
 * Writes a 5-byte timestamp field at `at`:
 * `prefix(4) ts[32..30](3) 1 | ts[29..15](15) 1 | ts[14..0](15) 1`.
 * PTS 126000 with prefix 2 → `21 00 07 D8 61`.
 */
export function writeTimestamp(buf: Uint8Array, at: number, value: number, prefix: number): void {
  const v = wrapPts(value);
  const hi = Math.floor(v / 1073741824); // bits 32..30
  const mid = Math.floor(v / 32768) % 32768; // bits 29..15
  const lo = v % 32768; // bits 14..0
  buf[at] = ((prefix & 0x0f) << 4) | (hi << 1) | 1;
  buf[at + 1] = mid >> 7;
  buf[at + 2] = ((mid & 0x7f) << 1) | 1;
  buf[at + 3] = lo >> 7;
  buf[at + 4] = ((lo & 0x7f) << 1) | 1;
}

/** Reads a 5-byte timestamp field at `at` (marker bits and prefix are not checked). */
export function readTimestamp(buf: Uint8Array, at: number): number {
  return ((buf[at] >> 1) & 0x07) * 1073741824 + buf[at + 1] * 4194304 + (buf[at + 2] >> 1) * 32768 + buf[at + 3] * 128 + (buf[at + 4] >> 1);
}

/** Writes a PTS field; `withDts` selects prefix 0011 (PTS followed by DTS) over 0010. */
export function writePts(buf: Uint8Array, at: number, pts: number, withDts = false): void {
  writeTimestamp(buf, at, pts, withDts ? PTS_PREFIX_PTS_WITH_DTS : PTS_PREFIX_PTS_ONLY);
}

/** Writes a DTS field (prefix 0001). */
export function writeDts(buf: Uint8Array, at: number, dts: number): void {
  writeTimestamp(buf, at, dts, PTS_PREFIX_DTS);
}

/** 27 MHz PCR from base (90 kHz, 33 bits) and extension (0..299). */
export function pcrFromBaseExt(base: number, ext: number): number {
  return wrapPts(base) * 300 + ext;
}

/** PCR base (90 kHz, mod 2^33) of a 27 MHz value. */
export function pcrBase(pcr27: number): number {
  return wrapPts(Math.floor(pcr27 / 300));
}

/** PCR extension (0..299) of a 27 MHz value. */
export function pcrExt(pcr27: number): number {
  const r = pcr27 % 300;
  return r < 0 ? r + 300 : r;
}

/** Signed PCR distance a − b in 27 MHz ticks across the 2^33 × 300 wrap. */
export function pcrDiff(a: number, b: number): number {
  let d = (a - b) % PCR27_MODULUS;
  if (d < 0) d += PCR27_MODULUS;
  return d >= PCR27_MODULUS / 2 ? d - PCR27_MODULUS : d;
}

/** Converts 90 kHz ticks to seconds. */
export function ptsToSeconds(ticks: number): number {
  return ticks / PTS_CLOCK_HZ;
}

/** Converts seconds to whole 90 kHz ticks (rounded), not wrapped. */
export function secondsToPts(seconds: number): number {
  return Math.round(seconds * PTS_CLOCK_HZ);
}
