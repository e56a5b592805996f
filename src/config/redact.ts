/**
 * Redaction of secrets in strings and structured values. Used by `profile validate`,
 * error messages and the logger, so one set of rules decides what never leaves the process.
 *
 * Rules:
 * - URL credentials: `scheme://user:pass@host` → `scheme://user:***@host` (a user without a
 *   password is kept: `rtmp://key@host` keeps nothing either, it becomes `rtmp://***@host`
 *   because stream keys are often given as the user part).
 * - URL query parameters whose name looks secret (`passphrase`, `password`, `token`, `key`,
 *   `secret`, `auth`, `streamid`…) → `name=***`.
 * - Telegram bot tokens (`123456789:AA…`, also inside `/bot<token>/` API paths) → `***`.
 * - Values registered with a `SecretSet` (every secret of a loaded profile) → `***`,
 *   wherever they appear.
 * - Object keys that look secret (`token`, `botToken`, `passphrase`, `password`, `secret`,
 *   `key`, `authorization`…) have their value replaced by `***`.
 *
 * Cost: every rule runs in time linear in its input and constant stack, whatever the input
 * (issue #18: a 10 MB title overflowed the stack of a whole-line regex and crash-looped the
 * daemon). A log line is redacted one string at a time, each read only up to
 * LOG_VALUE_MAX_CHARS plus a margin, so a value of any length is logged in bounded time.
 */

export const REDACTED = "***";

/** Keys whose values are always secret, matched case-insensitively on the whole key. */
const SECRET_KEY_RE = new RegExp(
  "^(?:.*(?:token|passphrase|password|passwd|secret|authorization|credentials?|apikey|api_key|privatekey|private_key|secretkey|streamkey|stream_key)" +
    "|key|pass|pwd)$",
  "i",
);

/** Query parameters whose values are secret. */
const SECRET_PARAM_NAMES =
  "passphrase|password|passwd|pass|pwd|token|access_token|auth|authorization|key|secret|sig|signature|streamid|stream_key|api_key|apikey";
const SECRET_PARAM_RE = new RegExp(`([?&;](?:${SECRET_PARAM_NAMES})=)([^&#\\s"'\\\\]*)`, "gi");

/**
 * `scheme://user:password@` or `scheme://user@` (user alone can be a stream key). Matched
 * from the `://`, whatever the scheme: a pattern that first reads a scheme is tried at every
 * word boundary and costs quadratic time on a long run of `a.a.a.…`.
 */
const URL_USERINFO_RE = /:\/\/([^\s/@:"'\\]*)(?::([^\s/@"'\\]*))?@/g;

/**
 * Telegram bot token: bot id, colon, 35-ish url-safe chars. `{30}` then `*`, not `{30,}`,
 * which V8 runs with a stack frame per character (a 50 MB run overflowed the stack).
 */
const TELEGRAM_TOKEN_RE = /(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30}[A-Za-z0-9_-]*/g;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key);
}

/** Replaces credentials inside any string (URLs, tokens, query parameters). */
export function redactString(s: string, secrets?: SecretSet): string {
  let out = s;
  if (secrets) out = secrets.scrub(out);
  out = out.replace(URL_USERINFO_RE, (_m, user: string, pass: string | undefined) => {
    if (pass === undefined) return `://${REDACTED}@`;
    return `://${user}:${REDACTED}@`;
  });
  out = out.replace(SECRET_PARAM_RE, (_m, name: string) => `${name}${REDACTED}`);
  out = out.replace(TELEGRAM_TOKEN_RE, REDACTED);
  return out;
}

/** Deep copy of a JSON-like value with secret keys and credentials in strings redacted. */
export function redactValue(v: unknown, secrets?: SecretSet, depth = 0): unknown {
  if (depth > 32) return "[too deep]";
  if (typeof v === "string") return redactString(v, secrets);
  if (Array.isArray(v)) return v.map((x) => redactValue(x, secrets, depth + 1));
  if (v instanceof Error) {
    return { type: v.name, message: redactString(v.message, secrets) };
  }
  if (v !== null && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      o[k] =
        isSecretKey(k) && x !== null && x !== undefined && typeof x !== "boolean" && typeof x !== "object"
          ? REDACTED
          : redactValue(x, secrets, depth + 1);
    }
    return o;
  }
  return v;
}

/**
 * Secret values known at run time (a profile's passphrases, tokens, URL passwords).
 * `scrub()` replaces each occurrence, also in its JSON-escaped and URL-encoded forms,
 * so a secret is caught even where no pattern would recognise it.
 */
export class SecretSet {
  private readonly values = new Set<string>();
  /** `values`, longest first; rebuilt after an `add` */
  private sorted: string[] | undefined;

