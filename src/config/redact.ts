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
 */

export const REDACTED = "***";

/** Keys whose values are always secret, matched case-insensitively on the whole key. */
const SECRET_KEY_RE =
  /^(?:.*(?:token|passphrase|password|passwd|secret|authorization|credentials?|apikey|api_key|privatekey|private_key|secretkey|streamkey|stream_key)|key|pass|pwd)$/i;

/** Query parameters whose values are secret. */
const SECRET_PARAM_RE = /([?&;](?:passphrase|password|passwd|pass|pwd|token|access_token|auth|authorization|key|secret|sig|signature|streamid|stream_key|api_key|apikey)=)([^&#\s"'\\]*)/gi;

/** `scheme://user:password@` or `scheme://user@` (user alone can be a stream key). */
const URL_USERINFO_RE = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/@:"'\\]*)(?::([^\s/@"'\\]*))?@/gi;

/** Telegram bot token: bot id, colon, 35-ish url-safe chars. */
const TELEGRAM_TOKEN_RE = /(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}/g;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY_RE.test(key);
}

/** Replaces credentials inside any string (URLs, tokens, query parameters). */
export function redactString(s: string, secrets?: SecretSet): string {
  let out = s;
  if (secrets) out = secrets.scrub(out);
  out = out.replace(URL_USERINFO_RE, (_m, scheme: string, user: string, pass: string | undefined) => {
    if (pass === undefined) return `${scheme}${REDACTED}@`;
    return `${scheme}${user}:${REDACTED}@`;
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
      o[k] = isSecretKey(k) && x !== null && x !== undefined && typeof x !== "boolean" && typeof x !== "object"
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

  /** Registers a secret; values shorter than 4 characters are ignored (too many false hits). */
  add(value: string | undefined | null): void {
    if (!value || value.length < 4) return;
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
    for (const v of [...this.values].sort((a, b) => b.length - a.length)) {
      if (out.includes(v)) out = out.split(v).join(REDACTED);
    }
    return out;
  }
}

/** Redacts a line of JSON as written by the logger: secret keys' string values and all strings. */
export function redactJsonLine(line: string, secrets?: SecretSet): string {
  const keyed = line.replace(/"([^"\\]*)":"((?:[^"\\]|\\.)*)"/g, (m, key: string) =>
    isSecretKey(key) ? `"${key}":"${REDACTED}"` : m,
  );
  return redactString(keyed, secrets);
}
