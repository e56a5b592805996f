/**
 * Issue acceptance for DVB SI in `onair inject`: a 7-day, two-channel XMLTV imported into a
 * temp store through the CLI, 120 s of a real FFmpeg test channel (CBR 3M) run through
 * `onair inject --start-time … [--profile …]`, and the output decoded with our own plain
 * scan (sections by PID, timing by PCR) and checked with ffprobe.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EitSection, SdtSection, siEventFromEit, TdtSection, TotSection, type EitEvent } from "../../src/si/index.js";
import { openStore } from "../../src/store/db.js";
import type { ScheduleItem } from "../../src/schedule/model.js";
import { runCli } from "../helpers/cli.js";
import { cleanupTestTs, makeTestTs, runFfprobeJson } from "../helpers/ffmpeg.js";
import { pcrAtPacket, scanTs, type TsScan } from "../helpers/tsscan.js";
import { generateXmltv } from "../helpers/xmltv.js";

const DAY = 86_400_000;
const PIDS = [0x11, 0x12, 0x14];
const LIMITS: Record<string, number> = { sdt: 2000, pf: 2000, schedule: 10_000, tdt: 30_000, tot: 30_000 };

let dir: string;
let storeFile: string;
let items: ScheduleItem[];

function profileJson(): string {
  return JSON.stringify({
    version: 1,
    channel: { id: "one", name: "Eins" },
    service: {
      serviceId: 1,
      transportStreamId: 1,
      originalNetworkId: 0x20fa,
      name: "Eins HD – Übertragung",
      provider: "onair Test Provider",
    },
    input: { kind: "test" },
    encoding: { mode: "transcode", video: { width: 320, height: 240, fps: 25, bitrate: "500k" }, muxRate: "3M" },
    outputs: [{ kind: "stdout" }],
    epg: { days: 7, language: "deu", timeZone: "Europe/Berlin", country: "DEU" },
  });
}

interface Timed {
  /** wall time (ms) of the packet where the section starts, from the PCR */
  wallMs: number;
  bytes: Uint8Array;
}

/** Sections of the SI PIDs with their wall time: start + (PCR at the packet − first PCR). */
function timedSections(scan: TsScan, startWallMs: number): Timed[] {
  const first = scan.pcrs[0].pcr / 300;
  return scan.sections
    .filter((s) => PIDS.includes(s.pid))
    .map((s) => ({ wallMs: startWallMs + (pcrAtPacket(scan, s.packet) - first) / 90, bytes: s.bytes }));
}

function kindOf(tableId: number): string | undefined {
  if (tableId === 0x42) return "sdt";
  if (tableId === 0x4e) return "pf";
  if (tableId >= 0x50 && tableId <= 0x5f) return "schedule";
  if (tableId === 0x70) return "tdt";
  if (tableId === 0x73) return "tot";
  return undefined;
}

/**
 * Longest interval between copies of each section (table_id, extension, section_number),
 * per kind; the capture start counts as the previous copy of the first one.
 */
function longestIntervals(sections: Timed[], startWallMs: number): Record<string, number> {
  const last = new Map<string, number>();
  const out: Record<string, number> = {};
  for (const s of sections) {
    const b = s.bytes;
    const kind = kindOf(b[0]);
    if (!kind) continue;
    const key = (b[1] & 0x80) !== 0 ? `${b[0]}/${(b[3] << 8) | b[4]}/${b[6]}` : `${b[0]}`;
    const gap = s.wallMs - (last.get(key) ?? startWallMs);
    out[kind] = Math.max(out[kind] ?? 0, gap);
    last.set(key, s.wallMs);
  }
  return out;
}

function presentAt(t: number): ScheduleItem | undefined {
  return items.find((i) => i.startMs <= t && t < i.startMs + i.durationMs);
}

