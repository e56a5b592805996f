/**
 * The PID and table_id values the standards fix, named once for every layer: PSI
 * (ISO/IEC 13818-1 Tables 2-3 and 2-31), DVB SI (EN 300 468 Tables 1 and 2) and SCTE 35 (§9.6).
 */

// ---------------------------------------------------------------- PIDs

export const PAT_PID = 0x0000;
export const CAT_PID = 0x0001;
export const NIT_PID = 0x0010;
/** SDT and BAT. */
export const SDT_PID = 0x0011;
export const EIT_PID = 0x0012;
export const RST_PID = 0x0013;
/** TDT and TOT. */
export const TDT_PID = 0x0014;
export const NULL_PID = 0x1fff;
export const MAX_PID = 0x1fff;

// ---------------------------------------------------------------- table_id

export const TABLE_ID_PAT = 0x00;
export const TABLE_ID_CAT = 0x01;
export const TABLE_ID_PMT = 0x02;
export const TABLE_ID_SDT_ACTUAL = 0x42;
export const TABLE_ID_SDT_OTHER = 0x46;
export const TABLE_ID_EIT_PF_ACTUAL = 0x4e;
export const TABLE_ID_EIT_PF_OTHER = 0x4f;
export const TABLE_ID_EIT_SCHEDULE_ACTUAL_FIRST = 0x50;
export const TABLE_ID_EIT_SCHEDULE_ACTUAL_LAST = 0x5f;
/** Last EIT table_id (schedule, other TS): EIT table_ids run 0x4E–0x6F. */
export const TABLE_ID_EIT_LAST = 0x6f;
export const TABLE_ID_TDT = 0x70;
export const TABLE_ID_TOT = 0x73;
/** splice_info_section. */
export const TABLE_ID_SCTE35 = 0xfc;
/** Stuffing: no section follows in the packet. */
export const TABLE_ID_STUFFING = 0xff;
