/**
 * XMLTV import and export (http://wiki.xmltv.org/index.php/XMLTVFormat).
 *
 * Import rules (where the format leaves room):
 * - Well-formedness is checked first with fast-xml-parser's validator, so malformed XML is
 *   reported with its line and column. Entities: the five XML ones, numeric references and
 *   internal DOCTYPE entities; CDATA is taken verbatim.
 * - Every `programme` must name a channel declared by a `<channel id=…>` element of the
 *   file (ONAIR_SCHEDULE_UNKNOWN_CHANNEL); only the programmes of the selected XMLTV
 *   channel are imported, the others are ignored.
 * - Dates: `YYYYMMDDhhmmss ±hhmm`; seconds, minutes and hours may be left off (they are 0);
 *   the offset may be left off or written `Z`/`UTC`/`GMT`, meaning UTC. Anything else is
 *   ONAIR_SCHEDULE_BAD_DATE.
 * - A programme without `stop` ends where the channel's next programme starts; the last one
 *   must have a stop (ONAIR_SCHEDULE_NO_STOP). stop ≤ start is ONAIR_SCHEDULE_BAD_TIMES,
 *   overlapping programmes ONAIR_SCHEDULE_OVERLAP.
 * - Several `title`/`sub-title`/`desc`: the first title wins and its `lang` is the item's
 *   language; sub-title and desc in the same language are preferred, else the first.
 * - `category`: the first one the DVB content table knows sets the content nibbles (and is
 *   kept as genre); if none is known the first category is kept as genre without nibbles.
 * - `rating`: the first one; the minimum age is the first number of its value.
 * - `episode-num`: all kept, with their system (default "onscreen").
 * Errors name the programme by its number in the file, its line, channel and start.
 */
import { XMLParser, XMLValidator, type EntityDecoderOptions } from "fast-xml-parser";
import { OnairError } from "../core/errors.js";
import { contentForCategories } from "./genre.js";
import {
  endMs,
  minAgeFromRating,
  type EpisodeNum,
  type ParentalRating,
  type ParsedSchedule,
  type ScheduleItem,
  type ScheduleItemInput,
} from "./model.js";

/** Longest programme accepted (7 days; the store's limit). */
const MAX_DURATION_MS = 7 * 24 * 3600_000;

export interface XmltvImportOptions {
  /** The `channel` attribute of the programmes to import. */
  xmltvChannel: string;
  /** File name for messages. */
  source?: string;
}

// ------------------------------------------------------------------ dates

const DATE_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?\s*(?:([+-])(\d{2}):?(\d{2})|Z|UTC|GMT)?$/;

