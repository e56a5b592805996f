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
 *   the offset may be left off or written `Z`/`UTC`/`GMT`, meaning UTC. A date must be a real
 *   calendar time, its year as written (calendar.ts). Anything else is ONAIR_SCHEDULE_BAD_DATE.
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
import { utcMs } from "./calendar.js";
import { contentForCategories } from "./genre.js";
import { itemTextTooLong, outOfBoundsText, short, startInBounds, type StartBounds, type TextField } from "./limits.js";
import {
  endMs,
  minAgeFromRating,
  type EpisodeNum,
  type ParentalRating,
  type ParsedSchedule,
  type ScheduleItem,
  type ScheduleItemInput,
} from "./model.js";
import { checkReferences, isXmlChar, lineAt, refuseEntityDeclarations } from "./xml-guard.js";

/** Longest programme accepted (7 days; the store's limit). */
const MAX_DURATION_MS = 7 * 24 * 3600_000;

export interface XmltvImportOptions {
  /** The `channel` attribute of the programmes to import. */
  xmltvChannel: string;
  /** File name for messages. */
  source?: string;
  /** Accepted programme starts (ONAIR_SCHEDULE_OUT_OF_RANGE); undefined: any. */
  starts?: StartBounds | undefined;
}

// ------------------------------------------------------------------ dates

const DATE_RE = /^(\d{4})(\d{2})(\d{2})(\d{2})?(\d{2})?(\d{2})?\s*(?:([+-])(\d{2}):?(\d{2})|Z|UTC|GMT)?$/;

