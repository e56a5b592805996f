import { describe, expect, it } from "vitest";
import {
  decodeDescriptors,
  EIT_MAX_EVENT_DESCRIPTORS,
  encodeEventDescriptors,
  buildPresentFollowing,
  buildSchedule,
  EitSection,
  siEventFromEit,
  type SiEvent,
  type SiService,
} from "../../src/si/index.js";

const H = 3_600_000;
const DAY = 24 * H;
const REF = Date.UTC(2025, 5, 1); // a midnight

const service: SiService = {
  serviceId: 0x0101,
  transportStreamId: 1,
  originalNetworkId: 0xff01,
  serviceName: "onair",
  providerName: "onair",
  serviceType: 0x19,
  eitSchedule: true,
  eitPresentFollowing: true,
  runningStatus: 4,
};

const TITLES = ["Übertragung – Ελληνικά – 日本語", "Nachrichten", "Ελληνικά νέα", "日本語ニュース", "Film: Ça commence"];

/** ~40 items a day of 36 min, from `fromMs`, with long UTF-8 descriptions on some. */
function channelDays(fromMs: number, days: number): SiEvent[] {
  const out: SiEvent[] = [];
  const slot = 36 * 60;
  for (let i = 0; i < (days * 86400) / slot; i++) {
    out.push({
      eventId: (i + 1) & 0xffff,
      startMs: fromMs + i * slot * 1000,
      durationSec: slot,
      title: `${TITLES[i % TITLES.length]} #${i}`,
      subtitle: i % 3 === 0 ? "Folge 1 – Der Anfang" : undefined,
      description: i % 2 === 0 ? `Beschreibung ${i}: ` + "Übertragung – Ελληνικά – 日本語. ".repeat(1 + (i % 40)) : undefined,
      language: "deu",
      content: [{ level1: 1 + (i % 10), level2: 0 }],
      parentalRating: i % 5 === 0 ? [{ country: "DEU", rating: 9 }] : undefined,
    });
  }
  return out;
}

function decodeAll(sections: readonly Uint8Array[]) {
  return sections.map((s) => EitSection.decode(s));
}

