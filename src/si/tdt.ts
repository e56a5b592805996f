/**
 * Time and Date Table (EN 300 468 §5.2.5), PID 0x14: table_id 0x70,
 * section_syntax_indicator 0, reserved_future_use 1, reserved 2, section_length 12 (= 5),
 * UTC_time 40. No CRC.
 */
import { OnairError } from "../core/errors.js";
import { FieldReader, FieldWriter } from "../ts/fields.js";
import { TABLE_ID_TDT } from "../ts/ids.js";
import { endSection, SI_SECTION_CODES } from "../ts/section.js";
import { readUtcTime, writeUtcTime } from "./time.js";

export const TDT_SECTION_BYTES = 8;

export interface TdtSection {
  /** UTC epoch ms (whole seconds). */
  utcTime: number;
}

const TDT_SPEC = { table: "TDT", maxSectionLength: 5, codes: SI_SECTION_CODES };

export const TdtSection = {
  encode(s: TdtSection): Uint8Array {
    const w = new FieldWriter(TDT_SECTION_BYTES);
    w.u8(TABLE_ID_TDT); // table_id
    w.u16(0x7000); // section_syntax_indicator 0, reserved_future_use 1, reserved 2, section_length 12
    w.field(5, (b, at) => writeUtcTime(b, at, s.utcTime)); // UTC_time 40
    return endSection(w, TDT_SPEC, false);
  },

  /** Throws ONAIR_SI_TRUNCATED, ONAIR_SI_TABLE_ID, ONAIR_SI_SECTION_LENGTH (not 5) or ONAIR_SI_FIELD_RANGE. */
  decode(bytes: Uint8Array): TdtSection {
    if (bytes.length < TDT_SECTION_BYTES) throw new OnairError("ONAIR_SI_TRUNCATED", "TDT shorter than 8 bytes", { length: bytes.length });
    const r = new FieldReader(bytes, 0, TDT_SECTION_BYTES, SI_SECTION_CODES.truncated);
    const tableId = r.u8("table_id");
    if (tableId !== TABLE_ID_TDT) throw new OnairError("ONAIR_SI_TABLE_ID", "TDT has an unexpected table_id", { tableId });
    const len = r.u16("section_length") & 0x0fff;
    if (len !== 5) throw new OnairError("ONAIR_SI_SECTION_LENGTH", "TDT section_length is not 5", { sectionLength: len });
    const t = r.field(5, "UTC_time", readUtcTime);
    if (t === undefined) throw new OnairError("ONAIR_SI_FIELD_RANGE", "TDT UTC_time is undefined", {});
    return { utcTime: t };
  },
};

/** Rewrites UTC_time of an encoded TDT in place (for a carousel refresh; no allocation). */
export function refreshTdt(section: Uint8Array, nowMs: number): void {
  writeUtcTime(section, 3, nowMs);
}
