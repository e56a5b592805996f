import { describe, expect, it } from "vitest";
import { EitSection, SiGenerator, TotSection, type SiEvent, type SiService } from "../../src/si/index.js";

const REF = Date.UTC(2025, 9, 25, 22, 0, 0); // Paris DST ends 2025-10-26 01:00 UTC
const service: SiService = {
  serviceId: 7,
  transportStreamId: 1,
  originalNetworkId: 0xff01,
  serviceName: "onair",
  providerName: "onair",
  serviceType: 0x19,
  eitSchedule: true,
  eitPresentFollowing: true,
  runningStatus: 4,
};
const items: SiEvent[] = Array.from({ length: 200 }, (_, i) => ({
  eventId: 100 + i,
  startMs: REF + i * 5 * 60_000,
  durationSec: 300,
  title: `Item ${i} – Übertragung`,
  language: "fra",
}));

/** Drives the generator with a null slot every `slotMs`, one slot per section. */
function drive(g: SiGenerator, from: number, to: number, slotMs = 5) {
  const out: { t: number; table: string; section: Uint8Array }[] = [];
  for (let t = from; t < to; t += slotMs) {
    const s = g.next(t);
    if (s) out.push({ t, table: s.table, section: s.section });
  }
  return out;
}

describe("SI generator", () => {
  it("puts the new present/following on air within 1 s of every item boundary", () => {
    const g = new SiGenerator({ service, timeZone: "Europe/Paris", countryCode: "FRA" }, items, REF + 1000);
    const sent = drive(g, REF + 1000, REF + 16 * 60_000);
    for (const k of [1, 2, 3]) {
      const boundary = REF + k * 5 * 60_000;
      const first = sent.find(
        (e) => e.table === "eit-pf" && e.t >= boundary && EitSection.decode(e.section).events[0]?.eventId === 100 + k,
      );
      expect(first, `p/f after boundary ${k}`).toBeDefined();
      expect(first!.t - boundary).toBeLessThan(1000);
    }
  });

  it("sends SDT, p/f, schedule, TDT and TOT", () => {
    const g = new SiGenerator({ service, timeZone: "Europe/Paris", countryCode: "FRA" }, items, REF);
    const tables = new Set(drive(g, REF, REF + 12_000).map((e) => e.table));
    expect([...tables].sort()).toEqual(["eit-0x50", "eit-pf", "sdt", "tdt", "tot"]);
  });

  it("rebuilds the TOT at the DST change with the new offset", () => {
    const g = new SiGenerator({ service, timeZone: "Europe/Paris", countryCode: "FRA" }, items, REF);
    const change = Date.UTC(2025, 9, 26, 1, 0, 0);
    const sent = drive(g, change - 60_000, change + 30_000, 20);
    const after = sent.filter((e) => e.table === "tot" && e.t >= change);
    expect(after.length).toBeGreaterThan(0);
    const d = TotSection.decode(after[after.length - 1].section).descriptors[0];
    if (d.kind !== "localTimeOffset") throw new Error("expected local_time_offset");
    expect(d.regions[0].localTimeOffset).toBe(60);
  });

  it("stops sending p/f when the service says it has none", () => {
    const g = new SiGenerator({ service: { ...service, eitPresentFollowing: false } }, items, REF);
    const tables = new Set(drive(g, REF, REF + 5_000).map((e) => e.table));
    expect(tables.has("eit-pf")).toBe(false);
    expect(tables.has("sdt")).toBe(true);
  });

  it("takes new events at once", () => {
    const g = new SiGenerator({ service }, items, REF + 1000);
    drive(g, REF + 1000, REF + 3000);
    g.setEvents([{ ...items[0], title: "Breaking news" }, ...items.slice(1)], REF + 3000);
    const sent = drive(g, REF + 3000, REF + 4000);
    const pf = sent.find((e) => e.table === "eit-pf");
    expect(pf).toBeDefined();
    expect(EitSection.decode(pf!.section).events[0].descriptors[0]).toMatchObject({ eventName: "Breaking news" });
  });
});
