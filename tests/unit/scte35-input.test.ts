import { describe, expect, it } from "vitest";
import { OnairError } from "../../src/core/errors.js";
import {
  decodeSpliceInfoSection,
  encodeSpliceInfoSection,
  parseCueString,
  parseSpliceInfoSectionJson,
  segmentationDescriptor,
  spliceInsert,
  spliceNull,
  timeSignal,
  toHex,
  validateSpliceInfoSection,
} from "../../src/scte35/index.js";
import { SPLICE_INSERT_14_2_JSON } from "../golden/scte35-vectors.js";

const NULL_HEX = "fc301100000000000000fff0000000007a4fbfff";
const NULL_B64 = "/DARAAAAAAAAAP/wAAAAAHpPv/8=";

function thrown(fn: () => unknown): OnairError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OnairError);
    return e as OnairError;
  }
  throw new Error("expected an OnairError");
}

describe("cue strings: hex or base64", () => {
  it("reads hex after a 0x prefix, in either case", () => {
    expect(toHex(parseCueString(`0x${NULL_HEX}`))).toBe(NULL_HEX);
    expect(toHex(parseCueString(`0X${NULL_HEX.toUpperCase()}`))).toBe(NULL_HEX);
  });

  it("reads bare hex that starts with fc or FC", () => {
    expect(toHex(parseCueString(NULL_HEX))).toBe(NULL_HEX);
    expect(toHex(parseCueString(NULL_HEX.toUpperCase()))).toBe(NULL_HEX);
  });

  it("drops whitespace, so spaced hex dumps and wrapped base64 work", () => {
    expect(toHex(parseCueString("FC 30 11 00 00 00 00 00 00 00 FF F0 00 00 00 00 7A 4F BF FF"))).toBe(NULL_HEX);
    expect(toHex(parseCueString(`  ${NULL_B64.slice(0, 10)}\n${NULL_B64.slice(10)}\n`))).toBe(NULL_HEX);
  });

  it("reads everything else as base64, standard or URL-safe, padded or not", () => {
    expect(toHex(parseCueString(NULL_B64))).toBe(NULL_HEX);
    expect(toHex(parseCueString(NULL_B64.replace(/=+$/, "")))).toBe(NULL_HEX);
    expect(toHex(parseCueString(NULL_B64.replace(/\//g, "_").replace(/\+/g, "-")))).toBe(NULL_HEX);
  });

  it("treats hex digits that do not start with fc as base64", () => {
    expect(toHex(parseCueString("abcd"))).toBe("69b71d");
  });

  it("refuses strings that are neither, with ONAIR_SCTE35_BAD_INPUT", () => {
    for (const bad of ["", "   ", "0xzz", "0xabc", "fc3", "not base64!", "abc=d"]) {
      expect(thrown(() => parseCueString(bad)).code).toBe("ONAIR_SCTE35_BAD_INPUT");
    }
    expect(thrown(() => parseCueString("0xabc")).message).toContain("odd number of hex digits");
  });

  it("refuses a 5 MB cue string with ONAIR_SCTE35_TOO_LARGE, in every form, before any pattern runs", () => {
    const mb5 = 5 * 1024 * 1024;
    for (const big of ["A".repeat(mb5), `0x${"fc".repeat(mb5 / 2)}`, "fc".repeat(mb5 / 2), " ".repeat(mb5)]) {
      const e = thrown(() => parseCueString(big));
      expect(e.code).toBe("ONAIR_SCTE35_TOO_LARGE");
      expect(e.message).toBe(
        `cue string too long (${big.length} characters): a splice_info_section is at most 4096 bytes (8192 hex digits, 5464 base64 characters)`,
      );
    }
  });

  it("reads a cue of the largest section size (4096 bytes) and refuses one byte more", () => {
    const max = Buffer.alloc(4096, 0xab);
    max[0] = 0xfc;
    expect(parseCueString(max.toString("base64")).length).toBe(4096);
    expect(parseCueString(max.toString("base64url")).length).toBe(4096);
    expect(parseCueString(max.toString("hex")).length).toBe(4096);
    expect(parseCueString(`0x${max.toString("hex")}`).length).toBe(4096);
    // a spaced hex dump, 16 bytes a line, fits the whitespace allowance
    const dump = max
      .toString("hex")
      .replace(/(..)/g, "$1 ")
      .replace(/((?:.. ){16})/g, "$1\r\n");
    expect(parseCueString(dump).length).toBe(4096);
    const over = Buffer.concat([max, Buffer.of(0)]);
    expect(thrown(() => parseCueString(over.toString("base64"))).code).toBe("ONAIR_SCTE35_TOO_LARGE");
    expect(thrown(() => parseCueString(over.toString("hex"))).message).toContain("(8194 hex digits)");
    expect(thrown(() => parseCueString(`0x${over.toString("hex")}`)).code).toBe("ONAIR_SCTE35_TOO_LARGE");
  });
});

describe("JSON validation on encode", () => {
  it("names the path and range of an out-of-range pts_time", () => {
    const e = thrown(() => encodeSpliceInfoSection(timeSignal({ ptsTime: 2 ** 33 })));
    expect(e.code).toBe("ONAIR_SCTE35_BAD_FIELD");
    expect(e.message).toBe("spliceCommand.spliceTime.ptsTime: must be an integer 0..8589934591");
  });

  it("refuses non-integers and wrong types", () => {
    expect(thrown(() => encodeSpliceInfoSection({ ...spliceNull(), tier: 1.5 })).message).toBe("tier: must be an integer 0..4095");
    expect(thrown(() => validateSpliceInfoSection({ ...spliceNull(), privateIndicator: "no" })).message).toBe(
      "privateIndicator: must be true or false",
    );
    expect(thrown(() => validateSpliceInfoSection({ ...spliceNull(), tableId: 0x02 })).message).toBe("tableId: must be 252 (0xfc)");
  });

  it("refuses a fixed-length UPID of the wrong length, naming the type", () => {
    const cue = timeSignal({
      ptsTime: 0,
      descriptors: [segmentationDescriptor({ segmentationEventId: 1, upidType: 0x03, upid: "41424344" })],
    });
    const e = thrown(() => encodeSpliceInfoSection(cue));
    expect(e.code).toBe("ONAIR_SCTE35_BAD_FIELD");
    expect(e.message).toBe("descriptors[0].segmentationUpid: UPID type 0x03 (Ad-ID) must be 12 bytes, got 4");
  });

  it("refuses a zero-length user-defined UPID and checks MID entries too", () => {
    const userDefined = timeSignal({ descriptors: [segmentationDescriptor({ segmentationEventId: 1, upidType: 0x01, upid: "" })] });
    expect(thrown(() => encodeSpliceInfoSection(userDefined)).message).toContain("needs at least 1 byte");
    const mid = timeSignal({
      descriptors: [
        segmentationDescriptor({ segmentationEventId: 1, upidType: 0x0d, upid: [{ segmentationUpidType: 0x10, segmentationUpid: "00" }] }),
      ],
    });
    expect(thrown(() => encodeSpliceInfoSection(mid)).message).toMatch(/^descriptors\[0\]\.segmentationUpid\[0\]\.segmentationUpid: /);
  });

  it("refuses unknown fields, so a typo is not dropped silently", () => {
    const e = thrown(() =>
      validateSpliceInfoSection({
        ...SPLICE_INSERT_14_2_JSON,
        spliceCommand: { ...SPLICE_INSERT_14_2_JSON.spliceCommand, availNumber: 1 },
      }),
    );
    expect(e.message).toBe("spliceCommand.availNumber: unexpected field here");
  });

  it("refuses fields the flags say are absent, and requires the ones they say are present", () => {
    const immediateWithTime = { ...spliceInsert({ spliceEventId: 1 }) };
    (immediateWithTime.spliceCommand as Record<string, unknown>).spliceTime = { timeSpecifiedFlag: true, ptsTime: 1 };
    expect(thrown(() => encodeSpliceInfoSection(immediateWithTime)).message).toBe("spliceCommand.spliceTime: unexpected field here");
    const missing = spliceInsert({ spliceEventId: 1, ptsTime: 5, breakDuration: 10 });
    delete (missing.spliceCommand as Record<string, unknown>).breakDuration;
    expect(thrown(() => encodeSpliceInfoSection(missing)).message).toBe("spliceCommand.breakDuration: required when durationFlag is true");
  });

  it("allows sub-segments only on the types that define them", () => {
    const d = segmentationDescriptor({ segmentationEventId: 1, segmentationTypeId: 0x22, subSegmentNum: 1, subSegmentsExpected: 2 });
    expect(thrown(() => encodeSpliceInfoSection(timeSignal({ descriptors: [d] }))).message).toContain(
      "descriptors[0].subSegmentNum: sub-segments exist only for segmentationTypeId",
    );
  });

  it("refuses a section larger than 4096 bytes", () => {
    const big = spliceNull({
      descriptors: Array.from({ length: 20 }, () => ({ spliceDescriptorTag: 0xf0, identifier: "TEST", raw: "00".repeat(250) })),
    });
    const e = thrown(() => encodeSpliceInfoSection(big));
    expect(e.code).toBe("ONAIR_SCTE35_BAD_FIELD");
    expect(e.message).toContain("at most 4096");
  });

  it("refuses a descriptor longer than 255 bytes", () => {
    const cue = spliceNull({ descriptors: [{ spliceDescriptorTag: 0xf0, identifier: "TEST", raw: "00".repeat(252) }] });
    expect(thrown(() => encodeSpliceInfoSection(cue)).message).toBe("descriptors[0]: 256 bytes, descriptor_length allows 255");
  });

  it("accepts the decoder's own output, lengths, CRC and UPID text included", () => {
    const decoded = decodeSpliceInfoSection(parseCueString("/DAvAAAAAAAA///wBQb+dGKQoAAZAhdDVUVJSAAAjn+fCAgAAAAALKChijUCAKnMZ1g="));
    expect(() => validateSpliceInfoSection(JSON.parse(JSON.stringify(decoded)))).not.toThrow();
  });

  it("reports text that is not JSON as ONAIR_SCTE35_BAD_INPUT", () => {
    expect(thrown(() => parseSpliceInfoSectionJson("{tableId:")).code).toBe("ONAIR_SCTE35_BAD_INPUT");
  });
});
