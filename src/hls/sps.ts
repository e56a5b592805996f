/**
 * The H.264 sequence parameter set (ISO/IEC 14496-10 §7.3.2.1.1) as far as an HLS
 * multivariant playlist needs it: profile_idc, the constraint_set flags byte and level_idc
 * for CODECS `avc1.PPCCLL` (RFC 6381 §3.3), and the cropped picture size for RESOLUTION.
 * Read from the first video PES of a segment (the IDR access unit, which carries the SPS in
 * FFmpeg output). Pure; returns undefined on anything it cannot read.
 */
import { TS_PACKET_SIZE, createPesHeader, payloadOffset, readPesHeaderFromPacket } from "../ts/index.js";

export interface SpsInfo {
  profileIdc: number;
  constraintFlags: number;
  levelIdc: number;
  width: number;
  height: number;
}

/** profile_idc values whose SPS carries chroma_format_idc and the bit depths. */
const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);
const NAL_SPS = 7;
/** enough of the IDR access unit to hold AUD, SPS and PPS */
const MAX_SCAN = 4096;

/** `avc1.PPCCLL` in lower-case hex. */
export function avc1Codec(sps: SpsInfo): string {
  const h = (v: number): string => v.toString(16).padStart(2, "0");
  return `avc1.${h(sps.profileIdc)}${h(sps.constraintFlags)}${h(sps.levelIdc)}`;
}

/** The first PES payload bytes (up to MAX_SCAN) of `pid` in a TS segment. */
export function firstPesPayload(ts: Uint8Array, pid: number): Uint8Array {
  const out = new Uint8Array(MAX_SCAN);
  const pes = createPesHeader();
  let n = 0;
  let started = false;
  for (let off = 0; off + TS_PACKET_SIZE <= ts.length && n < MAX_SCAN; off += TS_PACKET_SIZE) {
    if ((((ts[off + 1] & 0x1f) << 8) | ts[off + 2]) !== pid) continue;
    let from: number;
    if ((ts[off + 1] & 0x40) !== 0) {
      if (started || !readPesHeaderFromPacket(ts, off, pes)) break;
      started = true;
      from = pes.payloadStart;
    } else {
      if (!started) continue;
      from = payloadOffset(ts, off);
      if (from < 0) continue;
    }
    const take = Math.min(off + TS_PACKET_SIZE - from, MAX_SCAN - n);
    out.set(ts.subarray(from, from + take), n);
    n += take;
  }
  return out.subarray(0, n);
}

/** Finds and parses the first SPS NAL unit in Annex B bytes. */
export function findSps(es: Uint8Array): SpsInfo | undefined {
  for (let i = 0; i + 3 < es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1 && (es[i + 3] & 0x1f) === NAL_SPS) {
      // the parser stops at the fields it needs: the bytes after the SPS do not matter
      return parseSps(unescapeRbsp(es.subarray(i + 4)));
    }
  }
  return undefined;
}

/** Removes emulation_prevention_three_byte (00 00 03 → 00 00). */
function unescapeRbsp(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  let n = 0;
  let zeros = 0;
  for (const v of b) {
    if (zeros >= 2 && v === 3) {
      zeros = 0;
      continue;
    }
    out[n++] = v;
    zeros = v === 0 ? zeros + 1 : 0;
  }
  return out.subarray(0, n);
}

class Bits {
  private pos = 0;
  constructor(private readonly b: Uint8Array) {}
  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++, this.pos++) {
      if (this.pos >> 3 >= this.b.length) throw new RangeError("SPS truncated");
      v = v * 2 + ((this.b[this.pos >> 3] >> (7 - (this.pos & 7))) & 1);
    }
    return v;
  }
  ue(): number {
    let zeros = 0;
    while (this.u(1) === 0) if (++zeros > 31) throw new RangeError("bad exp-Golomb");
    return 2 ** zeros - 1 + this.u(zeros);
  }
  se(): number {
    const k = this.ue();
    return k % 2 === 1 ? (k + 1) / 2 : -k / 2;
  }
}

/** Parses an SPS RBSP (after the NAL header byte). */
export function parseSps(rbsp: Uint8Array): SpsInfo | undefined {
  try {
    const r = new Bits(rbsp);
    const profileIdc = r.u(8);
    const constraintFlags = r.u(8);
    const levelIdc = r.u(8);
    r.ue(); // seq_parameter_set_id
    let chromaFormatIdc = 1;
    if (HIGH_PROFILES.has(profileIdc)) chromaFormatIdc = readChromaAndScaling(r);
    r.ue(); // log2_max_frame_num_minus4
    skipPicOrderCnt(r);
    r.ue(); // max_num_ref_frames
    r.u(1); // gaps_in_frame_num_value_allowed_flag
    const widthMbs = r.ue() + 1;
    const heightMapUnits = r.ue() + 1;
    const frameMbsOnly = r.u(1);
    if (!frameMbsOnly) r.u(1); // mb_adaptive_frame_field_flag
    r.u(1); // direct_8x8_inference_flag
    const crop = r.u(1) ? [r.ue(), r.ue(), r.ue(), r.ue()] : [0, 0, 0, 0];
    const subWidthC = chromaFormatIdc === 3 ? 1 : 2;
    const subHeightC = chromaFormatIdc === 1 ? 2 : 1;
    const cropX = chromaFormatIdc === 0 ? 1 : subWidthC;
    const cropY = (chromaFormatIdc === 0 ? 1 : subHeightC) * (2 - frameMbsOnly);
    const width = widthMbs * 16 - cropX * (crop[0] + crop[1]);
    const height = (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (crop[2] + crop[3]);
    return { profileIdc, constraintFlags, levelIdc, width, height };
  } catch {
    return undefined;
  }
}

/** chroma_format_idc … seq_scaling_matrix_present_flag and its lists; returns chroma_format_idc. */
function readChromaAndScaling(r: Bits): number {
  const chroma = r.ue();
  if (chroma === 3) r.u(1); // separate_colour_plane_flag
  r.ue(); // bit_depth_luma_minus8
  r.ue(); // bit_depth_chroma_minus8
  r.u(1); // qpprime_y_zero_transform_bypass_flag
  if (r.u(1)) {
    for (let i = 0; i < (chroma !== 3 ? 8 : 12); i++) {
      if (!r.u(1)) continue;
      let last = 8;
      let next = 8;
      for (let j = 0; j < (i < 6 ? 16 : 64); j++) {
        if (next !== 0) next = (last + r.se() + 256) % 256;
        last = next === 0 ? last : next;
      }
    }
  }
  return chroma;
}

function skipPicOrderCnt(r: Bits): void {
  const type = r.ue();
  if (type === 0) {
    r.ue(); // log2_max_pic_order_cnt_lsb_minus4
  } else if (type === 1) {
    r.u(1);
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
}
