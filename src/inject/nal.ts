/**
 * Finds whether a video access unit is an IDR picture by scanning the NAL units at the
 * start of its PES payload, across TS packets, without allocating. The scan stops at the
 * first VCL NAL unit (slice), which decides:
 * - H.264 (ISO/IEC 14496-10 Table 7-1): nal_unit_type = byte & 0x1F; 1..5 are slices,
 *   5 is an IDR slice.
 * - HEVC (ITU-T H.265 Table 7-1): nal_unit_type = (byte >> 1) & 0x3F; 0..31 are VCL,
 *   19 IDR_W_RADL and 20 IDR_N_LP are IDR pictures.
 */
export type VideoCodec = "h264" | "hevc";

/** stream_type values (ISO/IEC 13818-1 Table 2-34) of the video codecs the scanner knows. */
export const STREAM_TYPE_H264 = 0x1b;
export const STREAM_TYPE_HEVC = 0x24;

export function videoCodecOf(streamType: number): VideoCodec | undefined {
  if (streamType === STREAM_TYPE_H264) return "h264";
  if (streamType === STREAM_TYPE_HEVC) return "hevc";
  return undefined;
}

export const AU_UNKNOWN = -1;
export const AU_NON_IDR = 0;
export const AU_IDR = 1;

export class IdrScanner {
  private zeros = 0;
  private needHeader = false;
  private decided = true;
  private result = AU_UNKNOWN;

  constructor(readonly codec: VideoCodec) {}

  /** A new PES packet (access unit) starts. */
  startAccessUnit(): void {
    this.zeros = 0;
    this.needHeader = false;
    this.decided = false;
    this.result = AU_UNKNOWN;
  }

  /** True once the current access unit's first slice was seen. */
  get done(): boolean {
    return this.decided;
  }

  /** AU_IDR, AU_NON_IDR, or AU_UNKNOWN while no slice was seen yet. */
  get verdict(): number {
    return this.result;
  }

  /**
   * Feeds elementary-stream bytes buf[start, end). Returns the verdict so far; once decided,
   * further bytes of the same access unit are ignored.
   */
  feed(buf: Uint8Array, start: number, end: number): number {
    if (this.decided) return this.result;
    const hevc = this.codec === "hevc";
    let zeros = this.zeros;
    let needHeader = this.needHeader;
    for (let i = start; i < end; i++) {
      const b = buf[i];
      if (needHeader) {
        needHeader = false;
        if (hevc) {
          const t = (b >> 1) & 0x3f;
          if (t <= 31) {
            this.finish(t === 19 || t === 20 ? AU_IDR : AU_NON_IDR);
            return this.result;
          }
        } else {
          const t = b & 0x1f;
          if (t >= 1 && t <= 5) {
            this.finish(t === 5 ? AU_IDR : AU_NON_IDR);
            return this.result;
          }
        }
      }
      if (b === 0) {
        zeros++;
      } else {
        if (b === 1 && zeros >= 2) needHeader = true;
        zeros = 0;
      }
    }
    this.zeros = zeros;
    this.needHeader = needHeader;
    return this.result;
  }

  private finish(v: number): void {
    this.decided = true;
    this.result = v;
  }
}
