/**
 * Schedule file bytes to text, refusing what is not text (issue #19: bad bytes became U+FFFD).
 * - JSON is UTF-8 (RFC 8259 §8.1); a UTF-8 byte order mark is skipped.
 * - XMLTV is read in the encoding its byte order mark names, else the one its XML declaration
 *   names (`<?xml … encoding="ISO-8859-1"?>`), else UTF-8 (XML 1.0 §4.3.3, Appendix F).
 *   Labels resolve as in the WHATWG Encoding Standard (what `TextDecoder` does): ISO-8859-1,
 *   Latin-1 and US-ASCII are decoded as windows-1252, its superset.
 * - Bytes that are not text in that encoding → ONAIR_SCHEDULE_INVALID_TEXT, naming the first
 *   bad line; an encoding this Node cannot decode → ONAIR_SCHEDULE_UNSUPPORTED_ENCODING.
 * windows-1252 is decoded here, not by `TextDecoder`: Node 20.18.3+ decodes its bytes
 * 0x80–0x9F as C1 controls (ISO-8859-1), not as € ‚ ƒ „ … (nodejs/node#60888, #56542).
 */
import { TextDecoder } from "node:util";
import { OnairError } from "../core/errors.js";

export type TextFormat = "xmltv" | "json";

/** Added to ONAIR_SCHEDULE_INVALID_TEXT's message for an XMLTV file that declares no encoding. */
const DECLARE_HINT = " (declare the file's encoding in its XML declaration)";

const DECL_ENCODING_RE = /^<\?xml\s[^>]*?\bencoding\s*=\s*["']([^"']*)["']/;

/** The encoding label a document's bytes declare (or imply), before any decoding. */
function declaredEncoding(bytes: Uint8Array, format: TextFormat): { label: string; declared: boolean } {
  const [b0, b1, b2, b3] = bytes;
  if (b0 === 0xef && b1 === 0xbb && b2 === 0xbf) return { label: "utf-8", declared: false };
  if (format === "json") return { label: "utf-8", declared: false };
  if (b0 === 0xff && b1 === 0xfe) return { label: "utf-16le", declared: false };
  if (b0 === 0xfe && b1 === 0xff) return { label: "utf-16be", declared: false };
  if (b0 === 0x3c && b1 === 0x00 && b2 === 0x3f && b3 === 0x00) return { label: "utf-16le", declared: false };
  if (b0 === 0x00 && b1 === 0x3c && b2 === 0x00 && b3 === 0x3f) return { label: "utf-16be", declared: false };
  // the declaration is ASCII in every encoding this branch can meet
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 256)).toString("latin1");
  const m = DECL_ENCODING_RE.exec(head);
  return m ? { label: m[1].trim(), declared: true } : { label: "utf-8", declared: false };
}

function decoderFor(label: string, source: string): TextDecoder {
  try {
    return new TextDecoder(label, { fatal: true });
  } catch (e) {
    throw new OnairError(
      "ONAIR_SCHEDULE_UNSUPPORTED_ENCODING",
      `${source}: the XML declaration names encoding "${label}", which onair cannot decode (use UTF-8 or an encoding of the WHATWG Encoding Standard)`,
      { source, encoding: label },
      { cause: e },
    );
  }
}

/** Decodes a schedule file; see the module comment for the rules. */
export function decodeScheduleBytes(bytes: Uint8Array, format: TextFormat, source: string): string {
  const { label, declared } = declaredEncoding(bytes, format);
  const decoder = decoderFor(label, source);
  if (declared && decoder.encoding.startsWith("utf-16")) {
    // a declaration readable as ASCII is not UTF-16 text (XML 1.0 Appendix F)
    throw new OnairError("ONAIR_SCHEDULE_INVALID_TEXT", `${source}:1: the file declares ${label} but is not written in it`, {
      source,
      line: 1,
      encoding: decoder.encoding,
    });
  }
  if (decoder.encoding === "windows-1252") return decodeWindows1252(bytes);
  try {
    return decoder.decode(bytes);
  } catch (e) {
    const line = firstBadLine(bytes, decoder);
    throw new OnairError(
      "ONAIR_SCHEDULE_INVALID_TEXT",
      `${source}:${line}: bytes that are not ${decoder.encoding} text${format === "xmltv" && !declared ? DECLARE_HINT : ""}`,
      { source, line, encoding: decoder.encoding },
      { cause: e },
    );
  }
}

/** 1-based line of the first line that does not decode (lines end at LF; UTF-16 in 2-byte units). */
function firstBadLine(bytes: Uint8Array, decoder: TextDecoder): number {
  const unit = decoder.encoding.startsWith("utf-16") ? 2 : 1;
  const lf = decoder.encoding === "utf-16be" ? 1 : 0;
  let line = 1;
  let start = 0;
  for (let i = 0; i + unit <= bytes.length; i += unit) {
    if (bytes[i + lf] !== 0x0a || (unit === 2 && bytes[i + 1 - lf] !== 0)) continue;
    if (!decodes(decoder, bytes.subarray(start, i))) return line;
    line++;
    start = i + unit;
  }
  return line;
}

function decodes(decoder: TextDecoder, bytes: Uint8Array): boolean {
  try {
    decoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * WHATWG index-windows-1252 for bytes 0x80–0x9F (every other byte is its own code point;
 * 0x81, 0x8D, 0x8F, 0x90 and 0x9D too).
 */
const WINDOWS_1252_C1 =
  "\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f" +
  "\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178";

/** windows-1252 bytes to text (never fails: the encoding defines all 256 bytes). */
export function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("latin1");
  return latin1.replace(/[\u0080-\u009f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80]);
}