/** Parses an XMLTV date to UTC epoch ms; undefined when it is not one. */
export function parseXmltvDate(s: string): number | undefined {
  const m = DATE_RE.exec(s.trim());
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  let offsetMin = 0;
  if (m[7] !== undefined) {
    const oh = Number(m[8]);
    const om = Number(m[9]);
    if (oh > 14 || om > 59) return undefined;
    offsetMin = (m[7] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const t = Date.UTC(year, month - 1, day, hour, minute, second);
  return t - offsetMin * 60_000;
}

/** Formats UTC epoch ms as an XMLTV date `YYYYMMDDhhmmss +0000`. */
export function formatXmltvDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(
    d.getUTCSeconds(),
  )} +0000`;
}

// ------------------------------------------------------------------ entities

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
const ENTITY_RE = /&(#[xX][0-9a-fA-F]+|#[0-9]+|[A-Za-z_][\w.-]*);/g;

/** The five XML entities, numeric references and the document's internal entities. */
class XmlEntityDecoder implements EntityDecoderOptions {
  private input: Record<string, string> = Object.create(null) as Record<string, string>;

  setExternalEntities(): void {}
  setXmlVersion(): void {}
  addInputEntities(entities: Record<string, string>): void {
    for (const [k, v] of Object.entries(entities)) this.input[k] = v;
  }
  reset(): void {
    this.input = Object.create(null) as Record<string, string>;
  }
  decode(text: string): string {
    if (text.indexOf("&") === -1) return text;
    return text.replace(ENTITY_RE, (whole, ref: string) => {
      if (ref.charCodeAt(0) === 35 /* # */) {
        const cp = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : whole;
      }
      return PREDEFINED[ref] ?? this.input[ref] ?? whole;
    });
  }
}

// ------------------------------------------------------------------ parse

const ARRAYS = new Set(["channel", "programme", "title", "sub-title", "desc", "category", "rating", "episode-num", "value"]);
const META = XMLParser.getMetaDataSymbol() as unknown as symbol;

type XNode = Record<string, unknown>;
type XText = string | XNode;

function text(n: XText | undefined): string {
  if (n === undefined) return "";
  if (typeof n === "string") return n.trim();
  const t = n["#text"];
  return typeof t === "string" ? t.trim() : "";
}

function attr(n: XText | undefined, name: string): string | undefined {
  if (n === undefined || typeof n === "string") return undefined;
  const v = n[`@_${name}`];
  return typeof v === "string" ? v : undefined;
}

function list(n: XNode, name: string): XText[] {
  const v = n[name];
  return Array.isArray(v) ? (v as XText[]) : v === undefined ? [] : [v as XText];
}

/** 1-based line of a character index in `s`. */
export function lineAt(s: string, index: number): number {
  let line = 1;
  for (let i = s.indexOf("\n"); i !== -1 && i < index; i = s.indexOf("\n", i + 1)) line++;
  return line;
}

function makeParser(): XMLParser {
  return new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "@_",
    parseTagValue: false,
    parseAttributeValue: false,
    trimValues: false,
    captureMetaData: true,
    processEntities: true,
    entityDecoder: new XmlEntityDecoder(),
    isArray: (name) => ARRAYS.has(name),
  });
}

interface Prog {
  n: number;
  index: number;
  start: number;
  stopAttr: string | undefined;
  stop: number | undefined;
  item: ScheduleItemInput;
}

/** Parses an XMLTV document and returns the programmes of one channel, validated. */
export function parseXmltv(xml: string, opts: XmltvImportOptions): ParsedSchedule {
  const source = opts.source ?? "XMLTV";
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  if (xml.trim() === "") throw new OnairError("ONAIR_SCHEDULE_EMPTY", `${source}: the file is empty`, { source });
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { line, col, msg } = valid.err;
    throw new OnairError("ONAIR_SCHEDULE_BAD_XML", `${source}:${line}${col ? `:${col}` : ""}: malformed XML: ${msg}`, {
      source,
      line,
      col,
    });
  }
  let doc: XNode;
  try {
    doc = makeParser().parse(xml) as XNode;
  } catch (e) {
    throw new OnairError("ONAIR_SCHEDULE_BAD_XML", `${source}: malformed XML: ${e instanceof Error ? e.message : String(e)}`, { source }, { cause: e });
  }
  const tv = doc.tv === "" ? {} : doc.tv; // <tv></tv> parses to ""
  if (tv === undefined || tv === null || typeof tv !== "object" || Array.isArray(tv)) {
    throw new OnairError("ONAIR_SCHEDULE_BAD_XML", `${source}: the root element is not <tv>`, { source });
  }
  const tvNode = tv as XNode;
  const lineOf = (n: XText): number | undefined => {
    const meta = typeof n === "object" ? ((n as Record<symbol, { startIndex?: number } | undefined>)[META]) : undefined;
    return meta?.startIndex === undefined ? undefined : lineAt(xml, meta.startIndex);
  };

  const declared = new Set<string>();
  for (const c of list(tvNode, "channel")) {
    const id = attr(c, "id");
    if (id !== undefined) declared.add(id);
  }

  const programmes = list(tvNode, "programme");
  const progs: Prog[] = [];
  const where = (p: XText, n: number, extra = ""): string => {
    const line = lineOf(p);
    return `${source}${line !== undefined ? `:${line}` : ""}: programme #${n}${extra}`;
  };
  for (let i = 0; i < programmes.length; i++) {
    const p = programmes[i];
    const n = i + 1;
    const ch = attr(p, "channel");
    if (ch === undefined) {
      throw new OnairError("ONAIR_SCHEDULE_BAD_PROGRAMME", `${where(p, n)} has no channel attribute`, { source, programme: n, line: lineOf(p) });
    }
    if (!declared.has(ch)) {
      throw new OnairError(
        "ONAIR_SCHEDULE_UNKNOWN_CHANNEL",
        `${where(p, n)} refers to channel "${ch}", which the file does not declare with <channel id="${ch}">`,
        { source, programme: n, line: lineOf(p), channel: ch },
      );
    }
    if (ch !== opts.xmltvChannel || typeof p === "string") continue;
    const startAttr = attr(p, "start");
    const ctx = (): string => where(p, n, ` (channel "${ch}", start "${startAttr ?? ""}")`);
    if (startAttr === undefined) {
      throw new OnairError("ONAIR_SCHEDULE_BAD_DATE", `${ctx()}: start attribute missing`, { source, programme: n, line: lineOf(p) });
    }
    const start = parseXmltvDate(startAttr);
    if (start === undefined) {
      throw new OnairError("ONAIR_SCHEDULE_BAD_DATE", `${ctx()}: start="${startAttr}" is not an XMLTV date (YYYYMMDDhhmmss +hhmm)`, {
        source,
        programme: n,
        line: lineOf(p),
        attribute: "start",
        value: startAttr,
      });
    }
    const stopAttr = attr(p, "stop");
    let stop: number | undefined;
    if (stopAttr !== undefined) {
      stop = parseXmltvDate(stopAttr);
      if (stop === undefined) {
        throw new OnairError("ONAIR_SCHEDULE_BAD_DATE", `${ctx()}: stop="${stopAttr}" is not an XMLTV date (YYYYMMDDhhmmss +hhmm)`, {
          source,
          programme: n,
          line: lineOf(p),
          attribute: "stop",
          value: stopAttr,
        });
      }
      if (stop <= start) {
        throw new OnairError("ONAIR_SCHEDULE_BAD_TIMES", `${ctx()}: stop "${stopAttr}" is not after start`, {
          source,
          programme: n,
          line: lineOf(p),
        });
      }
    }
    progs.push({ n, index: i, start, stopAttr, stop, item: programmeItem(p, ctx) });
  }
  if (progs.length === 0) {
    throw new OnairError(
      "ONAIR_SCHEDULE_NO_PROGRAMMES",
      `${source}: no programme for XMLTV channel "${opts.xmltvChannel}" (channels in the file: ${[...declared].join(", ") || "none"})`,
      { source, xmltvChannel: opts.xmltvChannel, channels: [...declared] },
    );
  }

  progs.sort((a, b) => a.start - b.start || a.n - b.n);
  const items: ScheduleItemInput[] = new Array<ScheduleItemInput>(progs.length);
  for (let k = 0; k < progs.length; k++) {
    const pr = progs[k];
    const p = programmes[pr.index];
    let stop = pr.stop;
    if (stop === undefined) {
      const next = progs[k + 1];
      if (!next) {
        throw new OnairError("ONAIR_SCHEDULE_NO_STOP", `${where(p, pr.n)}: the channel's last programme has no stop attribute`, {
          source,
          programme: pr.n,
          line: lineOf(p),
        });
      }
      stop = next.start;
      if (stop <= pr.start) {
        throw new OnairError("ONAIR_SCHEDULE_OVERLAP", `${where(p, pr.n)} has no stop and programme #${next.n} starts at the same time`, {
          source,
          programme: pr.n,
          line: lineOf(p),
        });
      }
    }
    if (stop - pr.start > MAX_DURATION_MS) {
      throw new OnairError("ONAIR_SCHEDULE_BAD_TIMES", `${where(p, pr.n)} lasts more than 7 days`, { source, programme: pr.n, line: lineOf(p) });
    }
    pr.item.startMs = pr.start;
    pr.item.durationMs = stop - pr.start;
    if (k > 0) {
      const prev = progs[k - 1];
      const prevItem = items[k - 1];
      if (pr.start < endMs(prevItem)) {
        throw new OnairError(
          "ONAIR_SCHEDULE_OVERLAP",
          `${where(p, pr.n)} (start "${attr(p, "start") ?? ""}") overlaps programme #${prev.n} (line ${
            lineOf(programmes[prev.index]) ?? "?"
          }, ${formatXmltvDate(prevItem.startMs)}–${formatXmltvDate(endMs(prevItem))})`,
          { source, programme: pr.n, line: lineOf(p), overlaps: prev.n, overlapsLine: lineOf(programmes[prev.index]) },
        );
      }
    }
    items[k] = pr.item;
  }
  return { items, windowStartMs: items[0].startMs, windowEndMs: endMs(items[items.length - 1]) };
}

