import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { crc32Mpeg2 } from "../../src/ts/crc32.js";
import {
  buildSdt,
  buildTdt,
  buildTot,
  decodeDescriptors,
  EitSection,
  encodeDescriptors,
  SdtSection,
  TdtSection,
  TotSection,
  splitExtendedEvent,
  type DvbDescriptor as Descriptor,
  type SiService,
} from "../../src/si/index.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replace(/\s+/g, ""), "hex"));
const ascii = (s: string): string => Buffer.from(s, "ascii").toString("hex");

// domain §5.2: ffmpeg's default SDT
const FFMPEG_SDT = bytes(
  `42 F0 25 00 01 C1 00 00 FF 01 FF 00 01 FC 80 14 48 12 01 06 ${ascii("FFmpeg")} 09 ${ascii("Service01")} 77 7C 43 CA`,
);
// domain §5.7
const TDT = bytes("70 70 05 ED 9B 14 30 05");
const TOT = bytes("73 70 1A ED 9B 14 30 05 F0 0F 58 0D 46 52 41 02 02 00 EE 2E 01 00 00 01 00 52 24 82 F4");
const T0 = Date.UTC(2025, 5, 1, 14, 30, 5);

const service: SiService = {
  serviceId: 1,
  transportStreamId: 1,
  originalNetworkId: 0xff01,
  serviceName: "Service01",
  providerName: "FFmpeg",
  serviceType: 0x01,
  eitSchedule: true,
  eitPresentFollowing: true,
  runningStatus: 4,
};

describe("SDT", () => {
  it("decodes ffmpeg's default SDT", () => {
    const s = SdtSection.decode(FFMPEG_SDT);
    expect(s).toEqual({
      tableId: 0x42,
      transportStreamId: 1,
      versionNumber: 0,
      currentNextIndicator: true,
      sectionNumber: 0,
      lastSectionNumber: 0,
      originalNetworkId: 0xff01,
      services: [
        {
          serviceId: 1,
          eitScheduleFlag: false,
          eitPresentFollowingFlag: false,
          runningStatus: 4,
          freeCaMode: false,
          descriptors: [{ kind: "service", serviceType: 1, serviceProviderName: "FFmpeg", serviceName: "Service01" }],
        },
      ],
    });
  });

  it("encodes ffmpeg's default SDT back to the same bytes", () => {
    expect(hex(SdtSection.encode(SdtSection.decode(FFMPEG_SDT)))).toBe(hex(FFMPEG_SDT));
  });

  it("builds an SDT that differs from ffmpeg's only in the EIT flags, version and CRC", () => {
    const ours = buildSdt(service).section;
    expect(ours.length).toBe(FFMPEG_SDT.length);
    expect(ours[13]).toBe(0xff); // rfu 111111, EIT_schedule 1, EIT_p/f 1
    expect((ours[5] >> 1) & 0x1f).toBe(1); // not ffmpeg's version 0
    expect(hex(ours.subarray(14, ours.length - 4))).toBe(hex(FFMPEG_SDT.subarray(14, FFMPEG_SDT.length - 4)));
    expect(crc32Mpeg2(ours)).toBe(0);
  });

  it("keeps the same section and version while the service is unchanged, bumps it on a rename", () => {
    const a = buildSdt(service);
    const b = buildSdt(service, a.state);
    expect(b.section).toBe(a.section);
    expect(b.changed).toBe(false);
    const c = buildSdt({ ...service, serviceName: "Kanal Zwei – Ελληνικά" }, b.state);
    expect(c.changed).toBe(true);
    expect(c.state.versionNumber).toBe(2);
    const dec = SdtSection.decode(c.section);
    expect(dec.versionNumber).toBe(2);
    expect(dec.services[0].descriptors[0]).toMatchObject({ serviceName: "Kanal Zwei – Ελληνικά" });
  });

  it("wraps the version from 31 to 0", () => {
    const a = buildSdt(service, undefined, { initialVersion: 31 });
    expect(buildSdt({ ...service, providerName: "X" }, a.state).state.versionNumber).toBe(0);
  });

  it("rejects a section with a bad CRC", () => {
    const bad = FFMPEG_SDT.slice();
    bad[20] ^= 1;
    expect(() => SdtSection.decode(bad)).toThrow(expect.objectContaining({ code: "ONAIR_SI_CRC" }));
  });

  it("rejects a section longer than 1024 bytes", () => {
    const svc = {
      serviceId: 1,
      eitScheduleFlag: true,
      eitPresentFollowingFlag: true,
      runningStatus: 4,
      freeCaMode: false,
      descriptors: [],
    };
    const s = { ...SdtSection.decode(FFMPEG_SDT), services: Array.from({ length: 210 }, (_, i) => ({ ...svc, serviceId: i })) };
    expect(() => SdtSection.encode(s)).toThrow(expect.objectContaining({ code: "ONAIR_SI_SECTION_LENGTH" }));
  });
});

