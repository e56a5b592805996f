/**
 * Builders for SDT actual, TDT and TOT from the service and the time.
 */
import type { SiService } from "./event.js";
import { TABLE_ID_SDT_ACTUAL } from "../ts/ids.js";
import { SdtSection } from "./sdt.js";
import { sameContent, setVersion } from "../ts/section.js";
import { TdtSection } from "./tdt.js";
import type { DvbTextOptions } from "./text.js";
import { localTimeOffsetRegion } from "./timezone.js";
import { TotSection } from "./tot.js";

/**
 * Version of our first SDT: ffmpeg writes its SDT with version 0 (`-tables_version`
 * default); ours replaces it on PID 0x11 and carries another version so that a receiver
 * that saw ffmpeg's table still picks ours up.
 */
export const SDT_INITIAL_VERSION = 1;

export interface SdtState {
  versionNumber: number;
  section: Uint8Array;
}

export interface SdtResult {
  section: Uint8Array;
  state: SdtState;
  changed: boolean;
}

/**
 * SDT actual with one service: service_descriptor (type, provider, name), EIT flags and
 * running_status from the service. Same content as `prev` → the same Uint8Array back.
 */
export function buildSdt(service: SiService, prev?: SdtState, opts?: DvbTextOptions & { initialVersion?: number }): SdtResult {
  const version = prev ? prev.versionNumber : (opts?.initialVersion ?? SDT_INITIAL_VERSION);
  const section = SdtSection.encode(
    {
      tableId: TABLE_ID_SDT_ACTUAL,
      transportStreamId: service.transportStreamId,
      versionNumber: version,
      currentNextIndicator: true,
      sectionNumber: 0,
      lastSectionNumber: 0,
      originalNetworkId: service.originalNetworkId,
      services: [
        {
          serviceId: service.serviceId,
          eitScheduleFlag: service.eitSchedule,
          eitPresentFollowingFlag: service.eitPresentFollowing,
          runningStatus: service.runningStatus,
          freeCaMode: service.freeCaMode ?? false,
          descriptors: [
            {
              kind: "service",
              serviceType: service.serviceType,
              serviceProviderName: service.providerName,
              serviceName: service.serviceName,
            },
          ],
        },
      ],
    },
    opts,
  );
  if (prev && sameContent(prev.section, section)) return { section: prev.section, state: prev, changed: false };
  if (!prev) return { section, state: { versionNumber: version, section }, changed: true };
  const versionNumber = (prev.versionNumber + 1) % 32;
  setVersion(section, versionNumber);
  return { section, state: { versionNumber, section }, changed: true };
}

/** TDT carrying `nowMs` (to the second). */
export function buildTdt(nowMs: number): Uint8Array {
  return TdtSection.encode({ utcTime: nowMs });
}

/**
 * TOT carrying `nowMs` and one local_time_offset region for `countryCode` (three
 * letters, from the profile) with the current offset of the IANA `timeZone` and its next
 * change within a year.
 */
export function buildTot(nowMs: number, timeZone: string, countryCode: string, countryRegionId = 0): Uint8Array {
  return TotSection.encode({
    utcTime: nowMs,
    descriptors: [{ kind: "localTimeOffset", regions: [localTimeOffsetRegion(timeZone, countryCode, nowMs, countryRegionId)] }],
  });
}
