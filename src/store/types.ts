/** Rows of the store's cue and as-run tables, as its methods take and return them (store/db.ts). */

export interface CueInput {
  channel: string;
  spliceEventId: number;
  /** e.g. "out", "in", "cancel", "time_signal", "null" */
  kind: string;
  scheduledMs?: number | undefined;
  pts?: number | undefined;
  /** base64 of the splice_info_section */
  section?: string | undefined;
  details?: unknown;
}

export interface CueRecord extends CueInput {
  id: number;
  createdMs: number;
  sentMs?: number | undefined;
}

export interface AsRunInput {
  channel: string;
  /** e.g. "item", "cue", "break", "slate" */
  kind: string;
  scheduledMs?: number | undefined;
  /** defaults to the store clock's now */
  actualMs?: number | undefined;
  pts?: number | undefined;
  /** DVB event_id for items, splice_event_id for cues */
  eventId?: number | undefined;
  details?: unknown;
}

export interface AsRunEntry {
  id: number;
  channel: string;
  kind: string;
  scheduledMs?: number | undefined;
  actualMs: number;
  pts?: number | undefined;
  eventId?: number | undefined;
  details?: unknown;
}

export interface AsRunQuery {
  channel?: string;
  kind?: string;
  fromMs?: number;
  toMs?: number;
  limit?: number;
}
