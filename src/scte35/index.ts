/**
 * SCTE-35 splice_info_section codec: decode/encode, the JSON contract types, cue strings
 * (hex/base64) and builders. Pure: no I/O; imports only core/errors and the ts/ framing, fields and clock.
 */
export * from "./types.js";
export { decodeSpliceInfoSection, encodeSpliceInfoSection, type DecodeOptions } from "./section.js";
export { SUB_SEGMENT_TYPES } from "./splice-descriptors.js";

export { validateSpliceInfoSection, parseSpliceInfoSectionJson } from "./validate.js";
export { MAX_CUE_STRING_CHARS, MAX_SECTION_BYTES, parseCueString, toBase64, toHex } from "./bytes.js";
export { UPID_FIXED_LENGTH, UPID_NAMES, eidrText, iso7064Mod3736, upidLengthProblem, upidText } from "./upid.js";
export {
  DEFAULT_HEADER,
  availDescriptor,
  segmentationDescriptor,
  spliceInsert,
  spliceNull,
  timeSignal,
  type HeaderOptions,
  type SegmentationOptions,
  type SpliceInsertOptions,
} from "./builders.js";

import { decodeSpliceInfoSection } from "./section.js";
import { parseCueString } from "./bytes.js";
import type { SpliceInfoSection } from "./types.js";

/** parseCueString + decodeSpliceInfoSection. */
export function decodeCue(cue: string): SpliceInfoSection {
  return decodeSpliceInfoSection(parseCueString(cue));
}
