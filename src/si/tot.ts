/**
 * Time Offset Table (EN 300 468 §5.2.6), PID 0x14: table_id 0x73,
 * section_syntax_indicator 0, reserved_future_use 1, reserved 2, section_length 12,
 * UTC_time 40, reserved 4, descriptors_loop_length 12, descriptors, CRC_32.
 */
import { OnairError } from "../core/errors.js";
import { crc32Mpeg2, writeCrc32 } from "../ts/crc32.js";
import { decodeDescriptors, encodeDescriptors, type DvbDescriptor } from "./descriptors.js";
import { FieldReader, FieldWriter } from "../ts/fields.js";
import { TABLE_ID_TOT } from "../ts/ids.js";
import { CRC_SIZE, endSection, MAX_PSI_SECTION_LENGTH, SECTION_HEADER_SIZE, sectionSize, SI_SECTION_CODES } from "../ts/section.js";
import { readUtcTime, writeUtcTime } from "./time.js";

export interface TotSection {
  /** UTC epoch ms (whole seconds). */
  utcTime: number;
  descriptors: DvbDescriptor[];
}

const TOT_SPEC = { table: "TOT", maxSectionLength: MAX_PSI_SECTION_LENGTH, codes: SI_SECTION_CODES };
/** Bytes of a TOT without descriptors: header 3, UTC_time 5, loop length 2, CRC_32 4. */
const TOT_MIN_BYTES = 14;

export const TotSection = {
  /** Throws ONAIR_SI_SECTION_LENGTH past 1024 bytes. */
  encode(s: TotSection): Uint8Array {
    const loop = encodeDescriptors(s.descriptors);
    const w = new FieldWriter(TOT_MIN_BYTES + loop.length);
    w.u8(TABLE_ID_TOT); // table_id
    w.u16(0x7000); // section_syntax_indicator 0, reserved_future_use 1, reserved 2, section_length 12
    w.field(5, (b, at) => writeUtcTime(b, at, s.utcTime)); // UTC_time 40
    w.u16(0xf000 | loop.length); // reserved 4, descriptors_loop_length 12
    w.bytes(loop);
    return endSection(w, TOT_SPEC);
  },

  /** Throws ONAIR_SI_TRUNCATED, ONAIR_SI_TABLE_ID, ONAIR_SI_CRC, ONAIR_SI_FIELD_RANGE or ONAIR_SI_DESCRIPTOR. */
  decode(bytes: Uint8Array): TotSection {
    if (bytes.length < TOT_MIN_BYTES) throw new OnairError("ONAIR_SI_TRUNCATED", "TOT shorter than 14 bytes", { length: bytes.length });
    if (bytes[0] !== TABLE_ID_TOT) throw new OnairError("ONAIR_SI_TABLE_ID", "TOT has an unexpected table_id", { tableId: bytes[0] });
    const total = sectionSize(bytes, 0);
    if (total > bytes.length || total < TOT_MIN_BYTES)
      throw new OnairError("ONAIR_SI_TRUNCATED", "TOT is cut short", { total, length: bytes.length });
    if (crc32Mpeg2(bytes, 0, total) !== 0) throw new OnairError("ONAIR_SI_CRC", "TOT fails its CRC_32", {});
    const r = new FieldReader(bytes, SECTION_HEADER_SIZE, total - CRC_SIZE, SI_SECTION_CODES.truncated);
    const t = r.field(5, "UTC_time", readUtcTime);
    const loop = r.sub(r.u16("descriptors_loop_length") & 0x0fff, "descriptors");
    if (t === undefined) throw new OnairError("ONAIR_SI_FIELD_RANGE", "TOT UTC_time is undefined", {});
    return { utcTime: t, descriptors: decodeDescriptors(bytes, loop.pos, loop.end) };
  },
};

/** Rewrites UTC_time of an encoded TOT in place and recomputes its CRC (carousel refresh). */
export function refreshTot(section: Uint8Array, nowMs: number): void {
  writeUtcTime(section, 3, nowMs);
  writeCrc32(section, 0, section.length - 4);
}