describe("TDT and TOT", () => {
  it("encodes the TDT vector 70 70 05 ED 9B 14 30 05 and decodes it back", () => {
    expect(hex(buildTdt(T0))).toBe(hex(TDT));
    expect(TdtSection.decode(TDT)).toEqual({ utcTime: T0 });
    expect(hex(TdtSection.encode(TdtSection.decode(TDT)))).toBe(hex(TDT));
  });

  it("builds the Paris TOT vector byte for byte, with the October DST change", () => {
    expect(hex(buildTot(T0, "Europe/Paris", "FRA"))).toBe(hex(TOT));
  });

  it("decodes the TOT vector and encodes it back to the same bytes", () => {
    const t = TotSection.decode(TOT);
    expect(t).toEqual({
      utcTime: T0,
      descriptors: [
        {
          kind: "localTimeOffset",
          regions: [
            {
              countryCode: "FRA",
              countryRegionId: 0,
              localTimeOffsetPolarity: 0,
              localTimeOffset: 120,
              timeOfChange: Date.UTC(2025, 9, 26, 1, 0, 0),
              nextTimeOffset: 60,
            },
          ],
        },
      ],
    });
    expect(hex(TotSection.encode(t))).toBe(hex(TOT));
  });

  it("sets polarity 1 for a zone behind UTC and finds its next DST change", () => {
    const t = TotSection.decode(buildTot(Date.UTC(2025, 0, 15), "America/New_York", "USA"));
    const d = t.descriptors[0];
    expect(d.kind).toBe("localTimeOffset");
    if (d.kind !== "localTimeOffset") return;
    expect(d.regions[0]).toEqual({
      countryCode: "USA",
      countryRegionId: 0,
      localTimeOffsetPolarity: 1,
      localTimeOffset: 300,
      timeOfChange: Date.UTC(2025, 2, 9, 7, 0, 0),
      nextTimeOffset: 240,
    });
  });

  it("repeats the current offset when the zone has no DST", () => {
    const d = TotSection.decode(buildTot(T0, "Asia/Kolkata", "IND")).descriptors[0];
    if (d.kind !== "localTimeOffset") throw new Error("expected local_time_offset");
    expect(d.regions[0].localTimeOffset).toBe(330);
    expect(d.regions[0].nextTimeOffset).toBe(330);
    expect(d.regions[0].localTimeOffsetPolarity).toBe(0);
  });

  it("rejects an unknown time zone with a stable code", () => {
    expect(() => buildTot(T0, "Mars/Olympus", "MRS")).toThrow(expect.objectContaining({ code: "ONAIR_SI_TIME_ZONE" }));
  });
});

describe("descriptors", () => {
  const samples: Descriptor[] = [
    { kind: "service", serviceType: 0x19, serviceProviderName: "onair", serviceName: "Übertragung HD" },
    { kind: "shortEvent", iso639LanguageCode: "deu", eventName: "Tagesschau", text: "Nachrichten – 日本語" },
    {
      kind: "extendedEvent",
      descriptorNumber: 1,
      lastDescriptorNumber: 2,
      iso639LanguageCode: "eng",
      items: [{ itemDescription: "Director", item: "Ελληνικά" }],
      text: "More text",
    },
    {
      kind: "content",
      items: [
        { contentNibbleLevel1: 0x2, contentNibbleLevel2: 0x0, userByte: 0 },
        { contentNibbleLevel1: 0x4, contentNibbleLevel2: 0x3, userByte: 0x11 },
      ],
    },
    {
      kind: "parentalRating",
      ratings: [
        { countryCode: "DEU", rating: 9 },
        { countryCode: "FRA", rating: 0x10 },
      ],
    },
    { kind: "unknown", tag: 0x50, data: Uint8Array.of(0xf5, 0x0b, 0x01, 0x64, 0x65, 0x75) },
  ];

  it("decode(encode(x)) gives every descriptor back", () => {
    const loop = encodeDescriptors(samples);
    expect(decodeDescriptors(loop, 0, loop.length)).toEqual(samples);
  });

  it("encode(decode(bytes)) gives the same bytes back", () => {
    const loop = encodeDescriptors(samples);
    expect(hex(encodeDescriptors(decodeDescriptors(loop, 0, loop.length)))).toBe(hex(loop));
  });

  it("keeps an unknown descriptor's bytes untouched", () => {
    const raw = bytes("83 04 00 01 FC 01");
    expect(hex(encodeDescriptors(decodeDescriptors(raw, 0, raw.length)))).toBe(hex(raw));
  });

  it("cuts a short_event that would exceed 255 bytes at a character boundary", () => {
    const loop = encodeDescriptors([{ kind: "shortEvent", iso639LanguageCode: "jpn", eventName: "日".repeat(60), text: "本".repeat(60) }]);
    expect(loop[1]).toBeLessThanOrEqual(255);
    const d = decodeDescriptors(loop, 0, loop.length)[0];
    if (d.kind !== "shortEvent") throw new Error("expected short_event");
    expect(d.eventName).toBe("日".repeat(60));
    expect(d.text).toBe("本".repeat(Math.floor((255 - 5 - 181 - 1) / 3)));
  });

  it("splits a long description across numbered extended_event descriptors and joins back", () => {
    const text = "Übertragung – Ελληνικά – 日本語. ".repeat(40);
    const parts = splitExtendedEvent("deu", text);
    expect(parts.length).toBeGreaterThan(1);
    const loop = encodeDescriptors(parts);
    const back = decodeDescriptors(loop, 0, loop.length);
    back.forEach((d, i) => {
      if (d.kind !== "extendedEvent") throw new Error("expected extended_event");
      expect(d.descriptorNumber).toBe(i);
      expect(d.lastDescriptorNumber).toBe(parts.length - 1);
    });
    expect(back.map((d) => (d.kind === "extendedEvent" ? d.text : "")).join("")).toBe(text);
    for (let p = 0; p < loop.length; p += 2 + loop[p + 1]) expect(loop[p + 1]).toBeLessThanOrEqual(255);
  });

  it("splits an ISO 8859-1 description so each part still fits after its own table choice", () => {
    const text = ("a".repeat(246) + "é").repeat(5);
    const parts = splitExtendedEvent("fra", text, { charset: "iso-8859-1" });
    const loop = encodeDescriptors(parts, { charset: "iso-8859-1" });
    const back = decodeDescriptors(loop, 0, loop.length);
    expect(back.map((d) => (d.kind === "extendedEvent" ? d.text : "")).join("")).toBe(text);
  });

  it("rejects a descriptor that overruns its loop", () => {
    expect(() => decodeDescriptors(bytes("4D 10 64 65 75"), 0, 5)).toThrow(expect.objectContaining({ code: "ONAIR_SI_DESCRIPTOR" }));
  });
});