function pick(nodes: XText[], lang: string | undefined): XText | undefined {
  if (nodes.length === 0) return undefined;
  if (lang !== undefined) {
    const same = nodes.find((t) => attr(t, "lang") === lang);
    if (same !== undefined) return same;
  }
  return nodes[0];
}

function programmeItem(p: XNode, ctx: () => string): ScheduleItemInput {
  const titles = list(p, "title");
  const titleNode = titles[0];
  const title = text(titleNode);
  if (title === "") {
    throw new OnairError("ONAIR_SCHEDULE_BAD_PROGRAMME", `${ctx()}: no title`, {});
  }
  const language = attr(titleNode, "lang");
  const item: ScheduleItemInput = { startMs: 0, durationMs: 0, title };
  if (language !== undefined && language !== "") item.language = language;
  const sub = text(pick(list(p, "sub-title"), language));
  if (sub !== "") item.subtitle = sub;
  const desc = text(pick(list(p, "desc"), language));
  if (desc !== "") item.description = desc;

  const categories = list(p, "category")
    .map(text)
    .filter((c) => c !== "");
  if (categories.length > 0) {
    const hit = contentForCategories(categories);
    if (hit) {
      item.genre = hit.genre;
      item.content = hit.content;
    } else {
      item.genre = categories[0];
    }
  }

  const rating = list(p, "rating")[0];
  if (rating !== undefined && typeof rating === "object") {
    const value = text(list(rating, "value")[0]);
    if (value !== "") {
      const r: ParentalRating = { value };
      const system = attr(rating, "system");
      if (system !== undefined && system !== "") r.system = system;
      const age = minAgeFromRating(value);
      if (age !== undefined) r.minAge = age;
      item.parentalRating = r;
    }
  }

  const eps: EpisodeNum[] = [];
  for (const e of list(p, "episode-num")) {
    const value = text(e);
    if (value !== "") eps.push({ system: attr(e, "system") ?? "onscreen", value });
  }
  if (eps.length > 0) item.episodeNums = eps;
  return item;
}

