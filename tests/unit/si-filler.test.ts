import { describe, expect, it } from "vitest";
import { SiSlotFiller, type SiFillerOptions } from "../../src/inject/si-filler.js";
import { siEventFromItem, iso639_2 } from "../../src/schedule/si-events.js";
import type { ScheduleItem } from "../../src/schedule/model.js";
import { EitSection, SdtSection, TdtSection, type SiEvent } from "../../src/si/index.js";
import { ContinuityCounter, PatSection, SectionAssembler, packetize, TS_PACKET_SIZE, writeNullPacket } from "../../src/ts/index.js";

const REF = Date.UTC(2025, 5, 1, 6, 0, 0);
const ITEM_MS = 10 * 60_000;
const events: SiEvent[] = Array.from({ length: 7 * 24 * 6 + 12 }, (_, i) => ({
  eventId: 1 + i,
  startMs: REF - 2 * 3600_000 + i * ITEM_MS,
  durationSec: ITEM_MS / 1000,
  title: `Übertragung – Ελληνικά – 日本語 ${i}`,
  description: "Eine lange Beschreibung – Ελληνικά – 日本語. ".repeat(6),
  language: "deu",
}));

const profileService = {
  serviceId: 7,
  transportStreamId: 9,
  originalNetworkId: 0x1234,
  serviceName: "News HD",
  providerName: "onair",
  serviceType: 0x19,
};

interface Sent {
  wallMs: number;
  pid: number;
  bytes: Uint8Array;
}

/** Feeds null slots every `slotMs` of wall time and reassembles what the filler writes. */
class Harness {
  readonly sent: Sent[] = [];
  readonly ccErrors = new Map<number, number>();
  private readonly asm = new Map<number, SectionAssembler>();
  private readonly buf = new Uint8Array(TS_PACKET_SIZE);
  private wallMs = 0;
  packets = 0;

  constructor(readonly filler: SiSlotFiller) {
    for (const pid of [0x11, 0x12, 0x14]) {
      this.asm.set(
        pid,
        new SectionAssembler(pid, {
          onSection: (s) => this.sent.push({ wallMs: this.wallMs, pid, bytes: s }),
          onError: (kind) => this.ccErrors.set(pid, (this.ccErrors.get(pid) ?? 0) + (kind === "continuity" ? 1 : 0)),
        }),
      );
    }
  }

  run(fromMs: number, toMs: number, slotMs = 1): void {
    for (let t = fromMs; t < toMs; t += slotMs) {
      this.wallMs = t;
      writeNullPacket(this.buf, 0);
      if (this.filler.fill(this.buf, 0, 0, t)) {
        this.packets++;
        const pid = ((this.buf[1] & 0x1f) << 8) | this.buf[2];
        this.asm.get(pid)!.push(this.buf, 0);
      }
    }
  }

  tables(tableId: number): Sent[] {
    return this.sent.filter((s) => s.bytes[0] === tableId);
  }

  /** Longest gap between copies of each (table_id, extension, section_number), per table_id. */
  longestGap(tableId: number): number {
    const last = new Map<string, number>();
    let gap = 0;
    for (const s of this.tables(tableId)) {
      const key = s.bytes.length > 7 && (s.bytes[1] & 0x80) !== 0 ? `${s.bytes[3]}/${s.bytes[4]}/${s.bytes[6]}` : "x";
      const prev = last.get(key);
      if (prev !== undefined) gap = Math.max(gap, s.wallMs - prev);
      last.set(key, s.wallMs);
    }
    return gap;
  }
}

function filler(
  extra: Partial<SiFillerOptions> = {},
  source: (from: number, to: number) => readonly SiEvent[] = () => events,
): SiSlotFiller {
  return new SiSlotFiller({ channel: "news-hd", events: source, ...extra });
}

