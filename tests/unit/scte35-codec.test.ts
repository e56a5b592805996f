import { describe, expect, it } from "vitest";
import { OnairError } from "../../src/core/errors.js";
import { crc32Mpeg2, writeCrc32 } from "../../src/ts/crc32.js";
import {
  decodeSpliceInfoSection,
  encodeSpliceInfoSection,
  parseCueString,
  segmentationDescriptor,
  spliceInsert,
  spliceNull,
  timeSignal,
  toHex,
  type ClearSpliceInfoSection,
  type ClearSpliceInfoSectionInput,
  type SegmentationDescriptor,
  type SpliceInfoSection,
  type SpliceInfoSectionInput,
} from "../../src/scte35/index.js";

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));

function roundTrip(input: SpliceInfoSectionInput): { bytes: Uint8Array; decoded: SpliceInfoSection } {
  const bytes = encodeSpliceInfoSection(input);
  const decoded = decodeSpliceInfoSection(bytes);
  expect(toHex(encodeSpliceInfoSection(JSON.parse(JSON.stringify(decoded))))).toBe(toHex(bytes));
  return { bytes, decoded };
}

function clear(s: SpliceInfoSection): ClearSpliceInfoSection {
  if (s.encryptedPacket) throw new Error("expected a clear section");
  return s;
}

/** Rewrites section_length and the CRC after a test edits a section's bytes. */
function reseal(bytes: Uint8Array): Uint8Array {
  const len = bytes.length - 3;
  bytes[1] = (bytes[1] & 0xf0) | (len >> 8);
  bytes[2] = len & 0xff;
  writeCrc32(bytes, 0, bytes.length - 4);
  return bytes;
}

function thrown(fn: () => unknown): OnairError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OnairError);
    return e as OnairError;
  }
  throw new Error("expected an OnairError");
}

const SI_14_2 = "/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=";

describe("splice_time and 33-bit fields", () => {
  it("writes a time_signal without time as 7F", () => {
    const { bytes, decoded } = roundTrip(timeSignal());
    expect(toHex(bytes.subarray(13, 15))).toBe("067f");
    expect(clear(decoded).spliceCommand).toEqual({ spliceTime: { timeSpecifiedFlag: false } });
  });

  it("carries pts_time and pts_adjustment at the top of the 33-bit range", () => {
    const max = 2 ** 33 - 1;
    const { bytes, decoded } = roundTrip(timeSignal({ ptsTime: max, header: { ptsAdjustment: max } }));
    expect(toHex(bytes.subarray(4, 9))).toBe("01ffffffff");
    expect(toHex(bytes.subarray(14, 19))).toBe("ffffffffff");
    expect(decoded.ptsAdjustment).toBe(max);
    expect(clear(decoded).spliceCommand).toMatchObject({ spliceTime: { ptsTime: max } });
  });

  it("carries a pts_time just above 2^32 (bit 32 set, low word small)", () => {
    const { decoded } = roundTrip(timeSignal({ ptsTime: 2 ** 32 + 5 }));
    expect(clear(decoded).spliceCommand).toMatchObject({ spliceTime: { ptsTime: 2 ** 32 + 5 } });
  });
});

describe("header fields", () => {
  it("carries sap_type, cw_index, tier, protocol_version and both indicators", () => {
    const { decoded } = roundTrip(
      spliceNull({
        header: { sapType: 1, cwIndex: 0x5a, tier: 0x123, protocolVersion: 7, sectionSyntaxIndicator: true, privateIndicator: true },
      }),
    );
    expect(decoded).toMatchObject({
      sapType: 1,
      cwIndex: 0x5a,
      tier: 0x123,
      protocolVersion: 7,
      sectionSyntaxIndicator: true,
      privateIndicator: true,
    });
  });
});

