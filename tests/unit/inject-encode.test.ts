import { describe, expect, it } from "vitest";
import { encodeCue } from "../../src/inject/encode.js";
import { decodeSpliceInfoSection, type ClearSpliceInfoSection } from "../../src/scte35/index.js";

function decodeClear(bytes: Uint8Array): ClearSpliceInfoSection {
  const s = decodeSpliceInfoSection(bytes);
  if (s.encryptedPacket) throw new Error("expected a clear section");
  return s;
}

describe("cue encoding", () => {
  it("encodes an out splice_insert with break_duration and auto_return", () => {
    const s = decodeClear(
      encodeCue({ command: "splice_insert", spliceEventId: 77, outOfNetwork: true, splicePts: 8589934000, breakDurationTicks: 2700000 }),
    );
    expect(s.spliceCommandType).toBe(5);
    expect(s.spliceCommand).toMatchObject({
      spliceEventId: 77,
      outOfNetworkIndicator: true,
      programSpliceFlag: true,
      spliceImmediateFlag: false,
      eventIdComplianceFlag: false,
      spliceTime: { timeSpecifiedFlag: true, ptsTime: 8589934000 },
      breakDuration: { autoReturn: true, duration: 2700000 },
    });
  });

  it("encodes a return splice_insert without duration", () => {
    const s = decodeClear(encodeCue({ command: "splice_insert", spliceEventId: 5, outOfNetwork: false, splicePts: 900000 }));
    expect(s.spliceCommand).toMatchObject({ outOfNetworkIndicator: false, durationFlag: false });
  });

  it("encodes a cancel with the same event id", () => {
    const s = decodeClear(encodeCue({ command: "splice_insert_cancel", spliceEventId: 9 }));
    expect(s.spliceCommand).toMatchObject({ spliceEventId: 9, spliceEventCancelIndicator: true });
  });

  it("encodes time_signal with a segmentation descriptor and the break id as URI UPID", () => {
    const s = decodeClear(
      encodeCue({
        command: "time_signal",
        spliceEventId: 12,
        splicePts: 1800000,
        segmentationTypeId: 0x34,
        segmentationDurationTicks: 2700000,
        breakId: "ad 1",
      }),
    );
    expect(s.spliceCommandType).toBe(6);
    expect(s.descriptors[0]).toMatchObject({
      spliceDescriptorTag: 2,
      segmentationEventId: 12,
      segmentationTypeId: 0x34,
      segmentationDuration: 2700000,
      segmentationUpidType: 0x0f,
      segmentationUpidText: "urn:onair:break:ad%201",
    });
  });

  it("encodes splice_null", () => {
    expect(decodeClear(encodeCue({ command: "splice_null" })).spliceCommandType).toBe(0);
  });
});