/** Input PAT (tsid, program → PMT 0x1000) and an FFmpeg-like SDT, packetized. */
function inputPsi(tsid = 1, program = 1): { pat: Uint8Array[]; sdt: Uint8Array[] } {
  const pat = packetize(new PatSection({ transportStreamId: tsid, programs: [{ programNumber: program, pid: 0x1000 }] }).encode(), 0);
  const sdt = packetize(
    SdtSection.encode({
      tableId: 0x42,
      transportStreamId: tsid,
      versionNumber: 0,
      currentNextIndicator: true,
      sectionNumber: 0,
      lastSectionNumber: 0,
      originalNetworkId: 0xff01,
      services: [
        {
          serviceId: program,
          eitScheduleFlag: false,
          eitPresentFollowingFlag: false,
          runningStatus: 4,
          freeCaMode: false,
          descriptors: [{ kind: "service", serviceType: 1, serviceProviderName: "FFmpeg", serviceName: "Service01" }],
        },
      ],
    }),
    0x11,
    { counter: new ContinuityCounter(4) },
  );
  return { pat, sdt };
}

describe("SI slot filler", () => {
  it("writes nothing until the input's PAT is seen, then describes the input's service", () => {
    const f = filler();
    const h = new Harness(f);
    h.run(REF, REF + 2000);
    expect(h.packets).toBe(0);
    const { pat, sdt } = inputPsi(1, 1);
    for (const p of sdt) f.observe(p, 0, 0x11);
    for (const p of pat) f.observe(p, 0, 0);
    h.run(REF + 2000, REF + 4000);
    const sdts = h.tables(0x42).map((s) => SdtSection.decode(s.bytes));
    expect(sdts.length).toBeGreaterThan(0);
    expect(sdts[0].transportStreamId).toBe(1);
    expect(sdts[0].originalNetworkId).toBe(0xff01);
    expect(sdts[0].services[0]).toMatchObject({ serviceId: 1, eitScheduleFlag: true, eitPresentFollowingFlag: true, runningStatus: 4 });
    expect(sdts[0].services[0].descriptors[0]).toMatchObject({ kind: "service", serviceProviderName: "FFmpeg", serviceName: "news-hd" });
    expect(f.stats().serviceSource).toBe("input");
  });

  it("waits for the input's SDT, then falls back to defaults without one", () => {
    const f = filler({ sdtWaitMs: 1000 });
    const h = new Harness(f);
    for (const p of inputPsi(3, 5).pat) f.observe(p, 0, 0);
    h.run(REF, REF + 999);
    expect(h.packets).toBe(0);
    h.run(REF + 999, REF + 3000);
    const sdt = SdtSection.decode(h.tables(0x42)[0].bytes);
    expect(sdt).toMatchObject({ transportStreamId: 3, originalNetworkId: 0xff01 });
    expect(sdt.services[0].serviceId).toBe(5);
    expect(sdt.services[0].descriptors[0]).toMatchObject({ serviceProviderName: "onair", serviceName: "news-hd" });
  });

  it("uses the given service fields at once, whatever the input says", () => {
    const f = filler({ service: profileService });
    const h = new Harness(f);
    h.run(REF, REF + 3000);
    const sdt = SdtSection.decode(h.tables(0x42)[0].bytes);
    expect(sdt).toMatchObject({ transportStreamId: 9, originalNetworkId: 0x1234 });
    expect(sdt.services[0]).toMatchObject({ serviceId: 7, eitScheduleFlag: true, eitPresentFollowingFlag: true });
    expect(sdt.services[0].descriptors[0]).toMatchObject({ serviceType: 0x19, serviceProviderName: "onair", serviceName: "News HD" });
    const pf = EitSection.decode(h.tables(0x4e)[0].bytes);
    expect(pf).toMatchObject({ serviceId: 7, transportStreamId: 9, originalNetworkId: 0x1234 });
    expect(f.stats().serviceSource).toBe("profile");
  });

  it("continues the input's continuity counters and keeps every PID continuous", () => {
    const f = filler();
    const h = new Harness(f);
    const { pat, sdt } = inputPsi();
    for (const p of sdt) f.observe(p, 0, 0x11); // CC 5 on the input's last SDT packet
    for (const p of pat) f.observe(p, 0, 0);
    const buf = new Uint8Array(TS_PACKET_SIZE);
    let first = -1;
    for (let t = REF; first < 0; t++) {
      writeNullPacket(buf, 0);
      if (f.fill(buf, 0, 0, t) && (((buf[1] & 0x1f) << 8) | buf[2]) === 0x11) first = buf[3] & 0x0f;
    }
    expect(first).toBe((5 + 1) & 15);
    h.run(REF + 5000, REF + 65_000);
    expect([...h.ccErrors.values()].reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("repeats every table within its TS 101 211 interval when slots are plentiful", () => {
    const f = filler({ service: profileService, timeZone: "Europe/Berlin", countryCode: "DEU" });
    const h = new Harness(f);
    h.run(REF, REF + 90_000, 1);
    expect(h.longestGap(0x42)).toBeLessThanOrEqual(2000);
    expect(h.longestGap(0x4e)).toBeLessThanOrEqual(2000);
    expect(h.longestGap(0x50)).toBeLessThanOrEqual(10_000);
    expect(h.longestGap(0x51)).toBeLessThanOrEqual(10_000);
    expect(h.longestGap(0x70)).toBeLessThanOrEqual(30_000);
    expect(h.longestGap(0x73)).toBeLessThanOrEqual(30_000);
    expect(h.tables(0x73).length).toBeGreaterThan(0);
    // spread, not burst: no 100 ms window carries more than a small share of the SI packets
    const perWindow = new Map<number, number>();
    for (const s of h.sent) perWindow.set(Math.floor(s.wallMs / 100), (perWindow.get(Math.floor(s.wallMs / 100)) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThan(h.sent.length / 20);
  });

  it("packetizes each section once per version and the TDT at every send", () => {
    const f = filler({ service: profileService });
    const h = new Harness(f);
    h.run(REF, REF + 60_000, 1);
    const st = f.stats();
    const tdts = h.tables(0x70).length;
    const distinct = new Set(h.sent.filter((s) => s.bytes[0] !== 0x70).map((s) => Buffer.from(s.bytes).toString("hex"))).size;
    expect(st.sections).toBe(h.sent.length);
    expect(st.packetizations).toBe(distinct + tdts);
    expect(st.sections).toBeGreaterThan(3 * st.packetizations);
  });

  it("sends the TDT with the wall time of its slot", () => {
    const f = filler({ service: profileService });
    const h = new Harness(f);
    h.run(REF, REF + 12_000, 1);
    for (const s of h.tables(0x70)) expect(TdtSection.decode(s.bytes).utcTime).toBe(Math.floor(s.wallMs / 1000) * 1000);
  });

  it("switches present/following within 1 s of an item boundary with a new version", () => {
    const f = filler({ service: profileService });
    const h = new Harness(f);
    const boundary = REF + ITEM_MS;
    h.run(boundary - 10_000, boundary + 5000, 1);
    const pf = h
      .tables(0x4e)
      .filter((s) => s.bytes[6] === 0)
      .map((s) => ({ t: s.wallMs, e: EitSection.decode(s.bytes) }));
    const before = pf.filter((p) => p.t < boundary);
    const after = pf.find((p) => p.t >= boundary && p.e.events[0]?.eventId !== before[before.length - 1].e.events[0].eventId)!;
    expect(after.t - boundary).toBeLessThan(1000);
    expect(after.e.versionNumber).not.toBe(before[before.length - 1].e.versionNumber);
    expect(after.e.events[0].startTime).toBe(boundary);
  });

  it("reloads events once a minute, never per slot, and takes changes", () => {
    let calls = 0;
    let list = events;
    const f = filler({ service: profileService }, () => {
      calls++;
      return list;
    });
    const h = new Harness(f);
    h.run(REF, REF + 59_000, 1);
    expect(calls).toBe(1);
    list = events.map((e, i) => (i === 12 ? { ...e, title: "Changed" } : e));
    h.run(REF + 59_000, REF + 75_000, 1);
    expect(calls).toBe(2);
    expect(f.stats().eventChanges).toBe(1);
    const pf = h.tables(0x4e).filter((s) => s.wallMs > REF + 60_000 && s.bytes[6] === 0);
    expect(EitSection.decode(pf[pf.length - 1].bytes).events[0].descriptors[0]).toMatchObject({ eventName: "Changed" });
  });

  it("says epg_empty when nothing is on now nor to come, once, and epg_filled when the schedule fills", () => {
    let list: readonly SiEvent[] = [];
    const seen: Array<{ event: string; days?: unknown }> = [];
    const f = filler({ service: profileService, scheduleDays: 2, onEvent: (e) => seen.push(e) }, () => list);
    const h = new Harness(f);
    h.run(REF, REF + 130_000, 10);
    expect(seen.filter((e) => e.event.startsWith("epg_"))).toEqual([expect.objectContaining({ event: "epg_empty", days: 2 })]);
    // only past events: still empty
    list = [{ ...events[0], startMs: REF - 7_200_000, durationSec: 3600 }];
    h.run(REF + 130_000, REF + 200_000, 10);
    expect(seen.filter((e) => e.event.startsWith("epg_")).map((e) => e.event)).toEqual(["epg_empty"]);
    list = events;
    h.run(REF + 200_000, REF + 270_000, 10);
    expect(seen.filter((e) => e.event.startsWith("epg_")).map((e) => e.event)).toEqual(["epg_empty", "epg_filled"]);
  });

  it("sends only SDT and time tables when the EPG is off", () => {
    const f = filler({ service: profileService, eit: false });
    const h = new Harness(f);
    h.run(REF, REF + 12_000, 1);
    expect(new Set(h.sent.map((s) => s.bytes[0]))).toEqual(new Set([0x42, 0x70]));
    expect(SdtSection.decode(h.tables(0x42)[0].bytes).services[0]).toMatchObject({
      eitScheduleFlag: false,
      eitPresentFollowingFlag: false,
    });
  });

  it("replaces the input's SDT, EIT and TDT PIDs", () => {
    expect([...filler().replacesPids].sort()).toEqual([0x11, 0x12, 0x14]);
  });
});

describe("schedule item → SI event", () => {
  const item: ScheduleItem = {
    id: 1,
    channel: "one",
    eventId: 42,
    startMs: REF,
    durationMs: 1_728_000.9,
    title: "Übertragung",
    subtitle: "Folge 1",
    description: "Lang",
    language: "de",
    content: { level1: 4, level2: 3 },
    parentalRating: { system: "FSK", value: "12", minAge: 12 },
    breaks: [],
  };

  it("maps ids, times, texts, genre and rating", () => {
    expect(siEventFromItem(item, { ratingCountry: "deu" })).toEqual({
      eventId: 42,
      startMs: REF,
      durationSec: 1728,
      title: "Übertragung",
      subtitle: "Folge 1",
      description: "Lang",
      language: "deu",
      content: [{ level1: 4, level2: 3 }],
      parentalRating: [{ country: "DEU", rating: 9 }],
    });
  });

  it("leaves the rating out without a country or a minimum age", () => {
    expect(siEventFromItem(item).parentalRating).toBeUndefined();
    expect(siEventFromItem({ ...item, parentalRating: { value: "PG" } }, { ratingCountry: "DEU" }).parentalRating).toBeUndefined();
  });

  it("turns two-letter languages into ISO 639-2 and falls back to the channel's language", () => {
    expect(iso639_2("el")).toBe("ell");
    expect(iso639_2("JA")).toBe("jpn");
    expect(iso639_2("fra")).toBe("fra");
    expect(siEventFromItem({ ...item, language: undefined }, { defaultLanguage: "eng" }).language).toBe("eng");
    expect(siEventFromItem({ ...item, language: "de-AT" }).language).toBe("und");
  });
});