describe("splice_insert", () => {
  it("writes a cancel as id + FF and decodes it with nothing else", () => {
    const { bytes, decoded } = roundTrip(spliceInsert({ spliceEventId: 0x01020304, cancel: true }));
    expect(toHex(bytes.subarray(14, 19))).toBe("01020304ff");
    expect(clear(decoded).spliceCommand).toEqual({ spliceEventId: 0x01020304, spliceEventCancelIndicator: true });
    expect(decoded).toMatchObject({ spliceCommandLength: 5 });
  });

  it("carries component mode with a splice_time per component", () => {
    const { decoded } = roundTrip(
      spliceInsert({
        spliceEventId: 7,
        components: [
          { componentTag: 1, ptsTime: 1000 },
          { componentTag: 2, ptsTime: 2000 },
        ],
        breakDuration: 90000,
        autoReturn: false,
      }),
    );
    expect(clear(decoded).spliceCommand).toMatchObject({
      programSpliceFlag: false,
      spliceImmediateFlag: false,
      components: [
        { componentTag: 1, spliceTime: { timeSpecifiedFlag: true, ptsTime: 1000 } },
        { componentTag: 2, spliceTime: { timeSpecifiedFlag: true, ptsTime: 2000 } },
      ],
      breakDuration: { autoReturn: false, duration: 90000 },
    });
  });

  it("omits splice times in immediate component mode", () => {
    const { decoded } = roundTrip(spliceInsert({ spliceEventId: 7, components: [{ componentTag: 9 }] }));
    expect(clear(decoded).spliceCommand).toMatchObject({ spliceImmediateFlag: true, components: [{ componentTag: 9 }] });
  });

  it("carries event_id_compliance_flag = 0 and an immediate return", () => {
    const { bytes, decoded } = roundTrip(spliceInsert({ spliceEventId: 1, outOfNetworkIndicator: false, eventIdComplianceFlag: false }));
    // flags: out 0, program 1, duration 0, immediate 1, compliance 0, reserved 111
    expect(bytes[19]).toBe(0x57);
    expect(clear(decoded).spliceCommand).toMatchObject({
      outOfNetworkIndicator: false,
      spliceImmediateFlag: true,
      eventIdComplianceFlag: false,
    });
    expect(clear(decoded).spliceCommand).not.toHaveProperty("spliceTime");
  });
});

describe("other commands", () => {
  it("carries splice_schedule events in program and component mode, with a cancel", () => {
    const input: ClearSpliceInfoSectionInput = {
      ...spliceNull(),
      spliceCommandType: 0x04,
      spliceCommand: {
        events: [
          {
            spliceEventId: 1,
            spliceEventCancelIndicator: false,
            eventIdComplianceFlag: false,
            outOfNetworkIndicator: true,
            programSpliceFlag: true,
            durationFlag: true,
            utcSpliceTime: 1_400_000_000,
            breakDuration: { autoReturn: true, duration: 2_700_000 },
            uniqueProgramId: 3,
            availNum: 1,
            availsExpected: 2,
          },
          { spliceEventId: 2, spliceEventCancelIndicator: true, eventIdComplianceFlag: true },
          {
            spliceEventId: 3,
            spliceEventCancelIndicator: false,
            eventIdComplianceFlag: true,
            outOfNetworkIndicator: false,
            programSpliceFlag: false,
            durationFlag: false,
            components: [{ componentTag: 4, utcSpliceTime: 0xffffffff }],
            uniqueProgramId: 0,
            availNum: 0,
            availsExpected: 0,
          },
        ],
      },
    };
    const { decoded } = roundTrip(input);
    expect(clear(decoded).spliceCommand).toEqual(input.spliceCommand);
  });

  it("carries bandwidth_reservation and private_command", () => {
    const bw = roundTrip({ ...spliceNull(), spliceCommandType: 0x07, spliceCommand: {} });
    expect(bw.decoded).toMatchObject({ spliceCommandType: 7, spliceCommandLength: 0 });
    const pc = roundTrip({
      ...spliceNull(),
      spliceCommandType: 0xff,
      spliceCommand: { identifier: "0x00000001", privateBytes: "deadbeef" },
    });
    expect(pc.decoded).toMatchObject({
      spliceCommandLength: 8,
      spliceCommand: { identifier: "0x00000001", privateBytes: "deadbeef" },
    });
    const named = roundTrip({
      ...spliceNull(),
      spliceCommandType: 0xff,
      spliceCommand: { identifier: "ABCD", privateBytes: "" },
    });
    expect(toHex(named.bytes.subarray(14, 18))).toBe("41424344");
  });

  it("keeps a reserved command type as raw bytes", () => {
    const { decoded } = roundTrip({ ...spliceNull(), spliceCommandType: 0x02, spliceCommand: { raw: "0102" } });
    expect(decoded).toMatchObject({ spliceCommandType: 2, spliceCommand: { raw: "0102" }, spliceCommandLength: 2 });
  });

  it("decodes splice_command_length 0xFFF by parsing and re-encodes it as 0xFFF", () => {
    const bytes = encodeSpliceInfoSection({ ...timeSignal({ ptsTime: 90000 }), legacySpliceCommandLength: true });
    expect(toHex(bytes.subarray(11, 13))).toBe("ffff");
    const decoded = decodeSpliceInfoSection(bytes);
    expect(decoded).toMatchObject({ legacySpliceCommandLength: true, spliceCommandLength: 0xfff, descriptorLoopLength: 0 });
    expect(toHex(encodeSpliceInfoSection(decoded))).toBe(toHex(bytes));
  });

  it("keeps bytes the command length covers beyond the syntax", () => {
    const bytes = encodeSpliceInfoSection({ ...spliceNull(), spliceCommandType: 0x00, spliceCommand: { trailingBytes: "abcd" } });
    const decoded = decodeSpliceInfoSection(bytes);
    expect(decoded).toMatchObject({ spliceCommandLength: 2, spliceCommand: { trailingBytes: "abcd" } });
    expect(toHex(encodeSpliceInfoSection(decoded))).toBe(toHex(bytes));
  });
});