describe("EIT section codec", () => {
  const arbEvent = fc.record({
    eventId: fc.integer({ min: 0, max: 0xffff }),
    startTime: fc.option(
      fc.integer({ min: 0, max: 2_000_000_000 }).map((s) => s * 1000),
      { nil: undefined },
    ),
    duration: fc.option(fc.integer({ min: 0, max: 99 * 3600 + 59 * 60 + 59 }), { nil: undefined }),
    runningStatus: fc.integer({ min: 0, max: 7 }),
    freeCaMode: fc.boolean(),
    descriptors: fc.array(
      fc.oneof(
        fc.record({
          kind: fc.constant("shortEvent" as const),
          iso639LanguageCode: fc.constantFrom("deu", "eng", "ell"),
          eventName: fc.string({ maxLength: 40 }),
          text: fc.string({ maxLength: 40 }),
        }),
        fc.record({
          kind: fc.constant("content" as const),
          items: fc.array(
            fc.record({
              contentNibbleLevel1: fc.integer({ min: 0, max: 15 }),
              contentNibbleLevel2: fc.integer({ min: 0, max: 15 }),
              userByte: fc.integer({ min: 0, max: 255 }),
            }),
            { maxLength: 4 },
          ),
        }),
      ),
      { maxLength: 3 },
    ),
  });
  const arbSection = fc.record({
    tableId: fc.integer({ min: 0x4e, max: 0x6f }),
    serviceId: fc.integer({ min: 0, max: 0xffff }),
    versionNumber: fc.integer({ min: 0, max: 31 }),
    currentNextIndicator: fc.boolean(),
    sectionNumber: fc.integer({ min: 0, max: 255 }),
    lastSectionNumber: fc.integer({ min: 0, max: 255 }),
    transportStreamId: fc.integer({ min: 0, max: 0xffff }),
    originalNetworkId: fc.integer({ min: 0, max: 0xffff }),
    segmentLastSectionNumber: fc.integer({ min: 0, max: 255 }),
    lastTableId: fc.integer({ min: 0x4e, max: 0x6f }),
    events: fc.array(arbEvent, { maxLength: 5 }),
  });

  it("decode(encode(x)) = x and encode(decode(bytes)) = bytes for any section", () => {
    fc.assert(
      fc.property(arbSection, (s) => {
        const b = EitSection.encode(s);
        const normalized = JSON.parse(
          JSON.stringify(s, (_k, v: unknown) => (typeof v === "string" ? v.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g, "") : v)),
        );
        expect(EitSection.decode(b)).toEqual(normalized);
        expect(hex(EitSection.encode(EitSection.decode(b)))).toBe(hex(b));
        expect(crc32Mpeg2(b)).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it("writes DVB byte 1 as 0xF0 | length_hi (empty section: section_length 15)", () => {
    const b = EitSection.encode({
      tableId: 0x4e,
      serviceId: 1,
      versionNumber: 0,
      currentNextIndicator: true,
      sectionNumber: 0,
      lastSectionNumber: 1,
      transportStreamId: 1,
      originalNetworkId: 0xff01,
      segmentLastSectionNumber: 1,
      lastTableId: 0x4e,
      events: [],
    });
    expect(hex(b.subarray(0, 14))).toBe("4ef00f00 01c10001 0001ff01 014e".replace(/ /g, ""));
  });

  it("rejects a table_id outside 0x4E–0x6F", () => {
    const b = FFMPEG_SDT;
    expect(() => EitSection.decode(b)).toThrow(expect.objectContaining({ code: "ONAIR_SI_TABLE_ID" }));
  });
});
