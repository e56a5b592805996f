/**
 * MPEG-TS packet header and adaptation field accessors (ISO/IEC 13818-1 §2.4.3.2–2.4.3.5).
 *
 * Every function works on `(buf, off)`: `buf[off]` is the sync byte of a 188-byte packet.
 * Nothing here allocates; values wider than 32 bits (PCR) use arithmetic, not bitwise ops.
 * The functions trust that `off + 188 <= buf.length` (the reader only hands out whole packets).
 */
import { NULL_PID } from "./ids.js";
import { PCR27_MODULUS } from "./timestamps.js";

/** The fixed PIDs, defined in ids.ts, offered here too where packets are taken apart. */
export { CAT_PID, EIT_PID, MAX_PID, NIT_PID, NULL_PID, PAT_PID, RST_PID, SDT_PID, TDT_PID } from "./ids.js";

export const TS_PACKET_SIZE = 188;
export const TS_HEADER_SIZE = 4;
/** Payload bytes in a packet without adaptation field. */
export const TS_MAX_PAYLOAD = 184;
export const SYNC_BYTE = 0x47;

/** adaptation_field_control values. */
export const AFC_RESERVED = 0b00;
export const AFC_PAYLOAD_ONLY = 0b01;
export const AFC_ADAPTATION_ONLY = 0b10;
export const AFC_ADAPTATION_AND_PAYLOAD = 0b11;

/** PCR (27 MHz) wraps at 2^33 × 300 (timestamps.ts's PCR27_MODULUS, named where packets are read). */
export const PCR_MODULUS = PCR27_MODULUS;

export function pid(buf: Uint8Array, off: number): number {
  return ((buf[off + 1] & 0x1f) << 8) | buf[off + 2];
}

export function setPid(buf: Uint8Array, off: number, value: number): void {
  buf[off + 1] = (buf[off + 1] & 0xe0) | ((value >> 8) & 0x1f);
  buf[off + 2] = value & 0xff;
}

export function transportErrorIndicator(buf: Uint8Array, off: number): boolean {
  return (buf[off + 1] & 0x80) !== 0;
}

/** payload_unit_start_indicator. */
export function pusi(buf: Uint8Array, off: number): boolean {
  return (buf[off + 1] & 0x40) !== 0;
}

export function transportPriority(buf: Uint8Array, off: number): boolean {
  return (buf[off + 1] & 0x20) !== 0;
}

export function transportScramblingControl(buf: Uint8Array, off: number): number {
  return buf[off + 3] >> 6;
}

export function adaptationFieldControl(buf: Uint8Array, off: number): number {
  return (buf[off + 3] >> 4) & 0x03;
}

export function continuityCounter(buf: Uint8Array, off: number): number {
  return buf[off + 3] & 0x0f;
}

export function setContinuityCounter(buf: Uint8Array, off: number, cc: number): void {
  buf[off + 3] = (buf[off + 3] & 0xf0) | (cc & 0x0f);
}

/** True for AFC 01 and 11: the packet carries payload and advances the CC. */
export function hasPayload(buf: Uint8Array, off: number): boolean {
  return (buf[off + 3] & 0x10) !== 0;
}

/** True for AFC 10 and 11. */
export function hasAdaptationField(buf: Uint8Array, off: number): boolean {
  return (buf[off + 3] & 0x20) !== 0;
}

/** adaptation_field_length, or -1 when the packet has no adaptation field. */
export function adaptationFieldLength(buf: Uint8Array, off: number): number {
  return (buf[off + 3] & 0x20) !== 0 ? buf[off + 4] : -1;
}

/**
 * Absolute index in `buf` of the first payload byte, or -1 when the packet has no
 * payload (AFC 00/10), an empty payload, or an adaptation_field_length that does not fit.
 */
export function payloadOffset(buf: Uint8Array, off: number): number {
  const afc = (buf[off + 3] >> 4) & 0x03;
  if (afc === AFC_PAYLOAD_ONLY) return off + 4;
  if (afc !== AFC_ADAPTATION_AND_PAYLOAD) return -1;
  const start = off + 5 + buf[off + 4];
  return start < off + TS_PACKET_SIZE ? start : -1;
}

/** Adaptation field flags byte, or -1 when there is no AF or it has length 0 or is oversized. */
function afFlags(buf: Uint8Array, off: number): number {
  if ((buf[off + 3] & 0x20) === 0) return -1;
  const len = buf[off + 4];
  if (len === 0 || len > 183) return -1;
  return buf[off + 5];
}