describe("encrypted sections", () => {
  it("keeps the encrypted part and E_CRC_32 as they are and re-encodes them unchanged", () => {
    // header: encrypted 1, algorithm 2 (DES-CBC), cw_index 3, command length 5; then 8 opaque bytes + E_CRC_32
    const bytes = reseal(hex("fc 30 00 00 84 00 00 00 00 03 ff f0 05  0102030405060708  11223344  00000000"));
    const decoded = decodeSpliceInfoSection(bytes);
    expect(decoded).toMatchObject({
      encryptedPacket: true,
      encryptionAlgorithm: 2,
      cwIndex: 3,
      spliceCommandLength: 5,
      encryptedData: "0102030405060708",
      eCrc32: "0x11223344",
    });
    expect(decoded).not.toHaveProperty("spliceCommand");
    expect(toHex(encodeSpliceInfoSection(JSON.parse(JSON.stringify(decoded))))).toBe(toHex(bytes));
  });
});

describe("descriptors", () => {
  it("carries DTMF, time (48-bit TAI seconds) and avail descriptors", () => {
    const input = timeSignal({
      ptsTime: 1,
      descriptors: [
        { spliceDescriptorTag: 1, identifier: "CUEI", preroll: 50, dtmfChars: "123*#" },
        { spliceDescriptorTag: 3, identifier: "CUEI", taiSeconds: 2 ** 48 - 1, taiNs: 999_999_999, utcOffset: 37 },
        { spliceDescriptorTag: 0, identifier: "CUEI", providerAvailId: 0xffffffff },
      ],
    });
    const { bytes, decoded } = roundTrip(input);
    expect(clear(decoded).descriptors).toEqual(input.descriptors);
    // DTMF: tag 01, length 4+2+5, CUEI, preroll 0x32, count 5 << 5 | 0x1f
    expect(toHex(bytes).includes("010b43554549" + "32bf" + "3132332a23")).toBe(true);
    // time descriptor length 0x10
    expect(toHex(bytes).includes("031043554549ffffffffffff")).toBe(true);
  });

  it("keeps unknown descriptors (other tag or identifier) as raw bytes", () => {
    const input = spliceNull({
      descriptors: [
        { spliceDescriptorTag: 0x04, identifier: "CUEI", raw: "0102" },
        { spliceDescriptorTag: 0x00, identifier: "ABCD", raw: "" },
        { spliceDescriptorTag: 0xf0, identifier: "0x00ff00ff", raw: "ffeeddccbbaa" },
      ],
    });
    const { decoded } = roundTrip(input);
    expect(clear(decoded).descriptors).toEqual(input.descriptors);
  });

  it("keeps bytes a known descriptor's length covers beyond its syntax", () => {
    const input = spliceNull({
      descriptors: [{ spliceDescriptorTag: 0, identifier: "CUEI", providerAvailId: 1, trailingBytes: "00ff" }],
    });
    const { bytes, decoded } = roundTrip(input);
    expect(bytes[17]).toBe(10); // descriptor_length = 4 + 4 + 2
    expect(clear(decoded).descriptors).toEqual(input.descriptors);
  });
});

