/**
 * Service Description Table section (EN 300 468 §5.2.3), PID 0x11, ≤ 1024 bytes.
 *
 * Header (long, extension = transport_stream_id), original_network_id 16,
 * reserved_future_use 8, then per service: service_id 16, reserved_future_use 6,
 * EIT_schedule_flag 1, EIT_present_following_flag 1, running_status 3, free_CA_mode 1,
 * descriptors_loop_length 12, descriptors; CRC_32.
 */
import { TABLE_ID_SDT_ACTUAL, TABLE_ID_SDT_OTHER } from "../ts/ids.js";
import { endSection, MAX_PSI_SECTION_LENGTH, readLongSection, SI_SECTION_CODES, startLongSection } from "../ts/section.js";
import { checkField } from "./check.js";
import { decodeDescriptors, encodeDescriptors, type DvbDescriptor } from "./descriptors.js";
import type { DvbTextOptions } from "./text.js";

export const SDT_MAX_SECTION_BYTES = 1024;

export interface SdtService {
  serviceId: number;
  eitScheduleFlag: boolean;
  eitPresentFollowingFlag: boolean;
  runningStatus: number;
  freeCaMode: boolean;
  descriptors: DvbDescriptor[];
}

export interface SdtSection {
  tableId: number;
  /** table_id_extension. */
  transportStreamId: number;
  versionNumber: number;
  currentNextIndicator: boolean;
  sectionNumber: number;
  lastSectionNumber: number;
  originalNetworkId: number;
  services: SdtService[];
}

const SDT_SPEC = {
  table: "SDT",
  tableIdOk: (t: number) => t === TABLE_ID_SDT_ACTUAL || t === TABLE_ID_SDT_OTHER,
  maxSectionLength: MAX_PSI_SECTION_LENGTH,
  codes: SI_SECTION_CODES,
};

export const SdtSection = {
  /** Throws ONAIR_SI_FIELD_RANGE for a field out of range, ONAIR_SI_SECTION_LENGTH past 1024 bytes. */
  encode(s: SdtSection, opts?: DvbTextOptions): Uint8Array {
    checkField("transport_stream_id", s.transportStreamId, 0xffff);
    checkField("original_network_id", s.originalNetworkId, 0xffff);
    checkField("version_number", s.versionNumber, 31);
    const w = startLongSection({ ...s, privateIndicator: true, tableIdExtension: s.transportStreamId }, SDT_MAX_SECTION_BYTES);
    w.u16(s.originalNetworkId); // original_network_id
    w.u8(0xff); // reserved_future_use
    for (const svc of s.services) {
      checkField("service_id", svc.serviceId, 0xffff);
      checkField("running_status", svc.runningStatus, 7);
      const loop = encodeDescriptors(svc.descriptors, opts);
      w.u16(svc.serviceId); // service_id
      // reserved_future_use 6, EIT_schedule_flag 1, EIT_present_following_flag 1
      w.u8(0xfc | (svc.eitScheduleFlag ? 2 : 0) | (svc.eitPresentFollowingFlag ? 1 : 0));
      // running_status 3, free_CA_mode 1, descriptors_loop_length 12
      w.u16((svc.runningStatus << 13) | (svc.freeCaMode ? 0x1000 : 0) | loop.length);
      w.bytes(loop);
    }
    return endSection(w, SDT_SPEC);
  },

  /** Throws ONAIR_SI_TRUNCATED, ONAIR_SI_TABLE_ID, ONAIR_SI_SYNTAX, ONAIR_SI_SECTION_LENGTH, ONAIR_SI_CRC, ONAIR_SI_DESCRIPTOR. */
  decode(bytes: Uint8Array): SdtSection {
    const { header: h, body: r } = readLongSection(bytes, SDT_SPEC);
    const originalNetworkId = r.u16("original_network_id");
    r.u8("reserved_future_use");
    const services: SdtService[] = [];
    while (r.left > 0) {
      const serviceId = r.u16("service_id");
      const flags = r.u8("EIT_schedule_flag");
      const b = r.u16("running_status");
      const loop = r.sub(b & 0x0fff, "descriptors");
      services.push({
        serviceId,
        eitScheduleFlag: (flags & 2) !== 0,
        eitPresentFollowingFlag: (flags & 1) !== 0,
        runningStatus: b >> 13,
        freeCaMode: (b & 0x1000) !== 0,
        descriptors: decodeDescriptors(bytes, loop.pos, loop.end),
      });
    }
    return {
      tableId: h.tableId,
      transportStreamId: h.tableIdExtension,
      versionNumber: h.versionNumber,
      currentNextIndicator: h.currentNextIndicator,
      sectionNumber: h.sectionNumber,
      lastSectionNumber: h.lastSectionNumber,
      originalNetworkId,
      services,
    };
  },
};