/** Parses an XMLTV date to UTC epoch ms; undefined when it is not one. */
export function parseXmltvDate(s: string): number | undefined {
  const m = DATE_RE.exec(s.trim());
  if (!m) return undefined;
  const t = utcMs(
    Number(m[1]),
    Number(m[2]),
    Number(m[3]),
    m[4] === undefined ? 0 : Number(m[4]),
    m[5] === undefined ? 0 : Number(m[5]),
    m[6] === undefined ? 0 : Number(m[6]),
  );
  if (t === undefined) return undefined;
  let offsetMin = 0;
  if (m[7] !== undefined) {
    const oh = Number(m[8]);
    const om = Number(m[9]);
    if (oh > 14 || om > 59) return undefined;
    offsetMin = (m[7] === "-" ? -1 : 1) * (oh * 60 + om);
  }
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

/**
 * The five XML entities and numeric references. The document's own entities are never
 * expanded: `checkReferences` has refused the file before parsing if it used any, so an
 * unknown reference here is a backstop error, not literal text.
 */
class XmlEntityDecoder implements EntityDecoderOptions {
  setExternalEntities(): void {}
  setXmlVersion(): void {}
  addInputEntities(): void {}
  reset(): void {}
  decode(text: string): string {
    if (text.indexOf("&") === -1) return text;
    return text.replace(ENTITY_RE, (whole, ref: string) => {
      if (ref.charCodeAt(0) === 35 /* # */) {
        const cp = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (isXmlChar(cp)) return String.fromCodePoint(cp);
      }
      const known = PREDEFINED[ref];
      if (known === undefined)
        throw new OnairError("ONAIR_XMLTV_UNKNOWN_ENTITY", `unknown entity or reference ${whole}`, { reference: whole });
      return known;
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

/** Checks the text (entities before anything else), then parses it; returns the `<tv>` element. */
function parseTv(xml: string, source: string): XNode {
  if (xml.trim() === "") throw new OnairError("ONAIR_SCHEDULE_EMPTY", `${source}: the file is empty`, { source });
  const prologEnd = refuseEntityDeclarations(xml, source);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) {
    const { line, col, msg } = valid.err;
    throw new OnairError("ONAIR_SCHEDULE_BAD_XML", `${source}:${line}${col ? `:${col}` : ""}: malformed XML: ${msg}`, {
      source,
      line,
      col,
    });
  }
  checkReferences(xml, prologEnd, source);
  let doc: XNode;
  try {
    doc = makeParser().parse(xml) as XNode;
  } catch (e) {
    if (e instanceof OnairError) throw e;
    throw new OnairError(
      "ONAIR_SCHEDULE_BAD_XML",
      `${source}: malformed XML: ${e instanceof Error ? e.message : String(e)}`,
      { source },
      { cause: e },
    );
  }
  const tv = doc.tv === "" ? {} : doc.tv; // <tv></tv> parses to ""
  if (tv === undefined || tv === null || typeof tv !== "object" || Array.isArray(tv)) {
    throw new OnairError("ONAIR_SCHEDULE_BAD_XML", `${source}: the root element is not <tv>`, { source });
  }
  return tv as XNode;
}

interface Prog {
  n: number;
  index: number;
  start: number;
  stopAttr: string | undefined;
  stop: number | undefined;
  item: ScheduleItemInput;
}

/** Where a programme is, for messages and error fields. */
interface At {
  /** `file:line: programme #n (channel "c", start "s")` */
  ctx(): string;
  /** source, programme, line (computed on demand: finding a line scans the text) */
  fields(): Record<string, unknown>;
}

/** The parse of one document: its text, source name and node lines. */
class Doc {
  constructor(
    readonly xml: string,
    readonly source: string,
  ) {}

  lineOf(n: XText): number | undefined {
    const meta = typeof n === "object" ? (n as Record<symbol, { startIndex?: number } | undefined>)[META] : undefined;
    return meta?.startIndex === undefined ? undefined : lineAt(this.xml, meta.startIndex);
  }

  where(p: XText, n: number, extra = ""): string {
    const line = this.lineOf(p);
    return `${this.source}${line !== undefined ? `:${line}` : ""}: programme #${n}${extra}`;
  }

  at(p: XNode, n: number): At {
    const ch = attr(p, "channel") ?? "";
    const start = attr(p, "start") ?? "";
    return {
      ctx: () => this.where(p, n, ` (channel "${short(ch)}", start "${short(start)}")`),
      fields: () => ({ source: this.source, programme: n, line: this.lineOf(p) }),
    };
  }
}

/** Parses an XMLTV document and returns the programmes of one channel, validated. */
export function parseXmltv(xml: string, opts: XmltvImportOptions): ParsedSchedule {
  const source = opts.source ?? "XMLTV";
  if (xml.charCodeAt(0) === 0xfeff) xml = xml.slice(1);
  const tvNode = parseTv(xml, source);
  const doc = new Doc(xml, source);
  const declared = new Set<string>();
  for (const c of list(tvNode, "channel")) {
    const id = attr(c, "id");
    if (id !== undefined) declared.add(id);
  }
  const programmes = list(tvNode, "programme");
  const progs: Prog[] = [];
  for (let i = 0; i < programmes.length; i++) {
    const prog = readProgramme(doc, programmes[i], i + 1, declared, opts);
    if (prog) progs.push({ ...prog, index: i });
  }
  if (progs.length === 0) {
    throw new OnairError(
      "ONAIR_SCHEDULE_NO_PROGRAMMES",
      `${source}: no programme for XMLTV channel "${opts.xmltvChannel}" (channels in the file: ${short([...declared].join(", ")) || "none"})`,
      { source, xmltvChannel: opts.xmltvChannel, channels: [...declared] },
    );
  }
  const items = timeline(doc, programmes, progs);
  return { items, windowStartMs: items[0].startMs, windowEndMs: endMs(items[items.length - 1]) };
}

/** One `programme`: checked against the declared channels; read when it is of the selected channel. */
function readProgramme(doc: Doc, p: XText, n: number, declared: Set<string>, opts: XmltvImportOptions): Omit<Prog, "index"> | undefined {
  const { source } = doc;
  const ch = attr(p, "channel");
  if (ch === undefined) {
    throw new OnairError("ONAIR_SCHEDULE_BAD_PROGRAMME", `${doc.where(p, n)} has no channel attribute`, {
      source,
      programme: n,
      line: doc.lineOf(p),
    });
  }
  if (!declared.has(ch)) {
    throw new OnairError(
      "ONAIR_SCHEDULE_UNKNOWN_CHANNEL",
      `${doc.where(p, n)} refers to channel "${short(ch)}", which the file does not declare with <channel id="${short(ch)}">`,
      { source, programme: n, line: doc.lineOf(p), channel: short(ch) },
    );
  }
  if (ch !== opts.xmltvChannel || typeof p === "string") return undefined;
  const at = doc.at(p, n);
  const startAttr = attr(p, "start");
  if (startAttr === undefined) throw new OnairError("ONAIR_SCHEDULE_BAD_DATE", `${at.ctx()}: start attribute missing`, at.fields());
  const start = readDate(startAttr, "start", at);
  if (!startInBounds(start, opts.starts)) {
    throw new OnairError("ONAIR_SCHEDULE_OUT_OF_RANGE", `${at.ctx()} ${outOfBoundsText(start, opts.starts!)}`, {
      ...at.fields(),
      startMs: start,
    });
  }
  const stopAttr = attr(p, "stop");
  const stop = stopAttr === undefined ? undefined : readDate(stopAttr, "stop", at);
  if (stop !== undefined && stop <= start) {
    throw new OnairError("ONAIR_SCHEDULE_BAD_TIMES", `${at.ctx()}: stop "${short(stopAttr ?? "")}" is not after start`, at.fields());
  }
  return { n, start, stopAttr, stop, item: programmeItem(p, at) };
}

function readDate(value: string, attribute: "start" | "stop", at: At): number {
  const ms = parseXmltvDate(value);
  if (ms === undefined) {
    throw new OnairError(
      "ONAIR_SCHEDULE_BAD_DATE",
      `${at.ctx()}: ${attribute}="${short(value)}" is not an XMLTV date (YYYYMMDDhhmmss +hhmm)`,
      {
        ...at.fields(),
        attribute,
        value: short(value),
      },
    );
  }
  return ms;
}

/** Sorts the programmes by start, ends those without stop at the next start, refuses overlaps. */
function timeline(doc: Doc, programmes: XText[], progs: Prog[]): ScheduleItemInput[] {
  const { source } = doc;
  progs.sort((a, b) => a.start - b.start || a.n - b.n);
  const items: ScheduleItemInput[] = new Array<ScheduleItemInput>(progs.length);
  for (let k = 0; k < progs.length; k++) {
    const pr = progs[k];
    const p = programmes[pr.index];
    const fields = (): Record<string, unknown> => ({ source, programme: pr.n, line: doc.lineOf(p) });
    let stop = pr.stop;
    if (stop === undefined) {
      const next = progs[k + 1] as Prog | undefined;
      if (!next)
        throw new OnairError(
          "ONAIR_SCHEDULE_NO_STOP",
          `${doc.where(p, pr.n)}: the channel's last programme has no stop attribute`,
          fields(),
        );
      stop = next.start;
      if (stop <= pr.start) {
        throw new OnairError(
          "ONAIR_SCHEDULE_OVERLAP",
          `${doc.where(p, pr.n)} has no stop and programme #${next.n} starts at the same time`,
          fields(),
        );
      }
    }
    if (stop - pr.start > MAX_DURATION_MS)
      throw new OnairError("ONAIR_SCHEDULE_BAD_TIMES", `${doc.where(p, pr.n)} lasts more than 7 days`, fields());
    pr.item.startMs = pr.start;
    pr.item.durationMs = stop - pr.start;
    if (k > 0 && pr.start < endMs(items[k - 1])) {
      const prev = progs[k - 1];
      const prevItem = items[k - 1];
      const prevLine = doc.lineOf(programmes[prev.index]);
      throw new OnairError(
        "ONAIR_SCHEDULE_OVERLAP",
        `${doc.where(p, pr.n)} (start "${attr(p, "start") ?? ""}") overlaps programme #${prev.n} (line ${prevLine ?? "?"}, ${formatXmltvDate(
          prevItem.startMs,
        )}–${formatXmltvDate(endMs(prevItem))})`,
        { ...fields(), overlaps: prev.n, overlapsLine: prevLine },
      );
    }
    items[k] = pr.item;
  }
  return items;
}

function pick(nodes: XText[], lang: string | undefined): XText | undefined {
  if (nodes.length === 0) return undefined;
  if (lang !== undefined) {
    const same = nodes.find((t) => attr(t, "lang") === lang);
    if (same !== undefined) return same;
  }
  return nodes[0];
}

/** The XMLTV element or attribute each limited text comes from. */
const XMLTV_FIELD: Record<TextField, string> = {
  title: "title",
  subtitle: "sub-title",
  description: "desc",
  genre: "category",
  language: "title lang",
  rating: "rating",
  episodeNum: "episode-num",
  breakId: "break id",
};

function programmeItem(p: XNode, at: At): ScheduleItemInput {
  const item = programmeFields(p, at);
  const long = itemTextTooLong(item);
  if (long) {
    throw new OnairError(
      "ONAIR_SCHEDULE_TEXT_TOO_LONG",
      `${at.ctx()}: the ${XMLTV_FIELD[long.field]} is ${long.bytes} bytes of UTF-8; the limit is ${long.limit}`,
      { ...at.fields(), field: long.field, bytes: long.bytes, limit: long.limit },
    );
  }
  return item;
}

function programmeFields(p: XNode, at: At): ScheduleItemInput {
  const titles = list(p, "title");
  const titleNode = titles[0];
  const title = text(titleNode);
  if (title === "") {
    throw new OnairError("ONAIR_SCHEDULE_BAD_PROGRAMME", `${at.ctx()}: no title`, at.fields());
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
