/**
 * Text helpers of the alert messages: Telegram HTML escaping and cutting, the plain-text
 * fallback, and human durations and sizes.
 */

/** Telegram's limit on a message's text, in characters. */
export const TELEGRAM_TEXT_LIMIT = 4096;

const ANSI_RE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
const CONTROL_RE = /[\u0000-\u0008\u000b-\u001f\u007f]/g;
const LONE_SURROGATE_RE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Outside text made safe for Telegram HTML: ANSI and control characters dropped, `& < >` escaped. */
export function escapeHtml(s: string): string {
  return s
    .replace(ANSI_RE, "")
    .replace(/\r\n?/g, "\n")
    .replace(CONTROL_RE, "")
    .replace(LONE_SURROGATE_RE, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
}

/** The visible text of our HTML (tags removed, entities decoded) — the plain-text fallback. */
export function htmlToText(html: string): string {
  return html
    .replace(/<[^>]*>/g, "")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, "&");
}

/**
 * Cuts Telegram HTML to `limit` UTF-16 units at a token boundary (never inside a tag, an
 * entity or a surrogate pair), then appends `ellipsis` and closes the tags still open.
 */
export function cutHtml(html: string, limit = TELEGRAM_TEXT_LIMIT, ellipsis = "…"): string {
  if (html.length <= limit) return html;
  const stack: string[] = [];
  const closers = (): string => {
    let s = "";
    for (let k = stack.length - 1; k >= 0; k--) s += `</${stack[k]}>`;
    return s;
  };
  let best = 0;
  let bestClosers = "";
  let i = 0;
  while (i < html.length) {
    const c = html[i];
    let end: number;
    if (c === "<") {
      const close = html.indexOf(">", i);
      if (close < 0) break; // not our HTML; stop before it
      end = close + 1;
      const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)[^>]*?(\/?)>$/.exec(html.slice(i, end));
      if (m) {
        if (m[1] === "/") {
          const at = stack.lastIndexOf(m[2].toLowerCase());
          if (at >= 0) stack.length = at;
        } else if (m[3] !== "/") {
          stack.push(m[2].toLowerCase());
        }
      }
    } else if (c === "&") {
      const m = /^&(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});/.exec(html.slice(i, i + 12));
      end = i + (m ? m[0].length : 1);
    } else {
      const code = html.charCodeAt(i);
      end = i + (code >= 0xd800 && code <= 0xdbff && i + 1 < html.length ? 2 : 1);
    }
    if (end > limit) break;
    i = end;
    const cl = closers();
    if (i + ellipsis.length + cl.length <= limit) {
      best = i;
      bestClosers = cl;
    }
  }
  return html.slice(0, best) + ellipsis + bestClosers;
}

/** "850 ms", "2.5 s", "42 s", "3 min 5 s", "2 h 5 min", "3 d 4 h". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "?";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 10) return `${Number(s.toFixed(1))} s`;
  if (s < 60) return `${Math.round(s)} s`;
  const totalS = Math.round(s);
  const d = Math.floor(totalS / 86400);
  const h = Math.floor((totalS % 86400) / 3600);
  const m = Math.floor((totalS % 3600) / 60);
  const sec = totalS % 60;
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return sec > 0 ? `${m} min ${sec} s` : `${m} min`;
}

/** Binary units: "512 B", "1.5 GiB". */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 0) return "?";
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v >= 100 ? Math.round(v) : Number(v.toFixed(1))} ${units[i]}`;
}
