/**
 * Alert text: HTML escaping, the shape of each alert, and the 4096-character cut that never
 * breaks a tag or an entity.
 */
import { describe, expect, it } from "vitest";
import {
  cutHtml,
  escapeHtml,
  formatAlert,
  formatBytes,
  formatDuration,
  formatReply,
  htmlToText,
  TELEGRAM_TEXT_LIMIT,
  type Alert,
} from "../../src/alerts/messages.js";

/** True when every tag is closed in order and every `&` starts a whole entity. */
function wellFormed(html: string): boolean {
  const stack: string[] = [];
  const tagRe = /<(\/?)([a-z]+)[^>]*>/g;
  const stripped = html.replace(tagRe, (_m, close: string, name: string) => {
    if (close) {
      if (stack.pop() !== name) stack.push("!mismatch");
    } else stack.push(name);
    return "";
  });
  if (stack.length > 0) return false;
  if (/[<>]/.test(stripped)) return false;
  return !/&(?!(?:amp|lt|gt|quot);)/.test(stripped);
}

const crash = (over: Partial<Extract<Alert, { kind: "channel_crashed" }>> = {}): Alert => ({
  kind: "channel_crashed",
  channel: "news-hd",
  code: 1,
  stderrTail: ["[in#0] Error opening input: Connection refused", "Error opening input file udp://@239.1.1.1:1234."],
  restartNumber: 3,
  nextRetryInMs: 2500,
  ...over,
});

describe("escapeHtml", () => {
  it("escapes <, > and & so outside text cannot open a tag", () => {
    expect(escapeHtml("a <b> & c > d")).toBe("a &lt;b&gt; &amp; c &gt; d");
    expect(escapeHtml("&amp;")).toBe("&amp;amp;");
  });

  it("drops ANSI colours and control characters, keeps newlines and tabs", () => {
    expect(escapeHtml("\u001b[31mred\u001b[0m\r\nnext\tline\u0007")).toBe("red\nnext\tline");
  });

  it("replaces a lone surrogate (a cut emoji) with U+FFFD", () => {
    expect(escapeHtml("x\ud83dy")).toBe("x\ufffdy");
    expect(escapeHtml("ok 🎬")).toBe("ok 🎬");
  });
});

