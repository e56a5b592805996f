/**
 * DVB text fields (EN 300 468 Annex A).
 *
 * Encoding, in this order:
 * - Plain ASCII (U+0020–U+007E and "\n") is written bare, i.e. in the default table;
 *   "\n" becomes the DVB line break 0x8A. This is what ffmpeg writes.
 * - Otherwise, with `charset: "iso-8859-N"`, the selector for that table followed by one
 *   byte per character — if every character exists in the table. A string with a
 *   character the table lacks falls back to UTF-8 as a whole (one selector per field, so
 *   mixing tables inside a field is impossible; losing characters would be worse).
 * - Otherwise (the default) 0x15 + UTF-8; "\n" becomes U+E08A (the Annex A control
 *   code for line break in the multi-byte tables).
 * C0/C1 control characters other than "\n" and DEL are dropped on encode.
 * Lengths include the selector; a text that does not fit its byte budget is cut at a
 * character (code point) boundary, never inside a UTF-8 sequence or a surrogate pair.
 *
 * ISO 8859 tables are built at first use from Node's `TextDecoder` (full ICU), upper half
 * 0xA0–0xFF only: 0x80–0x9F are DVB control codes. The WHATWG labels for 8859-1/-9/-11
 * resolve to windows-1252/-1254/-874, which agree with ISO 8859 in 0xA0–0xFF.
 *
 * Decoding understands no selector (default table, read as Latin-1: an approximation of
 * the ISO 6937-based table 00 that is exact for ASCII), 0x01–0x0B, 0x10 0x00 NN, 0x11
 * (UCS-2 BE), 0x12/0x13/0x14 (EUC-KR, GB2312 via GBK, Big5 via ICU) and 0x15 (UTF-8);
 * 0x86/0x87 (emphasis) are ignored and 0x8A is a newline. Compressed text (0x1F) and
 * reserved selectors decode to "".
 */

/** ISO 8859 parts Node can decode (8859-12 does not exist; 8859-16 is not in ICU's WHATWG set). */
export type Iso8859Part = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 13 | 14 | 15;
/** Character table for non-ASCII text, from the profile. */
export type DvbCharset = "utf-8" | `iso-8859-${Iso8859Part}`;

export interface DvbTextOptions {
  /** Table for non-ASCII text; default "utf-8" (selector 0x15). */
  charset?: DvbCharset;
}

const ISO_PARTS: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15];

/** True if `s` names a charset this module can write. */
export function isDvbCharset(s: string): s is DvbCharset {
  if (s === "utf-8") return true;
  const m = /^iso-8859-(\d{1,2})$/.exec(s);
  return m !== null && ISO_PARTS.includes(Number(m[1]));
}

/** Selector bytes for ISO 8859 part `n` (single byte where Annex A defines one). */
export function iso8859Selector(n: number): Uint8Array {
  if (n >= 5 && n <= 11) return Uint8Array.of(n - 4);
  if (n >= 13 && n <= 15) return Uint8Array.of(n - 4);
  return Uint8Array.of(0x10, 0x00, n);
}

interface Iso8859Table {
  /** code point → byte (upper half only; ASCII is identity). */
  encode: Map<number, number>;
  /** byte → code point, or -1 for undefined positions / control codes to skip. */
  decode: Int32Array;
  selector: Uint8Array;
}

const isoTables = new Map<number, Iso8859Table>();

function isoTable(n: number): Iso8859Table {
  let t = isoTables.get(n);
  if (t) return t;
  const decodeTable = new Int32Array(256).fill(-1);
  for (let b = 0x20; b < 0x7f; b++) decodeTable[b] = b;
  decodeTable[0x8a] = 0x0a;
  const encode = new Map<number, number>();
  const upper = new Uint8Array(0x60);
  for (let i = 0; i < 0x60; i++) upper[i] = 0xa0 + i;
  const s = new TextDecoder(`iso-8859-${n}`).decode(upper);
  for (let i = 0; i < 0x60; i++) {
    const cp = s.charCodeAt(i);
    if (cp === 0xfffd) continue;
    decodeTable[0xa0 + i] = cp;
    if (!encode.has(cp)) encode.set(cp, 0xa0 + i);
  }
  t = { encode, decode: decodeTable, selector: iso8859Selector(n) };
  isoTables.set(n, t);
  return t;
}

