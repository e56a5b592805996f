/**
 * Reading FFmpeg's stderr with intent: a bounded ring of the last lines (for logs and
 * crash alerts) and a classifier that ignores known harmless lines, counts known
 * damage (decode warnings) and recognises known fatal lines, which name the reason an
 * attempt ended (`input_unreachable`, `codec_error`, `spawn_error`).
 *
 * Lines look like `[tcp @ 0x55…] [error] Connection to tcp://… failed: Connection refused`
 * (a component context, then the level tag from `-loglevel level+…`) or
 * `[error] udp://…: Input/output error` (no context: FFmpeg's own top-level message,
 * printed just before it gives up).
 */
import { LineSplitter } from "./lines.js";

export type FatalReason = "input_unreachable" | "codec_error" | "spawn_error";

export interface StderrClass {
  /** ignore: known harmless; note: worth counting; fatal: the attempt is failing. */
  severity: "ignore" | "note" | "fatal";
  /** For fatal lines. */
  reason?: FatalReason;
  /** A short stable name for metrics (`reconnecting`, `decode_warning`, `connection_refused`…). */
  category?: string;
  /** FFmpeg's level tag when present (`error`, `warning`, `fatal`…). */
  level?: string;
  /** The component (`tcp`, `h264`…) when the line has a context prefix. */
  component?: string;
  /** True for a line without component context: FFmpeg's own final word. */
  topLevel: boolean;
}

interface Rule {
  re: RegExp;
  severity: StderrClass["severity"];
  reason?: FatalReason;
  category: string;
  /** Fatal only as FFmpeg's own top-level line; from a component it is damage (a note). */
  topLevelOnly?: boolean;
}

/** One case-insensitive pattern matching any of `patterns` (top-level alternatives). */
function anyOf(...patterns: RegExp[]): RegExp {
  return new RegExp(patterns.map((p) => p.source).join("|"), "i");
}

