import { encodeSpliceInfoSection, segmentationDescriptor, spliceInsert, spliceNull, timeSignal } from "../scte35/index.js";
import type { CueSpec } from "./planner.js";

/** segmentation_upid_type for the break id: URI (0x0F), as `urn:onair:break:<id>`. */
export const BREAK_UPID_TYPE = 0x0f;

export function breakUpidHex(breakId: string): string {
  return Buffer.from(`urn:onair:break:${encodeURIComponent(breakId)}`, "utf8").toString("hex");
}

/**
 * Turns a planned cue into splice_info_section bytes. Event ids come from the persisted
 * per-channel counter, so they follow the uniqueness rules: event_id_compliance_flag and
 * segmentation_event_id_compliance_indicator are 0 ("compliant"). sap_type stays 3
 * (unspecified): the splice point is a predicted IDR, not a guarantee.
 */
export function encodeCue(spec: CueSpec): Uint8Array {
  switch (spec.command) {
    case "splice_null":
      return encodeSpliceInfoSection(spliceNull());
    case "splice_insert_cancel":
      return encodeSpliceInfoSection(spliceInsert({ spliceEventId: spec.spliceEventId, cancel: true, eventIdComplianceFlag: false }));
    case "splice_insert":
      return encodeSpliceInfoSection(
        spliceInsert({
          spliceEventId: spec.spliceEventId,
          outOfNetworkIndicator: spec.outOfNetwork,
          ptsTime: spec.splicePts,
          breakDuration: spec.breakDurationTicks,
          autoReturn: spec.breakDurationTicks !== undefined ? true : undefined,
          eventIdComplianceFlag: false,
        }),
      );
    case "time_signal":
      return encodeSpliceInfoSection(
        timeSignal({
          ptsTime: spec.splicePts,
          descriptors: [
            segmentationDescriptor({
              segmentationEventId: spec.spliceEventId,
              segmentationTypeId: spec.segmentationTypeId,
              segmentationDuration: spec.segmentationDurationTicks,
              upidType: spec.breakId ? BREAK_UPID_TYPE : undefined,
              upid: spec.breakId ? breakUpidHex(spec.breakId) : undefined,
              segmentationEventIdComplianceIndicator: false,
            }),
          ],
        }),
      );
  }
}
