/**
 * Service Description Table section (EN 300 468 §5.2.3), PID 0x11, ≤ 1024 bytes.
 *
 * Header (long, extension = transport_stream_id), original_network_id 16,
 * reserved_future_use 8, then per service: service_id 16, reserved_future_use 6,
 * EIT_schedule_flag 1, EIT_present_following_flag 1, running_status 3, free_CA_mode 1,
 * descriptors_loop_length 12, descriptors; CRC_32.
 */
import { OnairError } from "../core/errors.js";
import { decodeDescriptors, encodeDescriptors, type DvbDescriptor } from "./descriptors.js";
import { writeCrc32 } from "../ts/crc32.js";
import { TABLE_ID_SDT_ACTUAL, TABLE_ID_SDT_OTHER } from "../ts/ids.js";
import {
  checkLongSection,
  CRC_SIZE,
  LONG_SECTION_HEADER_SIZE,
  MAX_PSI_SECTION_LENGTH,
  SI_SECTION_CODES,
  writeLongSectionHeader,
} from "../ts/section.js";
import { checkField } from "./check.js";
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
  encode(s: SdtSection, opts?: DvbTextOptions): Uint8Array {
    checkField("transport_stream_id", s.transportStreamId, 0xffff);
    checkField("original_network_id", s.originalNetworkId, 0xffff);
    checkField("version_number", s.versionNumber, 31);
    const loops = s.services.map((svc) => encodeDescriptors(svc.descriptors, opts));
    let total = LONG_SECTION_HEADER_SIZE + 3 + CRC_SIZE;
    for (const l of loops) total += 5 + l.length;
    if (total > SDT_MAX_SECTION_BYTES) {
      throw new OnairError("ONAIR_SI_SECTION_LENGTH", "SDT section longer than 1024 bytes", { total });
    }
    const out = new Uint8Array(total);
    writeLongSectionHeader(out, 0, { ...s, privateIndicator: true, sectionLength: total - 3, tableIdExtension: s.transportStreamId });
    out[8] = s.originalNetworkId >> 8;
    out[9] = s.originalNetworkId & 0xff;
    out[10] = 0xff;
    let p = 11;
    s.services.forEach((svc, i) => {
      checkField("service_id", svc.serviceId, 0xffff);
      checkField("running_status", svc.runningStatus, 7);
      const loop = loops[i];
      out[p] = svc.serviceId >> 8;
      out[p + 1] = svc.serviceId & 0xff;
      out[p + 2] = 0xfc | (svc.eitScheduleFlag ? 2 : 0) | (svc.eitPresentFollowingFlag ? 1 : 0);
      out[p + 3] = (svc.runningStatus << 5) | (svc.freeCaMode ? 0x10 : 0) | (loop.length >> 8);
      out[p + 4] = loop.length & 0xff;
      out.set(loop, p + 5);
      p += 5 + loop.length;
    });
    writeCrc32(out, 0, total - CRC_SIZE);
    return out;
  },

  decode(bytes: Uint8Array): SdtSection {
    const h = checkLongSection(bytes, SDT_SPEC);
    const end = h.sectionLength + 3 - CRC_SIZE;
    if (end < 11) throw new OnairError("ONAIR_SI_TRUNCATED", "SDT section too short for its fixed fields", {});
    const services: SdtService[] = [];
    let p = 11;
    while (p < end) {
      if (p + 5 > end) throw new OnairError("ONAIR_SI_TRUNCATED", "SDT service entry overruns the section", { at: p });
      const loop = ((bytes[p + 3] & 0x0f) << 8) | bytes[p + 4];
      if (p + 5 + loop > end) throw new OnairError("ONAIR_SI_TRUNCATED", "SDT descriptors overrun the section", { at: p });
      services.push({
        serviceId: (bytes[p] << 8) | bytes[p + 1],
        eitScheduleFlag: (bytes[p + 2] & 2) !== 0,
        eitPresentFollowingFlag: (bytes[p + 2] & 1) !== 0,
        runningStatus: bytes[p + 3] >> 5,
        freeCaMode: (bytes[p + 3] & 0x10) !== 0,
        descriptors: decodeDescriptors(bytes, p + 5, p + 5 + loop),
      });
      p += 5 + loop;
    }
    return {
      tableId: h.tableId,
      transportStreamId: h.tableIdExtension,
      versionNumber: h.versionNumber,
      currentNextIndicator: h.currentNextIndicator,
      sectionNumber: h.sectionNumber,
      lastSectionNumber: h.lastSectionNumber,
      originalNetworkId: (bytes[8] << 8) | bytes[9],
      services,
    };
  },
};