describe("EIT schedule", () => {
  const events = channelDays(REF, 9);
  const now = REF + 10 * H + 17 * 60_000;
  const result = buildSchedule(service, events, now, 7);
  const all = result.tables.flatMap((t) => decodeAll(t.sections));

  it("gives back every title, start time and duration of the next 7 days exactly", () => {
    const got = all.flatMap((s) => s.events.map(siEventFromEit));
    const expected = events.filter((e) => e.startMs < now + 7 * DAY && (Math.floor((e.startMs - REF) / (3 * H)) + 1) * 3 * H + REF > now);
    expect(got.map((e) => [e.title, e.startMs, e.durationSec])).toEqual(expected.map((e) => [e.title, e.startMs, e.durationSec]));
    expect(got.map((e) => e.description)).toEqual(expected.map((e) => e.description));
    expect(got.map((e) => e.subtitle)).toEqual(expected.map((e) => e.subtitle));
    expect(result.dropped).toBe(0);
  });

  it("re-encodes every decoded section to the same bytes", () => {
    for (const t of result.tables) {
      for (const sec of t.sections) expect(Buffer.from(EitSection.encode(EitSection.decode(sec))).equals(sec)).toBe(true);
    }
  });

  it("uses table ids 0x50 and 0x51 for 7 days, with last_table_id 0x51 in both", () => {
    expect(result.tables.map((t) => t.tableId)).toEqual([0x50, 0x51]);
    for (const s of all) expect(s.lastTableId).toBe(0x51);
  });

  it("puts each event in section 8·segment… of table 0x50 + ⌊k/32⌋ in start order", () => {
    for (const s of all) {
      for (const e of s.events) {
        const k = Math.floor((e.startTime! - REF) / (3 * H));
        expect(s.tableId).toBe(0x50 + Math.floor(k / 32));
        expect(Math.floor(s.sectionNumber / 8)).toBe(k % 32);
      }
      const starts = s.events.map((e) => e.startTime!);
      expect(starts).toEqual([...starts].sort((a, b) => a - b));
    }
  });

  it("numbers sections and sets segment_last_section_number and last_section_number per EN 300 468", () => {
    for (const t of result.tables) {
      const secs = decodeAll(t.sections);
      const bySeg = new Map<number, typeof secs>();
      for (const s of secs) bySeg.set(s.sectionNumber >> 3, [...(bySeg.get(s.sectionNumber >> 3) ?? []), s]);
      const lastSeg = Math.max(...bySeg.keys());
      for (let seg = 0; seg <= lastSeg; seg++) {
        const list = bySeg.get(seg);
        expect(list, `segment ${seg} of 0x${t.tableId.toString(16)}`).toBeDefined();
        const numbers = list!.map((s) => s.sectionNumber);
        expect(numbers).toEqual(numbers.map((_, i) => 8 * seg + i));
        for (const s of list!) expect(s.segmentLastSectionNumber).toBe(numbers[numbers.length - 1]);
      }
      const last = secs[secs.length - 1].sectionNumber;
      for (const s of secs) expect(s.lastSectionNumber).toBe(last);
      for (const s of t.sections) expect(s.length).toBeLessThanOrEqual(4096);
    }
  });

  it("keeps segments wholly in the past as one empty section numbered 8·segment", () => {
    const t50 = decodeAll(result.tables[0].sections);
    // now = 10:17: segments 0 (00–03) and 1 (03–06) are past; segment 2 (06–09) too
    for (const seg of [0, 1, 2]) {
      const list = t50.filter((s) => s.sectionNumber >> 3 === seg);
      expect(list).toHaveLength(1);
      expect(list[0].sectionNumber).toBe(8 * seg);
      expect(list[0].segmentLastSectionNumber).toBe(8 * seg);
      expect(list[0].events).toEqual([]);
    }
  });

  it("keeps an event that is still running although its segment is past", () => {
    const longOne: SiEvent = { eventId: 9, startMs: REF + 8 * H, durationSec: 3 * 3600, title: "Marathon", language: "eng" };
    const r = buildSchedule(service, [longOne], REF + 10 * H, 7);
    const evs = r.tables.flatMap((t) => decodeAll(t.sections)).flatMap((s) => s.events);
    expect(evs.map((e) => e.eventId)).toEqual([9]);
  });

  it("leaves out events starting before today 00:00 UTC or beyond the window", () => {
    const evs: SiEvent[] = [
      { eventId: 1, startMs: REF - H, durationSec: 2 * 3600 * 10, title: "yesterday", language: "eng" },
      { eventId: 2, startMs: REF + 2 * DAY, durationSec: 600, title: "in", language: "eng" },
      { eventId: 3, startMs: REF + H + 2 * DAY - 1000, durationSec: 600, title: "edge-in", language: "eng" },
      { eventId: 4, startMs: REF + H + 2 * DAY, durationSec: 600, title: "edge-out", language: "eng" },
    ];
    const r = buildSchedule(service, evs, REF + H, 2);
    const ids = r.tables.flatMap((t) => decodeAll(t.sections)).flatMap((s) => s.events.map((e) => e.eventId));
    expect(ids).toEqual([2, 3]);
  });

  it("returns the same sections and versions when nothing changed", () => {
    const again = buildSchedule(service, events, now + 60_000, 7, result.state);
    again.tables.forEach((t, i) => {
      expect(t.changed).toBe(false);
      expect(t.sections).toBe(result.tables[i].sections);
      expect(t.versionNumber).toBe(result.tables[i].versionNumber);
    });
  });

  it("bumps the version of only the sub-table whose content changed", () => {
    const edited = events.map((e) => (e.startMs === REF + 5 * DAY ? { ...e, title: "Sondersendung" } : e));
    const r = buildSchedule(service, edited, now, 7, result.state);
    expect(r.tables[0].changed).toBe(false);
    expect(r.tables[0].sections).toBe(result.tables[0].sections);
    expect(r.tables[1].changed).toBe(true);
    expect(r.tables[1].versionNumber).toBe((result.tables[1].versionNumber + 1) % 32);
    for (const s of decodeAll(r.tables[1].sections)) expect(s.versionNumber).toBe(r.tables[1].versionNumber);
  });

  it("drops and counts the events a segment's 8 sections cannot hold", () => {
    const crowd: SiEvent[] = Array.from({ length: 20 }, (_, i) => ({
      eventId: i,
      startMs: REF + 12 * H + i * 60_000,
      durationSec: 60,
      title: `Item ${i}`,
      description: "x".repeat(3000),
      language: "eng",
    }));
    const r = buildSchedule(service, crowd, REF + 11 * H, 1);
    const secs = decodeAll(r.tables[0].sections).filter((s) => s.sectionNumber >> 3 === 4);
    expect(secs).toHaveLength(8);
    expect(r.dropped).toBe(20 - secs.reduce((n, s) => n + s.events.length, 0));
    expect(r.dropped).toBeGreaterThan(0);
    expect(r.eventCount).toBe(20);
  });

  it("uses up to table 0x5F for 64 days, repeating segments within 8 days of now at 10 s and later ones at 30 s", () => {
    const r = buildSchedule(
      service,
      channelDays(REF, 65).filter((_, i) => i % 8 === 0),
      REF + H,
      64,
    );
    expect(r.tables.map((t) => t.tableId)).toEqual(Array.from({ length: 16 }, (_, i) => 0x50 + i));
    expect(new Set(r.tables[1].maxIntervalMs)).toEqual(new Set([10_000]));
    // 0x52 segment 0 starts at REF + 8 d, less than 8 days after now = REF + 1 h
    expect(r.tables[2].maxIntervalMs[0]).toBe(10_000);
    expect(new Set(r.tables[2].maxIntervalMs.slice(1))).toEqual(new Set([30_000]));
    expect(new Set(r.tables[3].maxIntervalMs)).toEqual(new Set([30_000]));
  });

  it("sends one empty section 0 of table 0x50 when there is nothing to announce", () => {
    const r = buildSchedule(service, [], REF, 7);
    expect(r.tables).toHaveLength(1);
    const s = EitSection.decode(r.tables[0].sections[0]);
    expect([s.tableId, s.sectionNumber, s.lastSectionNumber, s.segmentLastSectionNumber, s.lastTableId, s.events.length]).toEqual([
      0x50, 0, 0, 0, 0x50, 0,
    ]);
  });

  it("refuses 0 or more than 64 days", () => {
    expect(() => buildSchedule(service, [], REF, 0)).toThrow(expect.objectContaining({ code: "ONAIR_SI_FIELD_RANGE" }));
    expect(() => buildSchedule(service, [], REF, 65)).toThrow(expect.objectContaining({ code: "ONAIR_SI_FIELD_RANGE" }));
  });
});