// ------------------------------------------------------------------ export

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&quot;"));
}

/** Writes the items of one channel as an XMLTV document (breaks are not part of XMLTV). */
export function exportXmltv(channel: string, items: ScheduleItem[], opts: { displayName?: string } = {}): string {
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE tv SYSTEM "xmltv.dtd">',
    '<tv generator-info-name="onair">',
    `  <channel id="${esc(channel)}">`,
    `    <display-name>${esc(opts.displayName ?? channel)}</display-name>`,
    "  </channel>",
  ];
  for (const it of items) {
    const lang = it.language ? ` lang="${esc(it.language)}"` : "";
    out.push(`  <programme start="${formatXmltvDate(it.startMs)}" stop="${formatXmltvDate(endMs(it))}" channel="${esc(channel)}">`);
    out.push(`    <title${lang}>${esc(it.title)}</title>`);
    if (it.subtitle) out.push(`    <sub-title${lang}>${esc(it.subtitle)}</sub-title>`);
    if (it.description) out.push(`    <desc${lang}>${esc(it.description)}</desc>`);
    if (it.genre) out.push(`    <category lang="en">${esc(it.genre)}</category>`);
    for (const e of it.episodeNums ?? []) out.push(`    <episode-num system="${esc(e.system)}">${esc(e.value)}</episode-num>`);
    if (it.parentalRating) {
      const sys = it.parentalRating.system ? ` system="${esc(it.parentalRating.system)}"` : "";
      out.push(`    <rating${sys}>`, `      <value>${esc(it.parentalRating.value)}</value>`, "    </rating>");
    }
    out.push("  </programme>");
  }
  out.push("</tv>", "");
  return out.join("\n");
}