export function discontinuityIndicator(buf: Uint8Array, off: number): boolean {
  const f = afFlags(buf, off);
  return f >= 0 && (f & 0x80) !== 0;
}

export function randomAccessIndicator(buf: Uint8Array, off: number): boolean {
  const f = afFlags(buf, off);
  return f >= 0 && (f & 0x40) !== 0;
}

/** True when the adaptation field carries a PCR (PCR_flag set and the AF is long enough). */
export function hasPcr(buf: Uint8Array, off: number): boolean {
  const f = afFlags(buf, off);
  return f >= 0 && (f & 0x10) !== 0 && buf[off + 4] >= 7;
}

/** Reads a 6-byte PCR field at `at` (absolute index) as a 27 MHz value. */
export function readPcrField(buf: Uint8Array, at: number): number {
  const base = buf[at] * 33554432 + buf[at + 1] * 131072 + buf[at + 2] * 512 + buf[at + 3] * 2 + (buf[at + 4] >> 7);
  const ext = ((buf[at + 4] & 0x01) << 8) | buf[at + 5];
  return base * 300 + ext;
}

/**
 * Writes a 27 MHz value as a 6-byte PCR field at `at`: base 33 (90 kHz, mod 2^33),
 * reserved `111111`, extension 9. Example: 63000 × 300 → `00 00 7B 0C 7E 00`.
 */
export function writePcrField(buf: Uint8Array, at: number, pcr27: number): void {
  const v = ((pcr27 % PCR_MODULUS) + PCR_MODULUS) % PCR_MODULUS;
  const base = Math.floor(v / 300);
  const ext = v - base * 300;
  buf[at] = Math.floor(base / 33554432) & 0xff;
  buf[at + 1] = Math.floor(base / 131072) % 256;
  buf[at + 2] = Math.floor(base / 512) % 256;
  buf[at + 3] = Math.floor(base / 2) % 256;
  buf[at + 4] = ((base % 2) << 7) | 0x7e | (ext >> 8);
  buf[at + 5] = ext & 0xff;
}

/** The packet's PCR as a 27 MHz value, or -1 when it has none. */
export function readPcr(buf: Uint8Array, off: number): number {
  return hasPcr(buf, off) ? readPcrField(buf, off + 6) : -1;
}

/** Overwrites the packet's PCR; returns false (and writes nothing) when it has no PCR field. */
export function writePcr(buf: Uint8Array, off: number, pcr27: number): boolean {
  if (!hasPcr(buf, off)) return false;
  writePcrField(buf, off + 6, pcr27);
  return true;
}

/**
 * Sets or clears discontinuity_indicator. Returns false (and writes nothing) when the
 * packet has no adaptation field with a flags byte.
 */
export function setDiscontinuityIndicator(buf: Uint8Array, off: number, on = true): boolean {
  if (afFlags(buf, off) < 0) return false;
  buf[off + 5] = on ? buf[off + 5] | 0x80 : buf[off + 5] & 0x7f;
  return true;
}

export function isNullPacket(buf: Uint8Array, off: number): boolean {
  return pid(buf, off) === NULL_PID;
}

/**
 * Writes the 4-byte header: sync, TEI 0, PUSI, priority 0, PID, scrambling 00, AFC, CC.
 */
export function writePacketHeader(
  buf: Uint8Array,
  off: number,
  packetPid: number,
  payloadUnitStart: boolean,
  cc: number,
  afc: number = AFC_PAYLOAD_ONLY,
): void {
  buf[off] = SYNC_BYTE;
  buf[off + 1] = (payloadUnitStart ? 0x40 : 0) | ((packetPid >> 8) & 0x1f);
  buf[off + 2] = packetPid & 0xff;
  buf[off + 3] = ((afc & 0x03) << 4) | (cc & 0x0f);
}

/** Writes a null packet as ffmpeg does: `47 1F FF 10` + 184 × 0xFF. */
export function writeNullPacket(buf: Uint8Array, off: number): void {
  writePacketHeader(buf, off, NULL_PID, false, 0);
  buf.fill(0xff, off + 4, off + TS_PACKET_SIZE);
}

/**
 * FNV-1a over PUSI and the payload bytes of the packet at buf[o] (the adaptation field, so
 * the PCR, is left out): what TR 101 290 compares to tell a duplicate packet.
 */
export function payloadHash(buf: Uint8Array, o: number): number {
  let h = Math.imul(0x811c9dc5 ^ (buf[o + 1] & 0x40), 0x01000193);
  const p = payloadOffset(buf, o);
  if (p < 0) return h;
  const end = o + TS_PACKET_SIZE;
  for (let i = p; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
  return h;
}
