import { describe, expect, it } from "vitest";
import {
  buildPresentFollowing,
  buildSchedule,
  buildSdt,
  buildTdt,
  buildTot,
  refreshTdt,
  refreshTot,
  SI_MAX_INTERVAL_MS,
  SiCarousel,
  TDT_PERIOD_MS,
  TOT_PERIOD_MS,
  type PfState,
  type ScheduleState,
  type SiEvent,
  type SiService,
} from "../../src/si/index.js";

const H = 3_600_000;
const REF = Date.UTC(2025, 5, 1);
const service: SiService = {
  serviceId: 1,
  transportStreamId: 1,
  originalNetworkId: 0xff01,
  serviceName: "onair",
  providerName: "onair",
  serviceType: 0x19,
  eitSchedule: true,
  eitPresentFollowing: true,
  runningStatus: 4,
};

/** Items of 2.5 minutes for the first hours (many p/f switches), then 36-minute items for 8 days. */
function events(): SiEvent[] {
  const out: SiEvent[] = [];
  let t = REF + 8 * H;
  for (let i = 0; t < REF + 9 * 86_400_000; i++) {
    const dur = t < REF + 10 * H ? 150 : 36 * 60;
    out.push({
      eventId: i + 1,
      startMs: t,
      durationSec: dur,
      title: `Übertragung – Ελληνικά – 日本語 ${i}`,
      language: "deu",
      description: i % 2 ? "Lange Beschreibung – 日本語. ".repeat(1 + (i % 30)) : undefined,
    });
    t += dur * 1000;
  }
  return out;
}

interface Emission {
  t: number;
  key: string;
  index: number;
  group: string;
  section: Uint8Array;
}

/** Feeds the carousel like the injector: a null slot every `slotMs`; a section takes ⌈(L+1)/184⌉ slots. */
function simulate(opts: { startMs: number; durationMs: number; slotMs: number; withChanges: boolean }) {
  const c = new SiCarousel();
  const evs = events();
  const limits = new Map<string, (i: number) => number>();
  let pf: PfState | undefined;
  let sched: ScheduleState | undefined;
  let pfNext = 0;
  const pfSwitches: { at: number; section: Uint8Array[] }[] = [];

  const setPf = (now: number): void => {
    const r = buildPresentFollowing(service, evs, now, pf);
    if (r.changed) {
      c.set({ key: "eit-pf", pid: 0x12, sections: r.sections, maxIntervalMs: SI_MAX_INTERVAL_MS.eitPresentFollowing }, now);
      pfSwitches.push({ at: now, section: [...r.sections] });
    }
    pf = r.state;
    pfNext = r.nextChangeMs ?? Infinity;
  };
  const setSchedule = (now: number): void => {
    const r = buildSchedule(service, evs, now, 7, sched);
    sched = r.state;
    for (const t of r.tables) {
      const key = `eit-0x${t.tableId.toString(16)}`;
      c.set({ key, pid: 0x12, sections: t.sections, maxIntervalMs: t.maxIntervalMs }, now);
      limits.set(key, (i) => t.maxIntervalMs[i]);
    }
  };

  const t0 = opts.startMs;
  c.set({ key: "sdt", pid: 0x11, sections: [buildSdt(service).section], maxIntervalMs: SI_MAX_INTERVAL_MS.sdt }, t0);
  c.set(
    {
      key: "tdt",
      pid: 0x14,
      sections: [buildTdt(t0)],
      maxIntervalMs: SI_MAX_INTERVAL_MS.tdt,
      periodMs: TDT_PERIOD_MS,
      refresh: refreshTdt,
    },
    t0,
  );
  c.set(
    {
      key: "tot",
      pid: 0x14,
      sections: [buildTot(t0, "Europe/Berlin", "DEU")],
      maxIntervalMs: SI_MAX_INTERVAL_MS.tot,
      periodMs: TOT_PERIOD_MS,
      refresh: refreshTot,
    },
    t0,
  );
  limits.set("sdt", () => SI_MAX_INTERVAL_MS.sdt);
  limits.set("eit-pf", () => SI_MAX_INTERVAL_MS.eitPresentFollowing);
  limits.set("tdt", () => SI_MAX_INTERVAL_MS.tdt);
  limits.set("tot", () => SI_MAX_INTERVAL_MS.tot);
  setPf(t0);
  setSchedule(t0);

  const emissions: Emission[] = [];
  let busyUntilSlot = 0;
  let slot = 0;
  let nextScheduleBuild = t0 + 60_000;
  for (let t = t0; t < t0 + opts.durationMs; t += opts.slotMs, slot++) {
    if (opts.withChanges && t >= pfNext) setPf(t);
    if (opts.withChanges && t >= nextScheduleBuild) {
      setSchedule(t);
      nextScheduleBuild += 60_000;
    }
    if (slot < busyUntilSlot) continue;
    const s = c.next(t);
    if (!s) continue;
    const sec = s.section;
    const long = (sec[1] & 0x80) !== 0;
    emissions.push({ t, key: s.table, index: s.index, group: `${s.pid}/${sec[0]}/${long ? (sec[3] << 8) | sec[4] : "-"}`, section: sec });
    busyUntilSlot = slot + Math.ceil((sec.length + 1) / 184);
  }
  return { c, emissions, limits, pfSwitches, t0, end: t0 + opts.durationMs };
}

