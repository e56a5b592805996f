/**
 * Checks on XMLTV text before it is parsed (issue #18: a 35 KB file whose internal entity
 * expanded to a 50 MB title; issue #19: unknown entities were kept as literal text).
 * - A DOCTYPE whose internal subset declares an entity (general or parameter) is refused,
 *   before any parsing: ONAIR_XMLTV_ENTITY. A DOCTYPE without one (`<!DOCTYPE tv SYSTEM
 *   "xmltv.dtd">`, as XMLTV files carry) is fine; external DTDs are never read.
 * - Outside CDATA sections, comments and processing instructions, every `&` starts one of
 *   the five XML entities or a reference to a character XML allows: else
 *   ONAIR_XMLTV_UNKNOWN_ENTITY (an unknown name or a reference to a non-character) or
 *   ONAIR_SCHEDULE_BAD_XML (an `&` that starts no reference). Errors name the line.
 * Both run in time linear in the text.
 */
import { OnairError } from "../core/errors.js";

/** 1-based line of a character index in `s`. */
export function lineAt(s: string, index: number): number {
  let line = 1;
  for (let i = s.indexOf("\n"); i !== -1 && i < index; i = s.indexOf("\n", i + 1)) line++;
  return line;
}

/** Index just past `end` searched from `from` (the text's length when it is missing). */
function after(s: string, end: string, from: number): number {
  const i = s.indexOf(end, from);
  return i === -1 ? s.length : i + end.length;
}

/**
 * Refuses entity declarations in the prolog's DOCTYPE; returns the index where the prolog
 * (XML declaration, comments, processing instructions, DOCTYPE) ends.
 */
export function refuseEntityDeclarations(xml: string, source: string): number {
  let i = 0;
  for (;;) {
    while (i < xml.length && /\s/.test(xml[i])) i++;
    if (xml.startsWith("<?", i)) i = after(xml, "?>", i + 2);
    else if (xml.startsWith("<!--", i)) i = after(xml, "-->", i + 4);
    else if (xml.startsWith("<!DOCTYPE", i)) i = doctypeEnd(xml, i + 9, source);
    else return i;
  }
}

/** Scans a DOCTYPE from after its keyword to after its `>`, throwing on `<!ENTITY` in its subset. */
function doctypeEnd(xml: string, from: number, source: string): number {
  let quote = "";
  let subset = false;
  for (let j = from; j < xml.length; j++) {
    const c = xml[j];
    if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") quote = c;
    else if (!subset) {
      if (c === "[") subset = true;
      else if (c === ">") return j + 1;
    } else if (c === "]") subset = false;
    else if (xml.startsWith("<!--", j)) j = after(xml, "-->", j + 4) - 1;
    else if (xml.startsWith("<?", j)) j = after(xml, "?>", j + 2) - 1;
    else if (xml.slice(j, j + 8).toUpperCase() === "<!ENTITY") {
      const name = /^<!ENTITY\s+(%\s+)?([^\s"'>]{1,64})/i.exec(xml.slice(j, j + 100))?.[2] ?? "";
      const line = lineAt(xml, j);
      throw new OnairError(
        "ONAIR_XMLTV_ENTITY",
        `${source}:${line}: the DOCTYPE declares entity "${name}"; entity declarations are refused (they can expand a small file into gigabytes)`,
        { source, line, entity: name },
      );
    }
  }
  return xml.length;
}

const PREDEFINED = new Set(["amp", "lt", "gt", "quot", "apos"]);
const REF_RE = /&(?:#x([0-9a-fA-F]{1,8})|#([0-9]{1,10})|([A-Za-z_:][\w.:-]{0,127}));/y;

/** A code point XML 1.0 allows as a character (§2.2 Char). */
export function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 ||
    cp === 0xa ||
    cp === 0xd ||
    (cp >= 0x20 && cp <= 0xd7ff) ||
    (cp >= 0xe000 && cp <= 0xfffd) ||
    (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Checks every entity and character reference after `from` (see the module comment). */
export function checkReferences(xml: string, from: number, source: string): void {
  const skip = /<!\[CDATA\[|<!--|<\?|&/g;
  skip.lastIndex = from;
  for (let m = skip.exec(xml); m !== null; m = skip.exec(xml)) {
    if (m[0] === "<![CDATA[") skip.lastIndex = after(xml, "]]>", skip.lastIndex);
    else if (m[0] === "<!--") skip.lastIndex = after(xml, "-->", skip.lastIndex);
    else if (m[0] === "<?") skip.lastIndex = after(xml, "?>", skip.lastIndex);
    else checkReference(xml, m.index, source);
  }
}

function checkReference(xml: string, at: number, source: string): void {
  REF_RE.lastIndex = at;
  const r = REF_RE.exec(xml);
  if (r === null) {
    const line = lineAt(xml, at);
    throw new OnairError(
      "ONAIR_SCHEDULE_BAD_XML",
      `${source}:${line}: malformed XML: "&" starts no entity or character reference (write &amp;)`,
      {
        source,
        line,
      },
    );
  }
  if (r[3] !== undefined ? PREDEFINED.has(r[3]) : isXmlChar(r[1] !== undefined ? parseInt(r[1], 16) : Number(r[2]))) return;
  const line = lineAt(xml, at);
  const what =
    r[3] !== undefined
      ? `unknown entity ${r[0]} (XMLTV text may use only &amp; &lt; &gt; &quot; &apos; and character references)`
      : `${r[0]} is not a character XML allows`;
  throw new OnairError("ONAIR_XMLTV_UNKNOWN_ENTITY", `${source}:${line}: ${what}`, { source, line, reference: r[0] });
}
