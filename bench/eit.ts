/**
 * EIT build time: all EIT sections (p/f + 7 days of schedule) of one channel with
 * ~40 items a day, UTF-8 titles and long descriptions, built from scratch (no previous
 * state, so every text is encoded and every CRC computed). Target ≤ 20 ms.
 *
 * Reference, measured in the same run: `JSON.stringify` of the same events followed by
 * UTF-8 encoding (TextEncoder). It is V8's native serializer doing the comparable job —
 * turning the same objects and strings into bytes — so the ratio shows what our bit
 * packing, DVB text handling, section splitting and CRC cost on top of plain
 * serialization, independently of the machine's speed.
 */
import { performance } from "node:perf_hooks";
import { buildPresentFollowing, buildSchedule, type SiEvent, type SiService } from "../src/si/index.js";

const DAY = 86_400_000;
const RUNS = 40;
const WARMUP = 5;

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

function events(from: number): SiEvent[] {
  const titles = ["Übertragung – Ελληνικά – 日本語", "Tagesschau", "Ελληνικά νέα", "日本語ニュース", "Ça commence"];
  const out: SiEvent[] = [];
  const slot = 36 * 60; // 40 items a day
  for (let i = 0; i < 40 * 7; i++) {
    out.push({
      eventId: i + 1,
      startMs: from + i * slot * 1000,
      durationSec: slot,
      title: `${titles[i % titles.length]} ${i}`,
      subtitle: "Folge 12 – Übertragung",
      description: "Eine lange Beschreibung mit Übertragung – Ελληνικά – 日本語 und mehr Text. ".repeat(3 + (i % 12)),
      language: "deu",
      content: [{ level1: 1 + (i % 9), level2: 0 }],
      parentalRating: [{ country: "DEU", rating: 9 }],
    });
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => unknown): number {
  const samples: number[] = [];
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const t = performance.now();
    fn();
    if (i >= WARMUP) samples.push(performance.now() - t);
  }
  return median(samples);
}

export async function run(): Promise<void> {
  const now = Math.floor(Date.UTC(2025, 5, 1) / DAY) * DAY;
  const evs = events(now);
  let sections = 0;
  let bytes = 0;
  const ours = time(() => {
    const pf = buildPresentFollowing(service, evs, now + 60_000);
    const s = buildSchedule(service, evs, now + 60_000, 7);
    sections = 2;
    bytes = pf.sections[0].length + pf.sections[1].length;
    for (const t of s.tables) {
      sections += t.sections.length;
      for (const x of t.sections) bytes += x.length;
    }
  });
  const enc = new TextEncoder();
  let refBytes = 0;
  const reference = time(() => {
    refBytes = enc.encode(JSON.stringify(evs)).length;
  });
  const line = (name: string, ms: number, extra: string): void => {
    process.stdout.write(`${name.padEnd(34)} ${ms.toFixed(2).padStart(8)} ms  ${extra}\n`);
  };
  line("EIT p/f + 7-day schedule (280 ev)", ours, `${sections} sections, ${bytes} bytes; target ≤ 20 ms: ${ours <= 20 ? "ok" : "MISSED"}`);
  line("reference JSON.stringify+UTF-8", reference, `${refBytes} bytes`);
  process.stdout.write(`ratio ours/reference: ${(ours / reference).toFixed(2)}\n`);
  await Promise.resolve();
}
