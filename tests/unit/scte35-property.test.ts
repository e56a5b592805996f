import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OnairError } from "../../src/core/errors.js";
import { writeCrc32 } from "../../src/ts/crc32.js";
import { identifierToString } from "../../src/scte35/bytes.js";
import {
  SUB_SEGMENT_TYPES,
  UPID_FIXED_LENGTH,
  decodeSpliceInfoSection,
  encodeSpliceInfoSection,
  toHex,
  type BreakDuration,
  type MidUpidEntry,
  type SegmentationDescriptor,
  type SpliceCommandPart,
  type SpliceDescriptor,
  type SpliceInfoSectionInput,
  type SpliceInsert,
  type SpliceScheduleEvent,
  type SpliceTime,
} from "../../src/scte35/index.js";

const RUNS = 300;
const MAX33 = 2 ** 33 - 1;

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u33 = fc.oneof(fc.integer({ min: 0, max: MAX33 }), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, MAX33));
const hexBytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max }).map((b) => toHex(b));
const printableHex = (min: number, max: number) =>
  fc
    .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: min, maxLength: max })
    .map((s) => Buffer.from(s, "latin1").toString("hex"));

const spliceTime: fc.Arbitrary<SpliceTime> = fc.oneof(
  fc.constant({ timeSpecifiedFlag: false }),
  u33.map((ptsTime) => ({ timeSpecifiedFlag: true, ptsTime })),
);
const breakDuration: fc.Arbitrary<BreakDuration> = fc.record({ autoReturn: fc.boolean(), duration: u33 });

const spliceInsert: fc.Arbitrary<SpliceInsert> = fc.oneof(
  u32.map((spliceEventId) => ({ spliceEventId, spliceEventCancelIndicator: true })),
  fc
    .record({
      spliceEventId: u32,
      outOfNetworkIndicator: fc.boolean(),
      programSpliceFlag: fc.boolean(),
      spliceImmediateFlag: fc.boolean(),
      eventIdComplianceFlag: fc.boolean(),
      spliceTime,
      components: fc.array(fc.record({ componentTag: u8, spliceTime }), { maxLength: 4 }),
      breakDuration: fc.option(breakDuration, { nil: undefined }),
      uniqueProgramId: u16,
      availNum: u8,
      availsExpected: u8,
    })
    .map((r) => {
      const c: SpliceInsert = {
        spliceEventId: r.spliceEventId,
        spliceEventCancelIndicator: false,
        outOfNetworkIndicator: r.outOfNetworkIndicator,
        programSpliceFlag: r.programSpliceFlag,
        durationFlag: r.breakDuration !== undefined,
        spliceImmediateFlag: r.spliceImmediateFlag,
        eventIdComplianceFlag: r.eventIdComplianceFlag,
      };
      if (r.programSpliceFlag && !r.spliceImmediateFlag) c.spliceTime = r.spliceTime;
      if (!r.programSpliceFlag) {
        c.components = r.components.map((x) => (r.spliceImmediateFlag ? { componentTag: x.componentTag } : x));
      }
      if (r.breakDuration) c.breakDuration = r.breakDuration;
      c.uniqueProgramId = r.uniqueProgramId;
      c.availNum = r.availNum;
      c.availsExpected = r.availsExpected;
      return c;
    }),
);

const scheduleEvent: fc.Arbitrary<SpliceScheduleEvent> = fc.oneof(
  fc.record({ spliceEventId: u32, spliceEventCancelIndicator: fc.constant(true), eventIdComplianceFlag: fc.boolean() }),
  fc
    .record({
      spliceEventId: u32,
      eventIdComplianceFlag: fc.boolean(),
      outOfNetworkIndicator: fc.boolean(),
      programSpliceFlag: fc.boolean(),
      utcSpliceTime: u32,
      components: fc.array(fc.record({ componentTag: u8, utcSpliceTime: u32 }), { maxLength: 3 }),
      breakDuration: fc.option(breakDuration, { nil: undefined }),
      uniqueProgramId: u16,
      availNum: u8,
      availsExpected: u8,
    })
    .map((r) => {
      const e: SpliceScheduleEvent = {
        spliceEventId: r.spliceEventId,
        spliceEventCancelIndicator: false,
        eventIdComplianceFlag: r.eventIdComplianceFlag,
        outOfNetworkIndicator: r.outOfNetworkIndicator,
        programSpliceFlag: r.programSpliceFlag,
        durationFlag: r.breakDuration !== undefined,
      };
      if (r.programSpliceFlag) e.utcSpliceTime = r.utcSpliceTime;
      else e.components = r.components;
      if (r.breakDuration) e.breakDuration = r.breakDuration;
      e.uniqueProgramId = r.uniqueProgramId;
      e.availNum = r.availNum;
      e.availsExpected = r.availsExpected;
      return e;
    }),
);