async function inject(args: string[]): Promise<Record<string, unknown>> {
  const r = await runCli(["inject", ...args, "--json"], { timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`onair inject failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as Record<string, unknown>;
}

async function programTags(file: string): Promise<Record<string, string>> {
  const j = await runFfprobeJson<{ programs: Array<{ tags?: Record<string, string> }> }>(["-show_programs", file]);
  return j.programs[0]?.tags ?? {};
}

describe("onair inject with DVB SI", () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-inject-si-"));
    storeFile = join(dir, "onair.db");
    const epg = join(dir, "epg.xml");
    writeFileSync(epg, generateXmltv({ channels: [{ id: "one" }, { id: "two" }], days: 7 }).xml);
    for (const ch of ["one", "two"]) {
      // the generated week is in 2025: outside the window an import takes without --force
      const r = await runCli(["schedule", "import", epg, "--channel", ch, "--store", storeFile, "--force"]);
      if (r.code !== 0) throw new Error(r.stderr);
    }
    const store = openStore(storeFile);
    items = store.listItems("one");
    store.close();
  }, 60_000);

  afterAll(() => {
    cleanupTestTs();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("from the store with a profile, 120 s", () => {
    let scan: TsScan;
    let sections: Timed[];
    let startWallMs: number;
    let boundary: ScheduleItem;
    let summary: Record<string, unknown>;
    const output = (): string => join(dir, "with-profile.ts");

    beforeAll(async () => {
      const input = await makeTestTs({ seconds: 120, muxrate: "3M", name: "si-120s.ts" });
      // an item boundary 35 s into the capture (the following turns "starts soon" at 5 s)
      boundary = items[12];
      startWallMs = boundary.startMs - 35_000;
      const profile = join(dir, "one.json");
      writeFileSync(profile, profileJson());
      summary = await inject([
        "--input",
        input,
        "--output",
        output(),
        "--profile",
        profile,
        "--store",
        storeFile,
        "--start-time",
        new Date(startWallMs).toISOString(),
      ]);
      scan = scanTs(output(), PIDS);
      sections = timedSections(scan, startWallMs);
    }, 240_000);

    it("keeps the SI PIDs continuous and replaces FFmpeg's SDT", () => {
      const span = (scan.pcrs[scan.pcrs.length - 1].pcr - scan.pcrs[0].pcr) / 27_000;
      expect(span).toBeGreaterThan(119_000);
      for (const pid of PIDS) expect(scan.ccErrors.get(pid) ?? 0).toBe(0);
      const sdts = sections.filter((s) => s.bytes[0] === 0x42).map((s) => SdtSection.decode(s.bytes));
      expect(sdts.length).toBeGreaterThan(50);
      for (const sdt of sdts) {
        expect(sdt).toMatchObject({ transportStreamId: 1, originalNetworkId: 0x20fa, versionNumber: 1 });
        expect(sdt.services[0]).toMatchObject({ serviceId: 1, eitScheduleFlag: true, eitPresentFollowingFlag: true, runningStatus: 4 });
        expect(sdt.services[0].descriptors[0]).toMatchObject({
          serviceName: "Eins HD – Übertragung",
          serviceProviderName: "onair Test Provider",
        });
      }
      expect((summary.si as { serviceSource: string }).serviceSource).toBe("profile");
    });

    it("carries every item of the next 7 days in the EIT schedule, exactly", () => {
      const latest = new Map<string, { version: number; events: EitEvent[] }>();
      for (const s of sections) {
        if (s.bytes[0] < 0x50 || s.bytes[0] > 0x5f) continue;
        const e = EitSection.decode(s.bytes);
        expect(e.serviceId).toBe(1);
        latest.set(`${e.tableId}/${e.sectionNumber}`, { version: e.versionNumber, events: e.events });
      }
      const byId = new Map<number, EitEvent>();
      for (const { events } of latest.values()) for (const e of events) byId.set(e.eventId, e);
      const expected = items.filter((i) => i.startMs >= startWallMs && i.startMs < startWallMs + 7 * DAY);
      expect(expected.length).toBeGreaterThan(260);
      for (const it of expected) {
        const e = byId.get(it.eventId);
        expect(e, `event ${it.eventId} at ${new Date(it.startMs).toISOString()}`).toBeDefined();
        const ev = siEventFromEit(e!);
        expect(ev.title).toBe(it.title);
        expect(ev.startMs).toBe(it.startMs);
        expect(ev.durationSec * 1000).toBe(it.durationMs);
        expect(ev.subtitle).toBe(it.subtitle);
        expect(ev.description).toBe(it.description);
      }
    });

    it("shows the store's present/following through the capture and switches at the boundary", () => {
      const pf = sections.filter((s) => s.bytes[0] === 0x4e).map((s) => ({ wallMs: s.wallMs, e: EitSection.decode(s.bytes) }));
      const present = pf.filter((p) => p.e.sectionNumber === 0);
      const following = pf.filter((p) => p.e.sectionNumber === 1);
      expect(present.length).toBeGreaterThan(60);
      const b = boundary.startMs;
      for (const p of present) {
        if (p.wallMs >= b && p.wallMs < b + 1000) continue; // the switch may take up to 1 s
        expect(p.e.events[0].eventId, `present at +${((p.wallMs - startWallMs) / 1000).toFixed(1)} s`).toBe(presentAt(p.wallMs)!.eventId);
      }
      for (const f of following) {
        if (f.wallMs >= b && f.wallMs < b + 1000) continue;
        const now = presentAt(f.wallMs)!;
        const next = items.find((i) => i.startMs >= now.startMs + now.durationMs)!;
        expect(f.e.events[0].eventId).toBe(next.eventId);
      }
      // several points inside the capture
      for (const at of [10_000, 30_000, 40_000, 90_000, 115_000]) {
        const p = [...present].reverse().find((x) => x.wallMs <= startWallMs + at)!;
        expect(p.e.events[0].eventId).toBe(presentAt(startWallMs + at)!.eventId);
      }
      const idx = present.findIndex((p) => p.e.events[0].eventId === boundary.eventId);
      expect(idx).toBeGreaterThan(0);
      expect(present[idx].wallMs - b).toBeGreaterThanOrEqual(0);
      expect(present[idx].wallMs - b).toBeLessThan(1000);
      expect(present[idx].e.versionNumber).not.toBe(present[idx - 1].e.versionNumber);
      expect(present[idx].e.events[0]).toMatchObject({
        startTime: boundary.startMs,
        duration: boundary.durationMs / 1000,
        runningStatus: 4,
      });
    });

    it("repeats every table within the TS 101 211 limits, measured by PCR", () => {
      const got = longestIntervals(sections, startWallMs);
      console.log(
        `longest repetition intervals (ms): ${JSON.stringify(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, Math.round(v)])))}`,
      );
      for (const [kind, limit] of Object.entries(LIMITS)) {
        expect(got[kind], kind).toBeDefined();
        expect(got[kind], kind).toBeLessThanOrEqual(limit);
      }
    });

    it("sends TDT and TOT with the stream's wall time", () => {
      for (const s of sections) {
        if (s.bytes[0] === 0x70) expect(Math.abs(TdtSection.decode(s.bytes).utcTime - s.wallMs)).toBeLessThan(1000);
        if (s.bytes[0] === 0x73) {
          const tot = TotSection.decode(s.bytes);
          expect(Math.abs(tot.utcTime - s.wallMs)).toBeLessThan(1000);
          expect(tot.descriptors[0]).toMatchObject({ kind: "localTimeOffset" });
        }
      }
    });

    it("shows our service name and provider in ffprobe", async () => {
      const tags = await programTags(output());
      expect(tags.service_name).toBe("Eins HD – Übertragung");
      expect(tags.service_provider).toBe("onair Test Provider");
    });
  });

  describe("without a profile", () => {
    it("takes the service from FFmpeg's PAT and SDT and names it after the channel", async () => {
      const input = await makeTestTs({ seconds: 6, muxrate: "3M", name: "si-6s.ts" });
      const out = join(dir, "no-profile.ts");
      const startWallMs = items[3].startMs + 60_000;
      const summary = await inject([
        "--input",
        input,
        "--output",
        out,
        "--channel",
        "two",
        "--store",
        storeFile,
        "--start-time",
        new Date(startWallMs).toISOString(),
      ]);
      const s = scanTs(out, PIDS);
      const secs = timedSections(s, startWallMs);
      const sdt = SdtSection.decode(secs.find((x) => x.bytes[0] === 0x42)!.bytes);
      expect(sdt).toMatchObject({ transportStreamId: 1, originalNetworkId: 0xff01 });
      expect(sdt.services[0]).toMatchObject({ serviceId: 1, eitScheduleFlag: true, eitPresentFollowingFlag: true });
      expect(sdt.services[0].descriptors[0]).toMatchObject({ serviceProviderName: "FFmpeg", serviceName: "two" });
      const pf = EitSection.decode(secs.find((x) => x.bytes[0] === 0x4e && x.bytes[6] === 0)!.bytes);
      const store = openStore(storeFile);
      const expected = store.presentFollowing("two", startWallMs).present!;
      store.close();
      expect(pf.events[0].eventId).toBe(expected.eventId);
      expect(secs.filter((x) => x.bytes[0] === 0x73)).toHaveLength(0); // no time zone: no TOT
      expect(secs.filter((x) => x.bytes[0] === 0x70).length).toBeGreaterThan(0);
      expect((summary.si as { serviceSource: string }).serviceSource).toBe("input");
      const tags = await programTags(out);
      expect(tags).toMatchObject({ service_name: "two", service_provider: "FFmpeg" });
    }, 60_000);
  });
  describe("sealed profile and errors", () => {
    it("opens a sealed profile with --key-file and prints the SI summary", async () => {
      const key = join(dir, "onair.key");
      const clear = join(dir, "sealed-src.json");
      const sealed = join(dir, "one.onair");
      writeFileSync(clear, profileJson());
      for (const args of [
        ["profile", "keygen", "--out", key],
        ["profile", "seal", clear, "--out", sealed, "--key-file", key],
      ]) {
        const r = await runCli(args);
        if (r.code !== 0) throw new Error(r.stderr);
      }
      const input = await makeTestTs({ seconds: 6, muxrate: "3M", name: "si-6s.ts" });
      const out = join(dir, "sealed.ts");
      const r = await runCli([
        "inject",
        "--input",
        input,
        "--output",
        out,
        "--profile",
        sealed,
        "--key-file",
        key,
        "--store",
        storeFile,
        "--start-time",
        "2025-06-02T12:00:00Z",
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(
        /SI: service 1 "Eins HD – Übertragung" \/ "onair Test Provider" \(tsid 1, onid 0x20FA, from the profile\); \d+ events/,
      );
      expect(r.stdout).toMatch(/SI tables: .*eit-pf \d+/);
      const tags = await programTags(out);
      expect(tags.service_name).toBe("Eins HD – Übertragung");
    }, 60_000);

    it("refuses a --start-time that is not a time", async () => {
      const input = await makeTestTs({ seconds: 6, muxrate: "3M", name: "si-6s.ts" });
      const r = await runCli([
        "inject",
        "--input",
        input,
        "--output",
        join(dir, "x.ts"),
        "--store",
        storeFile,
        "--start-time",
        "yesterday",
      ]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("ONAIR_CLI_BAD_TIME");
    });
  });
});
