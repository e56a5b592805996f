/**
 * Public SCTE-35 sample cues (shared/domain.md §3.5): SCTE 35 §14.1–14.3 and threefive's
 * examples, with the field values listed there. `expected` is matched as a subset of the
 * decoded JSON; `fullJson` (when given) is the whole decoded JSON as published in the issue.
 */
export interface GoldenCue {
  name: string;
  base64: string;
  /** Hex as published, when the source gives it. */
  hex?: string;
  byteLength: number;
  expected: Record<string, unknown>;
  fullJson?: Record<string, unknown>;
}

/** The §14.2 splice_insert in the JSON shape. */
export const SPLICE_INSERT_14_2_JSON = {
  tableId: 252,
  sectionSyntaxIndicator: false,
  privateIndicator: false,
  sapType: 3,
  protocolVersion: 0,
  encryptedPacket: false,
  encryptionAlgorithm: 0,
  ptsAdjustment: 0,
  cwIndex: 255,
  tier: 4095,
  spliceCommandType: 5,
  spliceCommand: {
    spliceEventId: 1207959695,
    spliceEventCancelIndicator: false,
    outOfNetworkIndicator: true,
    programSpliceFlag: true,
    durationFlag: true,
    spliceImmediateFlag: false,
    eventIdComplianceFlag: true,
    spliceTime: { timeSpecifiedFlag: true, ptsTime: 1936310318 },
    breakDuration: { autoReturn: true, duration: 5426421 },
    uniqueProgramId: 0,
    availNum: 0,
    availsExpected: 0,
  },
  descriptors: [{ spliceDescriptorTag: 0, identifier: "CUEI", providerAvailId: 309 }],
  sectionLength: 47,
  spliceCommandLength: 20,
  descriptorLoopLength: 10,
  crc32: "0x62dba30a",
};

const PO_UPID = { segmentationUpidType: 0x08, segmentationUpid: "000000002ca0a18a" };

export const GOLDEN_CUES: GoldenCue[] = [
  {
    name: "SCTE 35 §14.1 time_signal, Placement Opportunity Start",
    base64: "/DA0AAAAAAAA///wBQb+cr0AUAAeAhxDVUVJSAAAjn/PAAGlmbAICAAAAAAsoKGKNAIAmsnRfg==",
    byteLength: 55,
    expected: {
      sectionLength: 52,
      sapType: 3,
      ptsAdjustment: 0,
      cwIndex: 0xff,
      tier: 0xfff,
      spliceCommandLength: 5,
      spliceCommandType: 6,
      spliceCommand: { spliceTime: { timeSpecifiedFlag: true, ptsTime: 1924989008 } },
      descriptorLoopLength: 30,
      descriptors: [
        {
          spliceDescriptorTag: 2,
          identifier: "CUEI",
          segmentationEventId: 0x4800008e,
          segmentationEventCancelIndicator: false,
          programSegmentationFlag: true,
          segmentationDurationFlag: true,
          deliveryNotRestrictedFlag: false,
          webDeliveryAllowedFlag: false,
          noRegionalBlackoutFlag: true,
          archiveAllowedFlag: true,
          deviceRestrictions: 3,
          segmentationDuration: 27630000,
          ...PO_UPID,
          segmentationTypeId: 0x34,
          segmentNum: 2,
          segmentsExpected: 0,
        },
      ],
      crc32: "0x9ac9d17e",
    },
  },
  {
    name: "SCTE 35 §14.2 splice_insert",
    base64: "/DAvAAAAAAAA///wFAVIAACPf+/+c2nALv4AUsz1AAAAAAAKAAhDVUVJAAABNWLbowo=",
    hex: "fc302f000000000000fffff014054800008f7feffe7369c02efe0052ccf500000000000a0008435545490000013562dba30a",
    byteLength: 50,
    expected: {
      spliceCommandLength: 0x14,
      spliceCommand: {
        spliceEventId: 0x4800008f,
        outOfNetworkIndicator: true,
        programSpliceFlag: true,
        durationFlag: true,
        spliceImmediateFlag: false,
        eventIdComplianceFlag: true,
        spliceTime: { timeSpecifiedFlag: true, ptsTime: 1936310318 },
        breakDuration: { autoReturn: true, duration: 5426421 },
        uniqueProgramId: 0,
        availNum: 0,
        availsExpected: 0,
      },
      descriptors: [{ spliceDescriptorTag: 0, providerAvailId: 309 }],
      crc32: "0x62dba30a",
    },
    fullJson: SPLICE_INSERT_14_2_JSON,
  },
  {
    name: "SCTE 35 §14.3 time_signal, Placement Opportunity End",
    base64: "/DAvAAAAAAAA///wBQb+dGKQoAAZAhdDVUVJSAAAjn+fCAgAAAAALKChijUCAKnMZ1g=",
    byteLength: 50,
    expected: {
      spliceCommandType: 6,
      spliceCommand: { spliceTime: { timeSpecifiedFlag: true, ptsTime: 1952616608 } },
      descriptorLoopLength: 25,
      descriptors: [
        {
          spliceDescriptorTag: 2,
          segmentationEventId: 0x4800008e,
          programSegmentationFlag: true,
          segmentationDurationFlag: false,
          deliveryNotRestrictedFlag: false,
          webDeliveryAllowedFlag: true,
          noRegionalBlackoutFlag: true,
          archiveAllowedFlag: true,
          deviceRestrictions: 3,
          ...PO_UPID,
          segmentationTypeId: 0x35,
          segmentNum: 2,
          segmentsExpected: 0,
        },
      ],
      crc32: "0xa9cc6758",
    },
  },
  {
    name: "threefive splice_null",
    base64: "/DARAAAAAAAAAP/wAAAAAHpPv/8=",
    hex: "fc301100000000000000fff0000000007a4fbfff",
    byteLength: 20,
    expected: {
      sectionLength: 17,
      cwIndex: 0,
      tier: 0xfff,
      spliceCommandLength: 0,
      spliceCommandType: 0,
      spliceCommand: {},
      descriptorLoopLength: 0,
      descriptors: [],
      crc32: "0x7a4fbfff",
    },
  },
  {
    name: "threefive time_signal",
    base64: "/DAWAAAAAAAAAP/wBQb+ABt4xwAAwhCGHw==",
    byteLength: 25,
    expected: {
      spliceCommandType: 6,
      spliceCommand: { spliceTime: { timeSpecifiedFlag: true, ptsTime: 1800391 } },
      descriptors: [],
      crc32: "0xc210861f",
    },
  },
  {
    name: "threefive splice_insert",
    base64: "/DAlAAAAAAAAAP/wFAUAAAAOf+/+FOvVwP4ApMuAAA4AAAAAzBon0A==",
    byteLength: 40,
    expected: {
      spliceCommandType: 5,
      spliceCommand: {
        spliceEventId: 14,
        outOfNetworkIndicator: true,
        programSpliceFlag: true,
        durationFlag: true,
        spliceTime: { timeSpecifiedFlag: true, ptsTime: 351000000 },
        breakDuration: { autoReturn: true, duration: 10800000 },
        uniqueProgramId: 14,
        availNum: 0,
        availsExpected: 0,
      },
      crc32: "0xcc1a27d0",
    },
  },
];