const command: fc.Arbitrary<SpliceCommandPart> = fc.oneof(
  fc.constant({ spliceCommandType: 0x00 as const, spliceCommand: {} }),
  fc.constant({ spliceCommandType: 0x07 as const, spliceCommand: {} }),
  fc.array(scheduleEvent, { maxLength: 3 }).map((events) => ({ spliceCommandType: 0x04 as const, spliceCommand: { events } })),
  spliceInsert.map((c) => ({ spliceCommandType: 0x05 as const, spliceCommand: c })),
  spliceTime.map((t) => ({ spliceCommandType: 0x06 as const, spliceCommand: { spliceTime: t } })),
  fc
    .record({ id: u32, bytes: hexBytes(0, 20) })
    .map((r) => ({ spliceCommandType: 0xff as const, spliceCommand: { identifier: identifierToString(r.id), privateBytes: r.bytes } })),
  fc
    .record({ type: fc.constantFrom(0x01, 0x02, 0x03, 0x08, 0x80, 0xfe), raw: hexBytes(0, 12) })
    .map((r) => ({ spliceCommandType: r.type, spliceCommand: { raw: r.raw } })),
);

/** A UPID of a given type with a length its rules allow. */
function upidOf(type: number): fc.Arbitrary<string> {
  const fixed = UPID_FIXED_LENGTH[type];
  if (fixed !== undefined) return fc.oneof(hexBytes(fixed, fixed), printableHex(fixed, fixed));
  if (type === 0x0b || type === 0x0c) return hexBytes(4, 24);
  if (type === 0x01) return fc.oneof(hexBytes(1, 24), printableHex(1, 24));
  return fc.oneof(hexBytes(0, 24), printableHex(0, 24));
}
const upidType = fc.oneof(fc.integer({ min: 0x00, max: 0x11 }), fc.integer({ min: 0x12, max: 0xff }));
const midEntry: fc.Arbitrary<MidUpidEntry> = upidType
  .filter((t) => t !== 0x0d)
  .chain((t) => upidOf(t).map((u) => ({ segmentationUpidType: t, segmentationUpid: u })));

const segmentation: fc.Arbitrary<SegmentationDescriptor> = fc.oneof(
  fc.record({ id: u32, compliance: fc.boolean() }).map((r): SegmentationDescriptor => ({
    spliceDescriptorTag: 0x02,
    identifier: "CUEI",
    segmentationEventId: r.id,
    segmentationEventCancelIndicator: true,
    segmentationEventIdComplianceIndicator: r.compliance,
  })),
  fc
    .record({
      id: u32,
      compliance: fc.boolean(),
      program: fc.boolean(),
      notRestricted: fc.boolean(),
      flags: fc.tuple(fc.boolean(), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 3 })),
      components: fc.array(fc.record({ componentTag: u8, ptsOffset: u33 }), { maxLength: 5 }),
      duration: fc.option(fc.oneof(fc.integer({ min: 0, max: 2 ** 40 - 1 }), fc.constant(2 ** 40 - 1)), { nil: undefined }),
      upid: fc.oneof(
        upidType.filter((t) => t !== 0x0d).chain((t) => upidOf(t).map((u) => ({ type: t, value: u }))),
        fc.array(midEntry, { maxLength: 3 }).map((l) => ({ type: 0x0d, value: l })),
      ),
      typeId: fc.oneof(fc.constantFrom(...SUB_SEGMENT_TYPES), u8),
      segmentNum: u8,
      segmentsExpected: u8,
      sub: fc.option(fc.tuple(u8, u8), { nil: undefined }),
    })
    .map((r) => {
      const d: SegmentationDescriptor = {
        spliceDescriptorTag: 0x02,
        identifier: "CUEI",
        segmentationEventId: r.id,
        segmentationEventCancelIndicator: false,
        segmentationEventIdComplianceIndicator: r.compliance,
        programSegmentationFlag: r.program,
        segmentationDurationFlag: r.duration !== undefined,
        deliveryNotRestrictedFlag: r.notRestricted,
      };
      if (!r.notRestricted) {
        [d.webDeliveryAllowedFlag, d.noRegionalBlackoutFlag, d.archiveAllowedFlag, d.deviceRestrictions] = r.flags;
      }
      if (!r.program) d.components = r.components;
      if (r.duration !== undefined) d.segmentationDuration = r.duration;
      d.segmentationUpidType = r.upid.type;
      d.segmentationUpid = r.upid.value;
      d.segmentationTypeId = r.typeId;
      d.segmentNum = r.segmentNum;
      d.segmentsExpected = r.segmentsExpected;
      if (r.sub && SUB_SEGMENT_TYPES.has(r.typeId)) [d.subSegmentNum, d.subSegmentsExpected] = r.sub;
      return d;
    }),
);