/** Default table 00, approximated by Latin-1 for 0xA0–0xFF. */
const DEFAULT_TABLE: Int32Array = (() => {
  const d = new Int32Array(256).fill(-1);
  for (let b = 0x20; b < 0x7f; b++) d[b] = b;
  for (let b = 0xa0; b <= 0xff; b++) d[b] = b;
  d[0x8a] = 0x0a;
  return d;
})();

const enum Kind {
  Ascii,
  Iso,
  Utf8,
}

function isDropped(c: number): boolean {
  return (c < 0x20 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f);
}

/** Scratch for one encoded text: 0x15 + at most 255 bytes. */
const scratch = new Uint8Array(1024);

/** Result of {@link encodeDvbTextPart}: the bytes and where in the string encoding stopped. */
export interface EncodedTextPart {
  bytes: Uint8Array;
  /** Index (UTF-16 code unit) in the string after the last character encoded. */
  end: number;
}

/** How the whole of `text` (from `start`) would be encoded. */
function classify(text: string, start: number, charset: DvbCharset): { kind: Kind; iso?: Iso8859Table } {
  let ascii = true;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e && !isDropped(c)) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { kind: Kind.Ascii };
  if (charset !== "utf-8") {
    const t = isoTable(Number(charset.slice(9)));
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c <= 0x7e || isDropped(c)) continue;
      if (!t.encode.has(c)) return { kind: Kind.Utf8 };
    }
    return { kind: Kind.Iso, iso: t };
  }
  return { kind: Kind.Utf8 };
}

/**
 * Encodes `text` from index `start` into at most `maxBytes` bytes (selector included),
 * stopping at a character boundary. The charset is chosen for the whole remaining
 * string, so successive parts of one long text use the same table.
 */
export function encodeDvbTextPart(text: string, start: number, maxBytes: number, opts?: DvbTextOptions): EncodedTextPart {
  if (start >= text.length || maxBytes <= 0) return { bytes: new Uint8Array(0), end: start };
  const { kind, iso } = classify(text, start, opts?.charset ?? "utf-8");
  const budget = Math.min(maxBytes, scratch.length);
  let n = 0;
  let i = start;
  if (kind === Kind.Ascii) {
    while (i < text.length && n < budget) {
      const c = text.charCodeAt(i);
      if (!isDropped(c)) scratch[n++] = c === 0x0a ? 0x8a : c;
      i++;
    }
  } else if (kind === Kind.Iso && iso) {
    const sel = iso.selector;
    if (budget <= sel.length) return { bytes: new Uint8Array(0), end: start };
    scratch.set(sel, 0);
    n = sel.length;
    while (i < text.length && n < budget) {
      const c = text.charCodeAt(i);
      if (!isDropped(c)) scratch[n++] = c === 0x0a ? 0x8a : c <= 0x7e ? c : (iso.encode.get(c) ?? 0x3f);
      i++;
    }
  } else {
    if (budget <= 1) return { bytes: new Uint8Array(0), end: start };
    scratch[0] = 0x15;
    n = 1;
    while (i < text.length) {
      let cp = text.charCodeAt(i);
      let units = 1;
      if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < text.length) {
        const lo = text.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          units = 2;
        }
      }
      if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
      if (isDropped(cp)) {
        i += units;
        continue;
      }
      if (cp === 0x0a) cp = 0xe08a;
      const len = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (n + len > budget) break;
      if (len === 1) {
        scratch[n++] = cp;
      } else if (len === 2) {
        scratch[n++] = 0xc0 | (cp >> 6);
        scratch[n++] = 0x80 | (cp & 0x3f);
      } else if (len === 3) {
        scratch[n++] = 0xe0 | (cp >> 12);
        scratch[n++] = 0x80 | ((cp >> 6) & 0x3f);
        scratch[n++] = 0x80 | (cp & 0x3f);
      } else {
        scratch[n++] = 0xf0 | (cp >> 18);
        scratch[n++] = 0x80 | ((cp >> 12) & 0x3f);
        scratch[n++] = 0x80 | ((cp >> 6) & 0x3f);
        scratch[n++] = 0x80 | (cp & 0x3f);
      }
      i += units;
    }
    if (n === 1) n = 0; // nothing fitted (or only dropped characters): no bare selector
  }
  // A part of a non-ASCII text may itself be plain ASCII: write it bare, as the part
  // would be on its own (shorter, and decode → encode gives the same bytes back).
  if (kind !== Kind.Ascii && n > 0 && classify(text.slice(start, i), 0, "utf-8").kind === Kind.Ascii) {
    n = 0;
    for (let j = start; j < i; j++) {
      const c = text.charCodeAt(j);
      if (!isDropped(c)) scratch[n++] = c === 0x0a ? 0x8a : c;
    }
  }
  // Skip characters that encode to nothing so the caller's `end` moves past them.
  while (i < text.length && isDropped(text.charCodeAt(i))) i++;
  return { bytes: scratch.slice(0, n), end: i };
}