describe("EIT present/following", () => {
  const events = channelDays(REF, 1);
  const slot = 36 * 60_000;

  function pf(now: number, prev?: Parameters<typeof buildPresentFollowing>[3]) {
    const r = buildPresentFollowing(service, events, now, prev);
    const [s0, s1] = r.sections.map((s) => EitSection.decode(s));
    return { r, s0, s1 };
  }

  it("shows the item on air as present (running) and the next as following (not running)", () => {
    for (const i of [0, 7, 20]) {
      const { s0, s1 } = pf(REF + i * slot + 5 * 60_000);
      expect(s0.events.map((e) => [e.eventId, e.runningStatus])).toEqual([[events[i].eventId, 4]]);
      expect(s1.events.map((e) => [e.eventId, e.runningStatus])).toEqual([[events[i + 1].eventId, 1]]);
      expect(siEventFromEit(s0.events[0]).title).toBe(events[i].title);
    }
  });

  it("marks the following item 'starts in a few seconds' within 30 s of its start", () => {
    const { s1 } = pf(REF + 2 * slot - 20_000);
    expect(s1.events[0].runningStatus).toBe(2);
  });

  it("always sends sections 0 and 1 with the p/f numbering, empty when there is no event", () => {
    const r = buildPresentFollowing(service, [], REF);
    const secs = r.sections.map((s) => EitSection.decode(s));
    expect(
      secs.map((s) => [s.tableId, s.sectionNumber, s.lastSectionNumber, s.segmentLastSectionNumber, s.lastTableId, s.events.length]),
    ).toEqual([
      [0x4e, 0, 1, 1, 0x4e, 0],
      [0x4e, 1, 1, 1, 0x4e, 0],
    ]);
  });

  it("leaves present empty in a gap and shows the next item as following", () => {
    const { s0, s1 } = pf(REF - 60 * 60_000);
    expect(s0.events).toEqual([]);
    expect(s1.events[0].eventId).toBe(events[0].eventId);
  });

  it("switches at the item boundary with a version bump and says when to rebuild", () => {
    const boundary = REF + 3 * slot;
    const before = pf(boundary - 1000);
    expect(before.r.nextChangeMs).toBe(boundary);
    const after = pf(boundary, before.r.state);
    expect(after.r.changed).toBe(true);
    expect(after.s0.events[0].eventId).toBe(events[3].eventId);
    expect(after.s1.events[0].eventId).toBe(events[4].eventId);
    expect(after.s0.versionNumber).toBe((before.s0.versionNumber + 1) % 32);
    expect(after.s1.versionNumber).toBe(after.s0.versionNumber);
  });

  it("keeps sections and version while nothing changes", () => {
    const a = pf(REF + 60_000);
    const b = buildPresentFollowing(service, events, REF + 120_000, a.r.state);
    expect(b.changed).toBe(false);
    expect(b.sections).toBe(a.r.sections);
  });

  it("wraps the version from 31 to 0", () => {
    const a = buildPresentFollowing(service, events, REF + 60_000, undefined, { initialVersion: 31 });
    const b = buildPresentFollowing(service, events, REF + slot + 60_000, a.state);
    expect(b.state.versionNumber).toBe(0);
    expect(EitSection.decode(b.sections[0]).versionNumber).toBe(0);
  });

  it("tracks the schedule through a day: every boundary gives a new version and the right pair", () => {
    let state: Parameters<typeof buildPresentFollowing>[3];
    let now = REF + 1000;
    let versions = 0;
    for (let step = 0; step < 30; step++) {
      const r = buildPresentFollowing(service, events, now, state);
      if (state && r.changed) versions++;
      state = r.state;
      const i = Math.floor((now - REF) / slot);
      expect(r.present?.eventId).toBe(events[i].eventId);
      expect(r.following?.eventId).toBe(events[i + 1].eventId);
      now = r.nextChangeMs!;
    }
    expect(versions).toBe(29);
  });
});

