/**
 * Time and Date Table (EN 300 468 §5.2.5), PID 0x14: table_id 0x70,
 * section_syntax_indicator 0, reserved_future_use 1, reserved 2, section_length 12 (= 5),
 * UTC_time 40. No CRC.
 */
import { OnairError } from "../core/errors.js";
import { TABLE_ID_TDT } from "../ts/ids.js";
import { readUtcTime, writeUtcTime } from "./time.js";

export const TDT_SECTION_BYTES = 8;

export interface TdtSection {
  /** UTC epoch ms (whole seconds). */
  utcTime: number;
}

export const TdtSection = {
  encode(s: TdtSection): Uint8Array {
    const out = new Uint8Array(TDT_SECTION_BYTES);
    out[0] = TABLE_ID_TDT;
    out[1] = 0x70;
    out[2] = 0x05;
    writeUtcTime(out, 3, s.utcTime);
    return out;
  },

  decode(bytes: Uint8Array): TdtSection {
    if (bytes.length < TDT_SECTION_BYTES) throw new OnairError("ONAIR_SI_TRUNCATED", "TDT shorter than 8 bytes", { length: bytes.length });
    if (bytes[0] !== TABLE_ID_TDT) throw new OnairError("ONAIR_SI_TABLE_ID", "TDT has an unexpected table_id", { tableId: bytes[0] });
    const len = ((bytes[1] & 0x0f) << 8) | bytes[2];
    if (len !== 5) throw new OnairError("ONAIR_SI_SECTION_LENGTH", "TDT section_length is not 5", { sectionLength: len });
    const t = readUtcTime(bytes, 3);
    if (t === undefined) throw new OnairError("ONAIR_SI_FIELD_RANGE", "TDT UTC_time is undefined", {});
    return { utcTime: t };
  },
};

/** Rewrites UTC_time of an encoded TDT in place (for a carousel refresh; no allocation). */
export function refreshTdt(section: Uint8Array, nowMs: number): void {
  writeUtcTime(section, 3, nowMs);
}
