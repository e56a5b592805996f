/**
 * PES header reading (ISO/IEC 13818-1 §2.4.3.6), read-only, no allocation: results go into a
 * caller-owned `PesHeader` that can be reused for every packet.
 *
 * Only the header at the start of a PES packet is read, so it must lie inside the first
 * TS packet's payload (always the case for ffmpeg output: the header is at most 14 + 5 bytes
 * before stuffing). A header that runs past the payload is reported as not readable.
 */
import { payloadOffset, pusi, TS_PACKET_SIZE } from "./packet.js";
import { readTimestamp } from "./timestamps.js";

export const STREAM_ID_PROGRAM_STREAM_MAP = 0xbc;
export const STREAM_ID_PRIVATE_STREAM_1 = 0xbd;
export const STREAM_ID_PADDING = 0xbe;
export const STREAM_ID_PRIVATE_STREAM_2 = 0xbf;

export interface PesHeader {
  /** stream_id (0xE0–0xEF video, 0xC0–0xDF audio, 0xBD private_stream_1, …). */
  streamId: number;
  /** PES_packet_length (0 = unbounded, allowed for video). */
  pesPacketLength: number;
  /** True when the optional header (`10` marker, flags) is present for this stream_id. */
  hasOptionalHeader: boolean;
  dataAlignmentIndicator: boolean;
  /** PTS (90 kHz, 33 bits) or -1. */
  pts: number;
  /** DTS or -1 (absent: DTS equals PTS). */
  dts: number;
  /** PES_header_data_length, or 0 without optional header. */
  pesHeaderDataLength: number;
  /** Absolute index of the first elementary-stream byte in the buffer. */
  payloadStart: number;
}

export function createPesHeader(): PesHeader {
  return {
    streamId: 0,
    pesPacketLength: 0,
    hasOptionalHeader: false,
    dataAlignmentIndicator: false,
    pts: -1,
    dts: -1,
    pesHeaderDataLength: 0,
    payloadStart: -1,
  };
}

/** Stream ids whose PES packets carry no optional header (§2.4.3.7). */
export function streamIdHasOptionalHeader(streamId: number): boolean {
  return !(
    streamId === STREAM_ID_PROGRAM_STREAM_MAP ||
    streamId === STREAM_ID_PADDING ||
    streamId === STREAM_ID_PRIVATE_STREAM_2 ||
    streamId === 0xf0 ||
    streamId === 0xf1 ||
    streamId === 0xff ||
    streamId === 0xf2 ||
    streamId === 0xf8
  );
}

/**
 * Parses a PES header in buf[at, end) into `out`. Returns false (leaving `out` in an
 * unspecified state) when there is no start code prefix `00 00 01` or the header does not
 * fit before `end`.
 */
export function readPesHeader(buf: Uint8Array, at: number, end: number, out: PesHeader): boolean {
  if (at < 0 || at + 6 > end) return false;
  if (buf[at] !== 0 || buf[at + 1] !== 0 || buf[at + 2] !== 1) return false;
  const streamId = buf[at + 3];
  out.streamId = streamId;
  out.pesPacketLength = (buf[at + 4] << 8) | buf[at + 5];
  out.pts = -1;
  out.dts = -1;
  out.dataAlignmentIndicator = false;
  out.pesHeaderDataLength = 0;
  if (!streamIdHasOptionalHeader(streamId)) {
    out.hasOptionalHeader = false;
    out.payloadStart = at + 6;
    return true;
  }
  if (at + 9 > end || (buf[at + 6] & 0xc0) !== 0x80) return false;
  out.hasOptionalHeader = true;
  out.dataAlignmentIndicator = (buf[at + 6] & 0x04) !== 0;
  const ptsDtsFlags = buf[at + 7] >> 6;
  const hdrLen = buf[at + 8];
  out.pesHeaderDataLength = hdrLen;
  const data = at + 9;
  if (data + hdrLen > end) return false;
  if (ptsDtsFlags === 0b10 || ptsDtsFlags === 0b11) {
    if (hdrLen < 5) return false;
    out.pts = readTimestamp(buf, data);
    if (ptsDtsFlags === 0b11) {
      if (hdrLen < 10) return false;
      out.dts = readTimestamp(buf, data + 5);
    }
  }
  out.payloadStart = data + hdrLen;
  return true;
}

/**
 * Reads the PES header of the TS packet at (buf, off) into `out` when the packet starts a
 * PES packet (PUSI = 1, payload present). Returns false otherwise.
 */
export function readPesHeaderFromPacket(buf: Uint8Array, off: number, out: PesHeader): boolean {
  if (!pusi(buf, off)) return false;
  const p = payloadOffset(buf, off);
  if (p < 0) return false;
  return readPesHeader(buf, p, off + TS_PACKET_SIZE, out);
}

/** PTS of the PES packet starting in the TS packet at (buf, off), or -1. No allocation. */
export function readPacketPts(buf: Uint8Array, off: number): number {
  if (!pusi(buf, off)) return -1;
  const p = payloadOffset(buf, off);
  const end = off + TS_PACKET_SIZE;
  if (p < 0 || p + 14 > end) return -1;
  if (buf[p] !== 0 || buf[p + 1] !== 0 || buf[p + 2] !== 1) return -1;
  if (!streamIdHasOptionalHeader(buf[p + 3]) || (buf[p + 6] & 0xc0) !== 0x80) return -1;
  if ((buf[p + 7] & 0x80) === 0 || buf[p + 8] < 5) return -1;
  return readTimestamp(buf, p + 9);
}