/**
 * Encodes a DVB text field of at most `maxBytes` bytes (default 255, selector included),
 * cutting at a character boundary.
 */
export function encodeDvbText(text: string, opts?: DvbTextOptions, maxBytes = 255): Uint8Array {
  return encodeDvbTextPart(text, 0, maxBytes, opts).bytes;
}

type Decoder = InstanceType<typeof TextDecoder>;
const decoders = new Map<string, Decoder>();
function decoder(label: string): Decoder {
  let d = decoders.get(label);
  if (!d) {
    d = new TextDecoder(label);
    decoders.set(label, d);
  }
  return d;
}

function decodeSingleByte(bytes: Uint8Array, start: number, end: number, table: Int32Array): string {
  let out = "";
  for (let i = start; i < end; i++) {
    const cp = table[bytes[i]];
    if (cp >= 0) out += String.fromCharCode(cp);
  }
  return out;
}

function mapMultiByteControls(s: string): string {
  if (!/[\ue080-\ue09f]/.test(s)) return s;
  return s.replace(/[\ue080-\ue09f]/g, (c) => (c === "\ue08a" ? "\n" : ""));
}

/** Decodes a DVB text field bytes[start, end). */
export function decodeDvbText(bytes: Uint8Array, start = 0, end = bytes.length): string {
  if (end <= start) return "";
  const first = bytes[start];
  if (first >= 0x20) return decodeSingleByte(bytes, start, end, DEFAULT_TABLE);
  if ((first >= 0x01 && first <= 0x07) || (first >= 0x09 && first <= 0x0b)) {
    return decodeSingleByte(bytes, start + 1, end, isoTable(first + 4).decode);
  }
  switch (first) {
    case 0x10: {
      const n = end - start >= 3 ? bytes[start + 2] : 0;
      const table = ISO_PARTS.includes(n) ? isoTable(n).decode : DEFAULT_TABLE;
      return decodeSingleByte(bytes, start + 3, end, table);
    }
    case 0x11:
      return mapMultiByteControls(decoder("utf-16be").decode(bytes.subarray(start + 1, end)));
    case 0x12:
      return decoder("euc-kr").decode(bytes.subarray(start + 1, end));
    case 0x13:
      return decoder("gbk").decode(bytes.subarray(start + 1, end));
    case 0x14:
      return decoder("big5").decode(bytes.subarray(start + 1, end));
    case 0x15:
      return mapMultiByteControls(decoder("utf-8").decode(bytes.subarray(start + 1, end)));
    default:
      return "";
  }
}

/** The string as it reads back after encoding: control characters other than "\n" removed. */
export function normalizeDvbText(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (!isDropped(c)) out += text[i];
  }
  return out;
}