describe("event descriptors", () => {
  it("maps title, subtitle, description, genre and rating and reads them back", () => {
    const ev: SiEvent = {
      eventId: 1,
      startMs: REF,
      durationSec: 60,
      title: "Übertragung",
      subtitle: "Ελληνικά",
      description: "日本語 ".repeat(200),
      language: "deu",
      content: [{ level1: 4, level2: 3, userByte: 0 }],
      parentalRating: [{ country: "DEU", rating: 9 }],
    };
    const loop = encodeEventDescriptors(ev);
    const ds = decodeDescriptors(loop, 0, loop.length);
    // 2000 bytes of UTF-8 text, at most 248 per descriptor after the 0x15 selector → 9 parts
    expect(ds.map((d) => d.kind)).toEqual(["shortEvent", ...Array<string>(9).fill("extendedEvent"), "content", "parentalRating"]);
    const back = siEventFromEit({ eventId: 1, startTime: REF, duration: 60, runningStatus: 0, freeCaMode: false, descriptors: ds });
    expect(back).toEqual(ev);
  });

  it("writes an all-ASCII part of a non-ASCII description bare, so the section re-encodes to the same bytes", () => {
    const ev: SiEvent = {
      eventId: 1,
      startMs: REF + 3 * H,
      durationSec: 60,
      title: "T",
      description: "Ü" + "a".repeat(600),
      language: "deu",
    };
    const loop = encodeEventDescriptors(ev);
    const ext = decodeDescriptors(loop, 0, loop.length).filter((d) => d.kind === "extendedEvent");
    expect(ext.map((d) => d.text).join("")).toBe(ev.description);
    const sec = buildPresentFollowing(service, [ev], REF + 3 * H).sections[0];
    expect(Buffer.from(EitSection.encode(EitSection.decode(sec))).equals(sec)).toBe(true);
  });

  it("cuts a description too long for one EIT section and keeps the numbering consistent", () => {
    const ev: SiEvent = {
      eventId: 1,
      startMs: REF,
      durationSec: 60,
      title: "Long",
      description: "Ελληνικά ".repeat(2000),
      language: "ell",
    };
    const loop = encodeEventDescriptors(ev);
    expect(loop.length).toBeLessThanOrEqual(EIT_MAX_EVENT_DESCRIPTORS);
    const ext = decodeDescriptors(loop, 0, loop.length).filter((d) => d.kind === "extendedEvent");
    expect(ext.length).toBeLessThanOrEqual(16);
    ext.forEach((d, i) => expect([d.descriptorNumber, d.lastDescriptorNumber]).toEqual([i, ext.length - 1]));
    const text = ext.map((d) => d.text).join("");
    expect(text.length).toBeGreaterThan(1000);
    expect(ev.description!.startsWith(text)).toBe(true);
  });
});