/** First match wins, so the specific comes before the general. */
const RULES: Rule[] = [
  // harmless
  { re: /Exiting normally, received signal/i, severity: "ignore", category: "signal_received" },
  { re: /^Last message repeated/i, severity: "ignore", category: "repeat" },
  { re: /Past duration .* too large/i, severity: "ignore", category: "past_duration" },
  { re: /deprecated pixel format used/i, severity: "ignore", category: "pixel_format" },
  { re: /Guessed Channel Layout/i, severity: "ignore", category: "channel_layout" },
  { re: /Opening '.*' for reading/i, severity: "ignore", category: "hls_open" },
  { re: /Skip \('#EXT/i, severity: "ignore", category: "hls_tag" },
  // FFmpeg is retrying on its own (http -reconnect*): not fatal yet
  { re: /Will reconnect at/i, severity: "note", category: "reconnecting" },
  { re: /Failed to open segment|keepalive request failed/i, severity: "note", category: "segment_failed" },
  // the binary could not be started (setpriv reports exec failures itself)
  {
    re: /^setpriv: failed to execute|^setpriv: .*(No such file|Permission denied)/i,
    severity: "fatal",
    reason: "spawn_error",
    category: "exec_failed",
  },
  // input unreachable
  { re: /Connection refused/i, severity: "fatal", reason: "input_unreachable", category: "connection_refused" },
  { re: /No route to host|Network is unreachable/i, severity: "fatal", reason: "input_unreachable", category: "no_route" },
  {
    re: /Connection timed out|Operation timed out|Connection reset by peer/i,
    severity: "fatal",
    reason: "input_unreachable",
    category: "connection_lost",
  },
  {
    re: /Server returned \d{3}|Server returned [45]XX|HTTP error [45]\d\d/i,
    severity: "fatal",
    reason: "input_unreachable",
    category: "http_error",
  },
  {
    re: /Name or service not known|Failed to resolve hostname|Temporary failure in name resolution|No address associated/i,
    severity: "fatal",
    reason: "input_unreachable",
    category: "dns",
  },
  { re: /Cannot open connection|Connection to .* failed/i, severity: "fatal", reason: "input_unreachable", category: "connect_failed" },
  { re: /Input\/output error/i, severity: "fatal", reason: "input_unreachable", category: "io_error" },
  { re: /No such file or directory|Permission denied/i, severity: "fatal", reason: "input_unreachable", category: "no_such_input" },
  // codec / format errors that end the attempt
  {
    re: /Unknown encoder|Unknown decoder|Encoder .*not found|Decoder .*not found|Unrecognized codec/i,
    severity: "fatal",
    reason: "codec_error",
    category: "unknown_codec",
  },
  {
    re: /Error while opening encoder|Error initializing output stream|Could not open encoder|Error while opening decoder/i,
    severity: "fatal",
    reason: "codec_error",
    category: "codec_open",
  },
  {
    re: /Invalid data found when processing input/i,
    severity: "fatal",
    reason: "codec_error",
    category: "invalid_data",
    topLevelOnly: true,
  },
  {
    re: /Could not find codec parameters|Could not write header|Error while filtering|Error reinitializing filters/i,
    severity: "fatal",
    reason: "codec_error",
    category: "codec_setup",
  },
  // damage FFmpeg conceals and goes on with
  {
    re: anyOf(
      /error while decoding MB|concealing \d+ .*errors|Invalid NAL unit size|non-existing PPS|no frame!|decode_slice_header error/,
      /Packet corrupt|corrupt decoded frame|PES packet size mismatch|Continuity check failed|Error while decoding stream/,
      /missing picture in access unit|Invalid frame dimensions/,
    ),
    severity: "note",
    category: "decode_warning",
  },
  {
    re: /non monotonically increasing dts|Non-monotonous DTS|DTS discontinuity|Timestamps are unset/i,
    severity: "note",
    category: "timestamps",
  },
  { re: /circular buffer overrun|Circular buffer overrun/i, severity: "note", category: "udp_overrun" },
];

const CONTEXT_RE = /^\[([A-Za-z0-9_:.-]+) @ (?:0x)?[0-9a-fA-F]+\] /;
const LEVEL_RE = /^\[(quiet|panic|fatal|error|warning|info|verbose|debug|trace)\] /;

/** Classifies one stderr line of FFmpeg (or of setpriv in front of it). */
export function classifyStderrLine(line: string): StderrClass {
  let rest = line.trim();
  let component: string | undefined;
  const ctx = CONTEXT_RE.exec(rest);
  if (ctx) {
    component = ctx[1];
    rest = rest.slice(ctx[0].length);
  }
  let level: string | undefined;
  const lv = LEVEL_RE.exec(rest);
  if (lv) {
    level = lv[1];
    rest = rest.slice(lv[0].length);
  }
  const base = { level, component, topLevel: component === undefined };
  for (const r of RULES) {
    if (r.re.test(rest)) {
      if (r.topLevelOnly && !base.topLevel) return { ...base, severity: "note", category: "decode_warning" };
      return { ...base, severity: r.severity, reason: r.reason, category: r.category };
    }
  }
  return { ...base, severity: "note", category: "other" };
}

/** A fixed-capacity ring of the most recent lines (oldest dropped first). */
export class StderrRing {
  private readonly buf: string[];
  private start = 0;
  private count = 0;
  /** Lines seen in total, including the ones that fell out of the ring. */
  total = 0;

  constructor(readonly capacity = 50) {
    if (!(capacity >= 1)) throw new RangeError("capacity must be >= 1");
    this.buf = new Array<string>(capacity);
  }

  push(line: string): void {
    this.total++;
    if (this.count < this.capacity) {
      this.buf[(this.start + this.count) % this.capacity] = line;
      this.count++;
    } else {
      this.buf[this.start] = line;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The last `n` lines (default all kept), oldest first. */
  lines(n = this.count): string[] {
    const k = Math.min(n, this.count);
    const out: string[] = [];
    for (let i = this.count - k; i < this.count; i++) out.push(this.buf[(this.start + i) % this.capacity]);
    return out;
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.start = 0;
    this.count = 0;
  }
}

export interface StderrReaderOptions {
  /** Lines kept (default 50). */
  capacity?: number;
  /** Longest line kept (default 1000 characters). */
  maxLineLength?: number;
  /** Applied to each line before it is kept or reported (secrets in URLs FFmpeg echoes). */
  redact?: (line: string) => string;
}

/**
 * Stderr of one child: splits chunks into lines, redacts them, keeps the tail, classifies
 * each line and counts categories. `fatal` holds the first fatal line of the attempt.
 */
export class StderrReader {
  readonly ring: StderrRing;
  private readonly splitter: LineSplitter;
  private readonly redact: (line: string) => string;
  /** Lines seen per category (notes and fatals; harmless lines are not counted). */
  readonly counts = new Map<string, number>();
  /** The first fatal line and its class, if any. */
  fatal: { line: string; class: StderrClass } | undefined;

  constructor(opts: StderrReaderOptions = {}) {
    this.ring = new StderrRing(opts.capacity ?? 50);
    this.splitter = new LineSplitter(opts.maxLineLength ?? 1000);
    this.redact = opts.redact ?? ((l) => l);
  }

  /** Feeds a chunk; returns the complete lines it finished, classified. */
  push(chunk: Buffer | string): { line: string; class: StderrClass }[] {
    return this.handle(this.splitter.push(chunk));
  }

  /** Ends the stream (an unterminated last line is processed). */
  end(): { line: string; class: StderrClass }[] {
    return this.handle(this.splitter.flush());
  }

  /** Forgets the previous attempt's fatal line (the ring is kept: it spans attempts). */
  newAttempt(): void {
    this.fatal = undefined;
  }

  private handle(raw: string[]): { line: string; class: StderrClass }[] {
    const out: { line: string; class: StderrClass }[] = [];
    for (const r of raw) {
      const line = this.redact(r);
      const cls = classifyStderrLine(line);
      if (cls.severity === "ignore") continue;
      this.ring.push(line);
      if (cls.category) this.counts.set(cls.category, (this.counts.get(cls.category) ?? 0) + 1);
      if (cls.severity === "fatal" && !this.fatal) this.fatal = { line, class: cls };
      out.push({ line, class: cls });
    }
    return out;
  }
}