function longestGaps(run: ReturnType<typeof simulate>) {
  const last = new Map<string, number>();
  const worst = new Map<string, { gap: number; limit: number }>();
  const note = (id: string, key: string, index: number, t: number): void => {
    const gap = t - (last.get(id) ?? run.t0);
    const limit = run.limits.get(key)!(index);
    const w = worst.get(id);
    if (!w || gap > w.gap) worst.set(id, { gap, limit });
    last.set(id, t);
  };
  for (const e of run.emissions) note(`${e.key}#${e.index}`, e.key, e.index, e.t);
  for (const [id, t] of last) {
    const [key, index] = id.split("#");
    note(id, key, Number(index), run.end);
    void t;
  }
  return worst;
}

describe("SI carousel", () => {
  // 08:49:30–09:01:30 UTC (12 minutes) with 2.5-minute items; the schedule is rebuilt every minute and
  // changes at 09:00 when segment 06–09 becomes past.
  const run = simulate({ startMs: REF + 8 * H + 49.5 * 60_000, durationMs: 12 * 60_000, slotMs: 2, withChanges: true });

  it("repeats every section of every table within its TS 101 211 limit over 10 minutes", () => {
    const worst = longestGaps(run);
    expect(worst.size).toBeGreaterThan(50);
    const over = [...worst].filter(([, w]) => w.gap > w.limit);
    expect(over).toEqual([]);
  });

  it("repeats p/f and SDT at least every 2 s as tables", () => {
    for (const key of ["eit-pf", "sdt"]) {
      const times = run.emissions.filter((e) => e.key === key).map((e) => e.t);
      const gaps = times.slice(1).map((t, i) => t - times[i]);
      expect(Math.max(...gaps, times[0] - run.t0)).toBeLessThanOrEqual(2000);
    }
  });

  it("never sends two sections of the same PID, table_id and extension within 25 ms", () => {
    const last = new Map<string, number>();
    let closest = Infinity;
    for (const e of run.emissions) {
      const prev = last.get(e.group);
      if (prev !== undefined) closest = Math.min(closest, e.t - prev);
      last.set(e.group, e.t);
    }
    expect(closest).toBeGreaterThanOrEqual(25);
  });

  it("sends a new p/f version within 1 s of each item boundary", () => {
    const switches = run.pfSwitches.slice(1);
    expect(switches.length).toBeGreaterThanOrEqual(3);
    for (const sw of switches) {
      for (const sec of sw.section) {
        const first = run.emissions.find((e) => e.section === sec);
        expect(first, "new p/f section sent").toBeDefined();
        expect(first!.t - sw.at).toBeLessThanOrEqual(1000);
      }
    }
  });

  it("sends a changed schedule sub-table's new version promptly", () => {
    const s50 = run.c.stats().find((s) => s.key === "eit-0x50")!;
    expect(s50.versionChanges).toBe(1);
    const change = REF + 9 * H + 30_000; // first rebuild after 09:00
    const after = run.emissions.filter((e) => e.key === "eit-0x50" && e.t >= change);
    const firstOfNew = new Map<number, number>();
    for (const e of after) if (!firstOfNew.has(e.index) && ((e.section[5] >> 1) & 0x1f) === 1) firstOfNew.set(e.index, e.t);
    expect(firstOfNew.size).toBe(s50.sections);
    expect(Math.max(...firstOfNew.values()) - change).toBeLessThanOrEqual(2000);
  });

  it("hands out the same bytes for a section until its table changes", () => {
    const sdt = run.emissions.filter((e) => e.key === "sdt");
    expect(new Set(sdt.map((e) => e.section)).size).toBe(1);
  });

  it("rewrites the TDT with the time it goes out", () => {
    const tdts = run.emissions.filter((e) => e.key === "tdt");
    expect(tdts.length).toBeGreaterThanOrEqual((10 * 60_000) / TDT_PERIOD_MS - 1);
    const last = tdts[tdts.length - 1];
    const mjd = (last.section[3] << 8) | last.section[4];
    expect(mjd).toBe(Math.floor(last.t / 86_400_000) + 40587);
  });

  it("counts sections sent and version changes per table", () => {
    const stats = new Map(run.c.stats().map((s) => [s.key, s]));
    const pf = stats.get("eit-pf")!;
    expect(pf.versionChanges).toBe(run.pfSwitches.length - 1);
    expect(pf.sectionsSent).toBe(run.emissions.filter((e) => e.key === "eit-pf").length);
    expect(pf.longestIntervalMs).toBeLessThanOrEqual(2000);
    expect(stats.get("sdt")!.versionNumber).toBe(1);
  });

  it("spreads a table's sections evenly instead of sending them in a burst", () => {
    const steady = simulate({ startMs: REF + 12 * H, durationMs: 60_000, slotMs: 2, withChanges: false });
    const t50 = steady.emissions.filter((e) => e.key === "eit-0x50" && e.t > steady.t0 + 10_000);
    const n = steady.c.stats().find((s) => s.key === "eit-0x50")!.sections;
    const perSecond = n / 8; // target period 10 s × 0.8
    const counts = new Map<number, number>();
    for (const e of t50) counts.set(Math.floor(e.t / 1000), (counts.get(Math.floor(e.t / 1000)) ?? 0) + 1);
    expect(n).toBeGreaterThan(8);
    expect(Math.max(...counts.values())).toBeLessThanOrEqual(Math.ceil(perSecond) + 2);
  });

  it("returns nothing between due times and nothing when empty", () => {
    const c = new SiCarousel();
    expect(c.next(0)).toBeUndefined();
    expect(c.nextDueMs()).toBe(Infinity);
    c.set({ key: "sdt", pid: 0x11, sections: [buildSdt(service).section], maxIntervalMs: 2000 }, 0);
    expect(c.next(0)?.table).toBe("sdt");
    expect(c.next(1)).toBeUndefined();
    expect(c.nextDueMs()).toBe(1600);
    expect(c.next(1600)?.table).toBe("sdt");
  });
});
