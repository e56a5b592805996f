/**
 * YAML (and JSON) text → plain data, for every YAML file onair reads (profiles, the global
 * config). Contracts:
 * - Aliases are bounded: expanding them may create at most MAX_ALIAS_COUNT nodes per alias
 *   (the `yaml` package's `maxAliasCount`), so a "billion laughs" file fails in
 *   milliseconds with its own code (`ONAIR_…_YAML_ALIASES`) instead of exhausting memory.
 * - An alias to an unknown anchor is a syntax error (`ONAIR_…_SYNTAX`).
 * - Messages name the source (file name or path) and a line and column, never the text:
 *   the parser's own messages quote the offending line, which could hold a secret.
 */
import YAML from "yaml";
import { OnairError, type OnairErrorCode } from "../core/errors.js";

/** Upper bound on the nodes one alias may expand to (the `yaml` package's default). */
export const MAX_ALIAS_COUNT = 100;

export interface YamlReadOptions {
  /** File name or path for messages. */
  source: string;
  /** The codes for this kind of file. */
  codes: { syntax: OnairErrorCode; aliases: OnairErrorCode };
  /** What the text is, for messages ("YAML/JSON", "YAML"). */
  what: string;
}

/** 1-based line and column of a character offset. */
export function lineCol(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, Math.max(0, offset));
  const line = before.split("\n").length;
  return { line, col: offset - before.lastIndexOf("\n") };
}

/** Parses YAML text to plain data (undefined/null for an empty document). */
export function readYaml(text: string, o: YamlReadOptions): unknown {
  const doc = YAML.parseDocument(text, { prettyErrors: false, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCol(text, e.pos[0]);
    const where = `line ${pos.line}, column ${pos.col}`;
    throw new OnairError(o.codes.syntax, `${o.source}: ${o.what} syntax error at ${where} (${e.code})`, {
      source: o.source,
      code: e.code,
      line: pos.line,
      col: pos.col,
    });
  }
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    // the `yaml` package throws a bare ReferenceError for both alias faults
    if (!(e instanceof ReferenceError)) throw e;
    if (/excessive alias count/i.test(e.message)) {
      throw new OnairError(
        o.codes.aliases,
        `${o.source}: YAML aliases expand too much (over ${MAX_ALIAS_COUNT} nodes per alias; a "billion laughs" file?)`,
        { source: o.source, maxAliasCount: MAX_ALIAS_COUNT },
      );
    }
    if (/unresolved alias/i.test(e.message)) {
      throw new OnairError(o.codes.syntax, `${o.source}: ${o.what} syntax error: an alias names no earlier anchor`, {
        source: o.source,
        code: "UNRESOLVED_ALIAS",
      });
    }
    throw e;
  }
}
