/**
 * Time Offset Table (EN 300 468 §5.2.6), PID 0x14: table_id 0x73,
 * section_syntax_indicator 0, reserved_future_use 1, reserved 2, section_length 12,
 * UTC_time 40, reserved 4, descriptors_loop_length 12, descriptors, CRC_32.
 */
import { OnairError } from "../core/errors.js";
import { crc32Mpeg2, writeCrc32 } from "../ts/crc32.js";
import { decodeDescriptors, encodeDescriptors, type DvbDescriptor } from "./descriptors.js";
import { TABLE_ID_TOT } from "../ts/ids.js";
import { readUtcTime, writeUtcTime } from "./time.js";


export interface TotSection {
  /** UTC epoch ms (whole seconds). */
  utcTime: number;
  descriptors: DvbDescriptor[];
}

export const TotSection = {
  encode(s: TotSection): Uint8Array {
    const loop = encodeDescriptors(s.descriptors);
    const total = 3 + 5 + 2 + loop.length + 4;
    if (total > 1024) throw new OnairError("ONAIR_SI_SECTION_LENGTH", "TOT longer than 1024 bytes", { total });
    const out = new Uint8Array(total);
    out[0] = TABLE_ID_TOT;
    out[1] = 0x70 | ((total - 3) >> 8);
    out[2] = (total - 3) & 0xff;
    writeUtcTime(out, 3, s.utcTime);
    out[8] = 0xf0 | (loop.length >> 8);
    out[9] = loop.length & 0xff;
    out.set(loop, 10);
    writeCrc32(out, 0, total - 4);
    return out;
  },

  decode(bytes: Uint8Array): TotSection {
    if (bytes.length < 14) throw new OnairError("ONAIR_SI_TRUNCATED", "TOT shorter than 14 bytes", { length: bytes.length });
    if (bytes[0] !== TABLE_ID_TOT) throw new OnairError("ONAIR_SI_TABLE_ID", "TOT has an unexpected table_id", { tableId: bytes[0] });
    const total = (((bytes[1] & 0x0f) << 8) | bytes[2]) + 3;
    if (total > bytes.length || total < 14) throw new OnairError("ONAIR_SI_TRUNCATED", "TOT is cut short", { total, length: bytes.length });
    if (crc32Mpeg2(bytes, 0, total) !== 0) throw new OnairError("ONAIR_SI_CRC", "TOT fails its CRC_32", {});
    const loop = ((bytes[8] & 0x0f) << 8) | bytes[9];
    if (10 + loop > total - 4) throw new OnairError("ONAIR_SI_TRUNCATED", "TOT descriptors overrun the section", { loop });
    const t = readUtcTime(bytes, 3);
    if (t === undefined) throw new OnairError("ONAIR_SI_FIELD_RANGE", "TOT UTC_time is undefined", {});
    return { utcTime: t, descriptors: decodeDescriptors(bytes, 10, 10 + loop) };
  },
};

/** Rewrites UTC_time of an encoded TOT in place and recomputes its CRC (carousel refresh). */
export function refreshTot(section: Uint8Array, nowMs: number): void {
  writeUtcTime(section, 3, nowMs);
  writeCrc32(section, 0, section.length - 4);
}