  /** Registers a secret; values shorter than 4 characters are ignored (too many false hits). */
  add(value: string | undefined | null): void {
    if (!value || value.length < 4) return;
    this.sorted = undefined;
    this.values.add(value);
    const json = JSON.stringify(value).slice(1, -1);
    if (json !== value) this.values.add(json);
    const enc = encodeURIComponent(value);
    if (enc !== value) this.values.add(enc);
  }

  get size(): number {
    return this.values.size;
  }

  scrub(s: string): string {
    if (this.values.size === 0) return s;
    let out = s;
    // longest first so a secret containing another is replaced whole
    this.sorted ??= [...this.values].sort((a, b) => b.length - a.length);
    for (const v of this.sorted) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    return out;
  }
}

/** Longest string a log line carries whole (characters of its JSON form). */
export const LOG_VALUE_MAX_CHARS = 4096;

/**
 * How far past the cut a long string is still redacted, so that a secret or credential
 * straddling the cut is replaced whole rather than shown in part.
 */
const CUT_MARGIN_CHARS = 1024;

/**
 * Redacts a line of JSON as written by the logger, in one pass over its string tokens:
 * - the string value of a secret-looking key becomes `***`;
 * - every other string (keys too) goes through `redactString`, the text between strings
 *   through the SecretSet;
 * - a string longer than LOG_VALUE_MAX_CHARS is redacted up to the cut plus a margin, then
 *   cut (never inside an escape or a surrogate pair) and ends with `… [cut, N chars]`, N
 *   being the length of the whole value.
 * Time is linear in the line's length and the stack constant, whatever the line holds.
 */
export function redactJsonLine(line: string, secrets?: SecretSet): string {
  const out: string[] = [];
  let i = 0;
  let secretValue = false;
  while (i < line.length) {
    const open = line.indexOf('"', i);
    if (open === -1) {
      out.push(scrubPlain(line.slice(i), secrets));
      break;
    }
    if (open > i) out.push(scrubPlain(line.slice(i, open), secrets));
    const close = closingQuote(line, open + 1);
    const isKey = line.charCodeAt(close + 1) === 58; /* : */
    const head = line.slice(open + 1, Math.min(close, open + 1 + LOG_VALUE_MAX_CHARS + CUT_MARGIN_CHARS));
    const text = !isKey && secretValue ? REDACTED : redactToken(head, secrets);
    const long = close - open - 1 > LOG_VALUE_MAX_CHARS;
    out.push(
      `"${long && text !== REDACTED ? `${cutJsonText(text, LOG_VALUE_MAX_CHARS)}… [cut, ${decodedLength(line, open + 1, close)} chars]` : text}"`,
    );
    secretValue = isKey && isSecretKey(head);
    i = close + 1;
  }
  return out.join("");
}

function scrubPlain(s: string, secrets?: SecretSet): string {
  return secrets ? secrets.scrub(s) : s;
}

function redactToken(token: string, secrets?: SecretSet): string {
  // every pattern of redactString needs a ':' or an '='
  if (token.indexOf(":") === -1 && token.indexOf("=") === -1) return scrubPlain(token, secrets);
  return redactString(token, secrets);
}

/** Index of the quote that closes the JSON string whose text starts at `from` (line.length if none). */
function closingQuote(line: string, from: number): number {
  for (let q = line.indexOf('"', from); q !== -1; q = line.indexOf('"', q + 1)) {
    let backslashes = 0;
    while (q - 1 - backslashes >= from && line.charCodeAt(q - 1 - backslashes) === 92 /* \\ */) backslashes++;
    if (backslashes % 2 === 0) return q;
  }
  return line.length;
}

/** The longest prefix of JSON string text `s` of at most `max` characters that ends between characters. */
function cutJsonText(s: string, max: number): string {
  let k = 0;
  while (k < max && k < s.length) {
    const c = s.charCodeAt(k);
    const step = c === 92 /* \\ */ ? (s.charCodeAt(k + 1) === 117 /* u */ ? 6 : 2) : 1;
    if (k + step > max || (step === 1 && c >= 0xd800 && c <= 0xdbff && k + 1 === max)) break;
    k += step;
  }
  return s.slice(0, k);
}

/** Length of the string that the JSON text line[from, to) encodes. */
function decodedLength(line: string, from: number, to: number): number {
  let n = to - from;
  for (let b = line.indexOf("\\", from); b !== -1 && b < to; b = line.indexOf("\\", b + 2)) {
    const u = line.charCodeAt(b + 1) === 117; /* u */
    n -= u ? 5 : 1;
    if (u) b += 4;
  }
  return n;
}