describe("segmentation_descriptor", () => {
  const seg = (d: SegmentationDescriptor): { bytes: Uint8Array; d: SegmentationDescriptor } => {
    const { bytes, decoded } = roundTrip(timeSignal({ ptsTime: 0, descriptors: [d] }));
    return { bytes, d: clear(decoded).descriptors[0] as SegmentationDescriptor };
  };

  it("writes a cancel as id + FF and nothing else", () => {
    const { bytes, d } = seg(segmentationDescriptor({ segmentationEventId: 5, cancel: true }));
    expect(toHex(bytes.subarray(21, 32))).toBe("02094355454900000005ff");
    expect(d).toEqual({
      spliceDescriptorTag: 2,
      identifier: "CUEI",
      segmentationEventId: 5,
      segmentationEventCancelIndicator: true,
      segmentationEventIdComplianceIndicator: true,
    });
  });

  it("carries the component loop with 33-bit pts_offsets", () => {
    const components = [
      { componentTag: 0x10, ptsOffset: 2 ** 33 - 1 },
      { componentTag: 0x11, ptsOffset: 0 },
    ];
    const { d } = seg(segmentationDescriptor({ segmentationEventId: 1, segmentationTypeId: 0x30, components }));
    expect(d).toMatchObject({ programSegmentationFlag: false, components });
  });

  it("carries a 40-bit segmentation_duration", () => {
    const { d } = seg(segmentationDescriptor({ segmentationEventId: 1, segmentationTypeId: 0x22, segmentationDuration: 2 ** 40 - 1 }));
    expect(d.segmentationDuration).toBe(2 ** 40 - 1);
  });

  it("carries sub-segment fields when present and leaves them out when absent", () => {
    const withSub = seg(
      segmentationDescriptor({
        segmentationEventId: 1,
        segmentationTypeId: 0x34,
        segmentNum: 1,
        segmentsExpected: 2,
        subSegmentNum: 3,
        subSegmentsExpected: 4,
      }),
    );
    expect(withSub.d).toMatchObject({ subSegmentNum: 3, subSegmentsExpected: 4 });
    const without = seg(segmentationDescriptor({ segmentationEventId: 1, segmentationTypeId: 0x34 }));
    expect(without.d).not.toHaveProperty("subSegmentNum");
    expect(without.bytes.length).toBe(withSub.bytes.length - 2);
  });

  it("reads two bytes after a non-sub-segment type as trailing bytes, not sub-segments", () => {
    const { d } = seg({ ...segmentationDescriptor({ segmentationEventId: 1, segmentationTypeId: 0x22 }), trailingBytes: "0102" });
    expect(d).not.toHaveProperty("subSegmentNum");
    expect(d.trailingBytes).toBe("0102");
  });

  it("decodes a MID UPID as a list with readable text for text UPIDs", () => {
    const adId = Buffer.from("ABCD0123456H", "ascii").toString("hex");
    const uri = Buffer.from("urn:x:1", "ascii").toString("hex");
    const { d } = seg(
      segmentationDescriptor({
        segmentationEventId: 1,
        segmentationTypeId: 0x10,
        upidType: 0x0d,
        upid: [
          { segmentationUpidType: 0x03, segmentationUpid: adId },
          { segmentationUpidType: 0x0f, segmentationUpid: uri },
          { segmentationUpidType: 0x08, segmentationUpid: "000000002ca0a18a" },
        ],
      }),
    );
    expect(d.segmentationUpid).toEqual([
      { segmentationUpidType: 3, segmentationUpid: adId, segmentationUpidText: "ABCD0123456H" },
      { segmentationUpidType: 15, segmentationUpid: uri, segmentationUpidText: "urn:x:1" },
      { segmentationUpidType: 8, segmentationUpid: "000000002ca0a18a" },
    ]);
  });

  it("renders an EIDR UPID as its DOI with the ISO 7064 check character", () => {
    // Ghostbusters: 10.5240/7EC7-228A-510A-053E-CBB8-J (5240 = 0x1478)
    const { d } = seg(
      segmentationDescriptor({ segmentationEventId: 1, segmentationTypeId: 0x10, upidType: 0x0a, upid: "14787ec7228a510a053ecbb8" }),
    );
    expect(d.segmentationUpidText).toBe("10.5240/7EC7-228A-510A-053E-CBB8-J");
  });

  it("renders URI and ATSC content_id UPIDs as text and ignores the text on encode", () => {
    const uri = Buffer.from("urn:uuid:f81d4fae", "ascii").toString("hex");
    const { d } = seg(segmentationDescriptor({ segmentationEventId: 1, upidType: 0x0f, upid: uri }));
    expect(d.segmentationUpidText).toBe("urn:uuid:f81d4fae");
    const atsc = `00f1ffff${Buffer.from("human012", "ascii").toString("hex")}`;
    const a = seg(segmentationDescriptor({ segmentationEventId: 1, upidType: 0x0b, upid: atsc }));
    expect(a.d.segmentationUpidText).toBe("human012");
    const edited = encodeSpliceInfoSection(timeSignal({ ptsTime: 0, descriptors: [{ ...d, segmentationUpidText: "ignored" }] }));
    expect(toHex(edited)).toBe(toHex(encodeSpliceInfoSection(timeSignal({ ptsTime: 0, descriptors: [d] }))));
  });

  it("writes restriction flags and 5 reserved 1-bits when delivery is not restricted", () => {
    const unrestricted = seg(segmentationDescriptor({ segmentationEventId: 1, segmentationTypeId: 0x10 }));
    expect(unrestricted.bytes[32]).toBe(0xbf); // program, no duration, not restricted
    const restricted = seg(
      segmentationDescriptor({
        segmentationEventId: 1,
        segmentationTypeId: 0x10,
        restrictions: { webDeliveryAllowed: true, noRegionalBlackout: false, archiveAllowed: true, deviceRestrictions: 1 },
      }),
    );
    expect(restricted.bytes[32]).toBe(0x95);
    expect(restricted.d).toMatchObject({
      webDeliveryAllowedFlag: true,
      noRegionalBlackoutFlag: false,
      archiveAllowedFlag: true,
      deviceRestrictions: 1,
    });
  });
});