describe("formatAlert", () => {
  it("names the channel, the exit code, the restart number and the next retry, with stderr in <pre>", () => {
    const html = formatAlert(crash());
    expect(html).toContain("<b>news-hd</b> crashed: exit code <code>1</code>");
    expect(html).toContain("restart #3, next retry in 2.5 s");
    expect(html).toContain("<pre>[in#0] Error opening input: Connection refused\nError opening input file udp://@239.1.1.1:1234.</pre>");
    expect(wellFormed(html)).toBe(true);
  });

  it("names the signal when the process was killed, and says when no retry follows", () => {
    const html = formatAlert(crash({ code: null, signal: "SIGKILL", nextRetryInMs: null }));
    expect(html).toContain("killed by signal <code>SIGKILL</code>");
    expect(html).toContain("retry limit reached: no further restart");
  });

  it("escapes stderr, file names and error messages", () => {
    const html = formatAlert(crash({ stderrTail: ["<script>&x</script>"] }));
    expect(html).toContain("<pre>&lt;script&gt;&amp;x&lt;/script&gt;</pre>");
    const refused = formatAlert({
      kind: "profile_refused",
      file: "/etc/onair/<x>.yaml",
      code: "ONAIR_PROFILE_AUTH_FAILED",
      message: "a & b",
    });
    expect(refused).toContain("<code>/etc/onair/&lt;x&gt;.yaml</code>");
    expect(refused).toContain("<code>ONAIR_PROFILE_AUTH_FAILED</code>: a &amp; b");
    expect(wellFormed(refused)).toBe(true);
  });

  it("writes flapping, recovery, slate, cue and disk alerts", () => {
    expect(formatAlert({ kind: "flapping", channel: "c1", restarts: 5, windowMs: 600_000 })).toContain(
      "<b>c1</b> is flapping: 5 restarts in 10 min",
    );
    expect(formatAlert({ kind: "recovered", channel: "c1", outageMs: 185_000 })).toContain("<b>c1</b> recovered after 3 min 5 s");
    expect(formatAlert({ kind: "slate_on", channel: "c1", reason: "input lost" })).toContain("slate on air (input lost)");
    expect(formatAlert({ kind: "slate_off", channel: "c1" })).toContain("slate off");
    expect(formatAlert({ kind: "cue_failed", channel: "c1", spliceEventId: 42, reason: "no IDR in reach" })).toContain(
      "cue failed (splice_event_id <code>42</code>)\nno IDR in reach",
    );
    expect(formatAlert({ kind: "cue_late", channel: "c1", lateMs: 1200, breakId: "B1" })).toContain(
      "cue late by 1.2 s (break <code>B1</code>)",
    );
    const disk = formatAlert({
      kind: "disk_low",
      role: "data",
      path: "/var/lib/onair",
      freeBytes: 512 * 1024 ** 2,
      totalBytes: 100 * 1024 ** 3,
    });
    expect(disk).toContain("disk space low on the data directory <code>/var/lib/onair</code>");
    expect(disk).toContain("512 MiB free of 100 GiB (0.5%)");
  });

  it("writes the store and backup alerts: the path, the codes, what failed and what was kept", () => {
    const failed = formatAlert({
      kind: "store_write_failed",
      channel: "news",
      path: "/var/lib/onair/onair.db",
      code: "ONAIR_STORE_FAILED",
      sqliteCode: "SQLITE_FULL",
      message: "database or disk is full <x>",
      what: "as-run item",
    });
    expect(wellFormed(failed)).toBe(true);
    expect(htmlToText(failed)).toContain("store writes failing: /var/lib/onair/onair.db (first: news, as-run item)");
    expect(htmlToText(failed)).toContain("ONAIR_STORE_FAILED SQLITE_FULL: database or disk is full <x>");
    expect(htmlToText(failed)).toContain("playout continues");
    const back = htmlToText(formatAlert({ kind: "store_recovered", path: "/d/onair.db", outageMs: 95_000, written: 12, dropped: 0 }));
    expect(back).toContain("store writes work again: /d/onair.db after 1 min 35 s");
    expect(back).toContain("12 held-back row(s) written");
    expect(back).not.toContain("lost");
    expect(
      htmlToText(formatAlert({ kind: "store_recovered", path: "/d/onair.db", outageMs: 1000, written: 10_000, dropped: 7 })),
    ).toContain("7 lost (retry queue full)");
    const bk = htmlToText(formatAlert({ kind: "backup_failed", path: "/d/backups", code: "ONAIR_BACKUP_FAILED", message: "ENOSPC" }));
    expect(bk).toContain("daily backup failed: /d/backups");
    expect(bk).toContain("ONAIR_BACKUP_FAILED: ENOSPC");
  });

  it("writes the input, stall, output and EPG alerts, escaping what comes from outside", () => {
    const lost = htmlToText(
      formatAlert({
        kind: "input_lost",
        channel: "c1",
        reason: "input_unreachable",
        detail: "[error] udp://10.0.0.1:5000: Connection refused <x>",
      }),
    );
    expect(lost).toContain("c1: input lost (unreachable)");
    expect(lost).toContain("Connection refused <x>");
    expect(formatAlert({ kind: "input_lost", channel: "c1", reason: "silent" })).toContain("input lost (no data from it)");
    expect(htmlToText(formatAlert({ kind: "input_restored", channel: "c1", downMs: 65_000 }))).toContain(
      "c1: input back on air after 1 min 5 s",
    );
    expect(htmlToText(formatAlert({ kind: "stall", channel: "c1", silentMs: 5000, neverProduced: true }))).toContain(
      "no TS for 5 s (none since it started)",
    );
    const out = formatAlert({ kind: "output_error", channel: "c1", output: "file:/rec/<a>.ts", error: "EROFS" });
    expect(out).toContain("<code>file:/rec/&lt;a&gt;.ts</code>");
    expect(htmlToText(out)).toContain("failing: EROFS");
    expect(htmlToText(formatAlert({ kind: "epg_empty", channel: "c1", days: 7 }))).toContain(
      "EPG empty, no programme now or in the next 7 day(s)",
    );
  });

  it("adds the label in italics", () => {
    expect(formatAlert({ kind: "slate_off", channel: "c1" }, { label: "box-1" })).toMatch(/\n<i>box-1<\/i>$/);
  });

  it("stays within 4096 characters with a huge stderr, keeping the last lines and marking the cut", () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} <&> ${"x".repeat(40)}`);
    const html = formatAlert(crash({ stderrTail: lines }));
    expect(html.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(html.length).toBeGreaterThan(TELEGRAM_TEXT_LIMIT - 200);
    expect(html).toContain("line 1999 &lt;&amp;&gt;");
    expect(html).not.toContain("line 0 ");
    expect(html).toContain("<pre>…\n");
    expect(html).toContain("exit code <code>1</code>");
    expect(wellFormed(html)).toBe(true);
  });

  it("cuts one enormous stderr line and still closes <pre>", () => {
    const html = formatAlert(crash({ stderrTail: ["&".repeat(10_000)] }));
    expect(html.length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
    expect(wellFormed(html)).toBe(true);
    expect(html.endsWith("</pre>")).toBe(true);
  });
});

describe("cutHtml", () => {
  it("returns short text unchanged", () => {
    expect(cutHtml("<b>x</b>", 10)).toBe("<b>x</b>");
  });

  it("never cuts inside an entity, a tag or a surrogate pair, and closes open tags, at every limit", () => {
    const html = "<b>a&amp;b</b> 🎬 <code>x&lt;y</code>\n<pre>1 &gt; 0\n🎬🎬 &amp;&amp;</pre>";
    for (let limit = 1; limit <= html.length + 1; limit++) {
      const out = cutHtml(html, limit);
      expect(out.length, `limit ${limit}`).toBeLessThanOrEqual(Math.max(limit, 1));
      expect(wellFormed(out), `limit ${limit}: ${out}`).toBe(true);
      expect(/[\ud800-\udbff](?![\udc00-\udfff])/.test(out), `limit ${limit}`).toBe(false);
      if (limit < html.length) expect(out).toContain("…");
    }
  });

  it("ends inside the open tags with the ellipsis before their closers", () => {
    expect(cutHtml("<pre>abcdefghij</pre>", 16)).toBe("<pre>abcd…</pre>");
  });
});

describe("helpers", () => {
  it("formats durations and sizes for people", () => {
    expect(formatDuration(850)).toBe("850 ms");
    expect(formatDuration(2500)).toBe("2.5 s");
    expect(formatDuration(42_000)).toBe("42 s");
    expect(formatDuration(7_500_000)).toBe("2 h 5 min");
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe("3 d 4 h");
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1.5 * 1024 ** 3)).toBe("1.5 GiB");
  });

  it("turns our HTML back into its visible text, and wraps replies in escaped <pre>", () => {
    expect(htmlToText("<b>a</b> &lt;x&gt; &amp;amp;")).toBe("a <x> &amp;");
    expect(formatReply("news <ok>")).toBe("<pre>news &lt;ok&gt;</pre>");
    expect(formatReply("x".repeat(5000)).length).toBeLessThanOrEqual(TELEGRAM_TEXT_LIMIT);
  });
});