const descriptor: fc.Arbitrary<SpliceDescriptor> = fc.oneof(
  u32.map((providerAvailId): SpliceDescriptor => ({ spliceDescriptorTag: 0x00, identifier: "CUEI", providerAvailId })),
  fc
    .record({ preroll: u8, chars: fc.string({ unit: fc.constantFrom(..."0123456789*#"), maxLength: 7 }) })
    .map((r): SpliceDescriptor => ({ spliceDescriptorTag: 0x01, identifier: "CUEI", preroll: r.preroll, dtmfChars: r.chars })),
  segmentation,
  fc
    .record({ s: fc.integer({ min: 0, max: 2 ** 48 - 1 }), ns: u32, off: u16 })
    .map((r): SpliceDescriptor => ({ spliceDescriptorTag: 0x03, identifier: "CUEI", taiSeconds: r.s, taiNs: r.ns, utcOffset: r.off })),
  fc
    .record({ tag: u8, id: u32, raw: hexBytes(0, 30) })
    .filter((r) => r.tag > 0x03 || r.id !== 0x43554549)
    .map((r): SpliceDescriptor => ({ spliceDescriptorTag: r.tag, identifier: identifierToString(r.id), raw: r.raw })),
);

const section: fc.Arbitrary<SpliceInfoSectionInput> = fc
  .record({
    sectionSyntaxIndicator: fc.boolean(),
    privateIndicator: fc.boolean(),
    sapType: fc.integer({ min: 0, max: 3 }),
    protocolVersion: u8,
    encryptionAlgorithm: fc.integer({ min: 0, max: 63 }),
    ptsAdjustment: u33,
    cwIndex: u8,
    tier: fc.integer({ min: 0, max: 0xfff }),
    command,
    descriptors: fc.array(descriptor, { maxLength: 4 }),
    legacy: fc.boolean(),
  })
  .map(({ command: cmd, legacy, ...h }) => ({
    tableId: 0xfc as const,
    ...h,
    encryptedPacket: false as const,
    ...cmd,
    descriptors: h.descriptors,
    ...(legacy && [0x00, 0x04, 0x05, 0x06, 0x07].includes(cmd.spliceCommandType) ? { legacySpliceCommandLength: true as const } : {}),
  }));

const encrypted: fc.Arbitrary<SpliceInfoSectionInput> = fc.record({
  tableId: fc.constant(0xfc as const),
  sectionSyntaxIndicator: fc.boolean(),
  privateIndicator: fc.boolean(),
  sapType: fc.integer({ min: 0, max: 3 }),
  protocolVersion: u8,
  encryptedPacket: fc.constant(true as const),
  encryptionAlgorithm: fc.integer({ min: 0, max: 63 }),
  ptsAdjustment: u33,
  cwIndex: u8,
  tier: fc.integer({ min: 0, max: 0xfff }),
  spliceCommandLength: fc.integer({ min: 0, max: 0xfff }),
  encryptedData: hexBytes(1, 64),
  eCrc32: u32.map((v) => `0x${v.toString(16).padStart(8, "0")}`),
});