describe("decode errors", () => {
  const good = parseCueString(SI_14_2);

  it("names the table_id when it is not 0xFC", () => {
    const bytes = good.slice();
    bytes[0] = 0x02;
    const e = thrown(() => decodeSpliceInfoSection(bytes));
    expect(e.code).toBe("ONAIR_SCTE35_BAD_TABLE_ID");
    expect(e.message).toContain("0x02");
  });

  it("says where a truncated section ends", () => {
    const e = thrown(() => decodeSpliceInfoSection(good.subarray(0, 17)));
    expect(e.code).toBe("ONAIR_SCTE35_TRUNCATED");
    expect(e.message).toContain("section truncated at byte 17");
    expect(e.fields).toMatchObject({ offset: 17, field: "section_length" });
  });

  it("gives both CRC values on a mismatch", () => {
    const bytes = good.slice();
    bytes[20] ^= 0x01;
    const e = thrown(() => decodeSpliceInfoSection(bytes));
    expect(e.code).toBe("ONAIR_SCTE35_CRC");
    expect(e.message).toContain("CRC mismatch");
    expect(e.fields).toEqual({ stored: "0x62dba30a", computed: `0x${crc32Mpeg2(bytes, 0, 46).toString(16).padStart(8, "0")}` });
  });

  it("decodes despite a bad CRC when asked not to verify it", () => {
    const bytes = good.slice();
    bytes[bytes.length - 1] ^= 0xff;
    expect(decodeSpliceInfoSection(bytes, { verifyCrc: false })).toMatchObject({ spliceCommandType: 5 });
  });

  it("names the field and offset when a length inside the section overruns it", () => {
    // descriptor_loop_length 10 → 11 with the CRC still right
    const bytes = good.slice();
    bytes[35] = 11;
    writeCrc32(bytes, 0, bytes.length - 4);
    const e = thrown(() => decodeSpliceInfoSection(bytes));
    expect(e.code).toBe("ONAIR_SCTE35_TRUNCATED");
    expect(e.fields).toMatchObject({ field: "splice_descriptor loop", offset: 36 });
    expect(e.message).toContain("truncated at byte 36");
  });

  it("ignores bytes after the section (TS stuffing)", () => {
    const padded = new Uint8Array(good.length + 3).fill(0xff);
    padded.set(good);
    expect(toHex(encodeSpliceInfoSection(decodeSpliceInfoSection(padded)))).toBe(toHex(good));
  });
});
