/**
 * Generates XMLTV test data: several channels, N days of ~40 programmes a day, UTF-8 titles
 * ("Übertragung – Ελληνικά – 日本語"), long descriptions, entities, categories, ratings,
 * episode numbers and start/stop written in mixed UTC offsets. Deterministic for a seed.
 * Also returns the expected programmes (UTC ms) so tests can compare without re-parsing.
 * No test-framework imports: the bench uses it too.
 */

export interface GenChannel {
  id: string;
  name?: string;
}

export interface GenOptions {
  channels?: GenChannel[];
  /** First programme start, UTC ms (default 2025-06-01T00:00:00Z). */
  startMs?: number;
  days?: number;
  /** Programmes per day per channel; durations alternate so a day is exactly 24 h. */
  perDay?: number;
  /** Total programmes per channel; overrides days × perDay. */
  count?: number;
  /** Approximate description length in characters (default 400). */
  descLength?: number;
  seed?: number;
}

export interface GenProgramme {
  channel: string;
  startMs: number;
  stopMs: number;
  title: string;
  subtitle: string;
  description: string;
  lang: string;
  category: string;
  rating?: { system: string; value: string };
  episode: string;
}

export const UTF8_TITLE = "Übertragung – Ελληνικά – 日本語";
export const CATEGORIES = ["Movie", "News", "Sports", "Kids", "Music", "Documentary", "Comedy", "Weather", "Talk", "Unclassified Stuff"];
const LANGS = ["de", "el", "ja", "en"];
const WORDS = [
  "Übertragung",
  "Ελληνικά",
  "日本語",
  "Nachrichten",
  "météo",
  "fútbol",
  "Großes",
  "Ζωή",
  "テレビ",
  "live",
  "broadcast",
  "&",
  "<special>",
  '"quoted"',
  "ünd",
  "ça",
];
const OFFSETS = [0, 60, 120, -300, 330, -180];

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function xmlEscape(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"));
}

/** XMLTV date of `ms` written in local time at `offsetMin` from UTC. */
export function xmltvDate(ms: number, offsetMin = 0): string {
  const d = new Date(ms + offsetMin * 60_000);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(
    d.getUTCSeconds(),
  )} ${sign}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
}

/** The programmes a generation produces, per channel, in start order. */
export function generateProgrammes(opts: GenOptions = {}): GenProgramme[] {
  const channels = opts.channels ?? [{ id: "one" }, { id: "two" }];
  const start0 = opts.startMs ?? Date.UTC(2025, 5, 1);
  const perDay = opts.perDay ?? 40;
  const count = opts.count ?? (opts.days ?? 7) * perDay;
  const descLength = opts.descLength ?? 400;
  // two durations alternating so that perDay programmes fill exactly 24 h
  const avg = Math.floor(86_400_000 / perDay);
  const durA = Math.round(avg * 0.8);
  const durB = 2 * avg - durA;
  const rnd = mulberry32(opts.seed ?? 42);
  const out: GenProgramme[] = [];
  for (const ch of channels) {
    let t = start0;
    for (let i = 0; i < count; i++) {
      const dur = i % 2 === 0 ? durA : durB;
      const w = (k: number): string => WORDS[Math.floor(rnd() * WORDS.length + k) % WORDS.length];
      let description = `${w(0)} ${w(1)}: `;
      while (description.length < descLength) description += `${w(2)} ${w(3)} ${w(4)}. `;
      const p: GenProgramme = {
        channel: ch.id,
        startMs: t,
        stopMs: t + dur,
        title: i % 3 === 0 ? `${UTF8_TITLE} ${i}` : `${w(5)} ${w(6)} #${i}`,
        subtitle: `Folge ${i} – ${w(7)}`,
        description: description.trim(),
        lang: LANGS[i % LANGS.length],
        category: CATEGORIES[i % CATEGORIES.length],
        episode: `${Math.floor(i / 40)}.${i % 40}.`,
      };
      if (i % 4 !== 3)
        p.rating = { system: i % 2 === 0 ? "FSK" : "MPAA", value: i % 2 === 0 ? String([0, 6, 12, 16, 18][i % 5]) : "PG-13" };
      out.push(p);
      t += dur;
    }
  }
  return out;
}

/** Serializes programmes as an XMLTV document; start/stop use a rotating set of UTC offsets. */
export function programmesToXmltv(programmes: GenProgramme[], channels?: GenChannel[]): string {
  const ids: GenChannel[] = channels ?? [...new Set(programmes.map((p) => p.channel))].map((id) => ({ id }));
  const parts: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE tv SYSTEM "xmltv.dtd">\n<tv generator-info-name="onair-test">\n',
  ];
  for (const c of ids) {
    parts.push(`  <channel id="${xmlEscape(c.id)}">\n    <display-name>${xmlEscape(c.name ?? c.id)}</display-name>\n  </channel>\n`);
  }
  let k = 0;
  for (const p of programmes) {
    const off = OFFSETS[k++ % OFFSETS.length];
    let s =
      `  <programme start="${xmltvDate(p.startMs, off)}" stop="${xmltvDate(p.stopMs, OFFSETS[(k + 2) % OFFSETS.length])}" channel="${xmlEscape(p.channel)}">\n` +
      `    <title lang="${p.lang}">${xmlEscape(p.title)}</title>\n` +
      `    <sub-title lang="${p.lang}">${xmlEscape(p.subtitle)}</sub-title>\n` +
      `    <desc lang="${p.lang}">${xmlEscape(p.description)}</desc>\n` +
      `    <category lang="en">${xmlEscape(p.category)}</category>\n` +
      `    <episode-num system="xmltv_ns">${p.episode}</episode-num>\n`;
    if (p.rating) s += `    <rating system="${p.rating.system}">\n      <value>${xmlEscape(p.rating.value)}</value>\n    </rating>\n`;
    parts.push(`${s}  </programme>\n`);
  }
  parts.push("</tv>\n");
  return parts.join("");
}

/** The 7-day, two-channel XMLTV of the acceptance test (and its programmes). */
export function generateXmltv(opts: GenOptions = {}): { xml: string; programmes: GenProgramme[] } {
  const programmes = generateProgrammes(opts);
  return { xml: programmesToXmltv(programmes, opts.channels), programmes };
}