function expectOnairError(fn: () => unknown, codes?: string[]): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof OnairError)) throw e;
    if (codes) expect(codes).toContain(e.code);
  }
}

describe("SCTE-35 codec properties", () => {
  it("encode → decode → encode is byte-exact for any valid section, and decode gives the input back", () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 6, arbitrary: section }, { weight: 1, arbitrary: encrypted }), (s) => {
        const bytes = encodeSpliceInfoSection(s);
        const decoded = decodeSpliceInfoSection(bytes);
        expect(decoded).toMatchObject(s);
        expect(toHex(encodeSpliceInfoSection(decoded))).toBe(toHex(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it("decode → JSON text → encode gives the same bytes", () => {
    fc.assert(
      fc.property(section, (s) => {
        const bytes = encodeSpliceInfoSection(s);
        const json = JSON.stringify(decodeSpliceInfoSection(bytes));
        expect(toHex(encodeSpliceInfoSection(JSON.parse(json)))).toBe(toHex(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it("any truncation of a valid section throws ONAIR_SCTE35_TRUNCATED or CRC", () => {
    fc.assert(
      fc.property(section, fc.nat(), (s, n) => {
        const bytes = encodeSpliceInfoSection(s);
        const cut = n % bytes.length;
        let error: unknown;
        try {
          decodeSpliceInfoSection(bytes.subarray(0, cut));
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(OnairError);
        expect(["ONAIR_SCTE35_TRUNCATED", "ONAIR_SCTE35_CRC"]).toContain((error as OnairError).code);
      }),
      { numRuns: RUNS },
    );
  });

  it("a corrupted byte is caught (CRC, table_id or length), never decoded silently", () => {
    fc.assert(
      fc.property(section, fc.nat(), fc.integer({ min: 1, max: 255 }), (s, at, x) => {
        const bytes = encodeSpliceInfoSection(s).slice();
        bytes[at % bytes.length] ^= x;
        let error: unknown;
        try {
          decodeSpliceInfoSection(bytes);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(OnairError);
        expect(["ONAIR_SCTE35_CRC", "ONAIR_SCTE35_BAD_TABLE_ID", "ONAIR_SCTE35_TRUNCATED"]).toContain((error as OnairError).code);
      }),
      { numRuns: RUNS },
    );
  });

  it("random bytes never throw anything but an OnairError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        expectOnairError(() => decodeSpliceInfoSection(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it("random commands and descriptors inside a valid frame and CRC decode or fail with an OnairError, and re-encode stably", () => {
    const randomDescriptor = fc
      .record({ tag: fc.oneof(fc.integer({ min: 0, max: 3 }), u8), cuei: fc.boolean(), body: fc.uint8Array({ maxLength: 40 }) })
      .map(({ tag, cuei, body }) => [tag, body.length + 4, ...(cuei ? [0x43, 0x55, 0x45, 0x49] : [1, 2, 3, 4]), ...body]);
    fc.assert(
      fc.property(
        fc.constantFrom(0x00, 0x04, 0x05, 0x06, 0x07, 0xff, 0x33),
        fc.uint8Array({ maxLength: 40 }),
        fc.array(randomDescriptor, { maxLength: 3 }),
        fc.boolean(),
        (type, cmd, descriptors, legacy) => {
          const loop = descriptors.flat();
          const cmdLen = legacy ? 0xfff : cmd.length;
          const body = [0x00, 0x00, 0, 0, 0, 0, 0xff, 0xff, 0xf0 | (cmdLen >> 8), cmdLen & 0xff, type, ...cmd];
          body.push(loop.length >> 8, loop.length & 0xff, ...loop, 0, 0, 0, 0);
          const bytes = Uint8Array.from([0xfc, 0x30 | (body.length >> 8), body.length & 0xff, ...body]);
          writeCrc32(bytes, 0, bytes.length - 4);
          expectOnairError(() => {
            const once = encodeSpliceInfoSection(decodeSpliceInfoSection(bytes));
            const twice = encodeSpliceInfoSection(decodeSpliceInfoSection(once));
            expect(toHex(twice)).toBe(toHex(once));
          });
        },
      ),
      { numRuns: RUNS },
    );
  });
});
