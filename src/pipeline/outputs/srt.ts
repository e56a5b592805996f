/**
 * MPEG-TS over SRT through an FFmpeg child with libsrt: the command (srtOutputCommand) and
 * the output that runs it (SrtOutput).
 */
import type { SpawnOptions } from "node:child_process";
import type { Readable } from "node:stream";
import type { Logger } from "pino";
import { redactString, REDACTED, SecretSet } from "../../config/redact.js";
import { Backoff } from "../../core/backoff.js";
import { systemClock, type Clock } from "../../core/clock.js";
import { realTimers, type Timers } from "../../core/timers.js";
import { defaultSpawn, runChild, spawnErrno, type ChildExit, type ChildRun, type SpawnFn } from "../child.js";
import { detectSetpriv, resolveFfmpegBinary } from "../ffmpeg-args.js";
import { ProgressParser, type ProgressReport } from "../progress.js";
import { StderrReader } from "../stderr.js";
import { errText, Output, TS_PACKET, type OutputConfig, type OutputContext } from "./types.js";

export interface SrtOutputOptions {
  mode: "caller" | "listener";
  /** Remote host (caller) or bind address (listener); IPv6 literals without brackets. */
  host: string;
  port: number;
  /** 10–79 characters; secret. */
  passphrase?: string;
  /** AES key length in bytes (with a passphrase). */
  pbkeylen?: 16 | 24 | 32;
  /** SRT latency (default 120 ms). */
  latencyMs?: number;
  /** SRT stream id; secret (it often carries credentials). */
  streamId?: string;
  /** Caller only: give up a connection attempt after this (libsrt's default: 3000 ms). */
  connectTimeoutMs?: number;
  /** Bytes waiting for the child's stdin before whole chunks are dropped (default 1 MiB). */
  maxQueueBytes?: number;
  /** Backoff between child restarts (default 500 ms → 30 s, decorrelated jitter). */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** A connection up this long resets the backoff (default 60 000 ms). */
  stableAfterMs?: number;
  /** close(): SIGKILL this long after SIGTERM (default 2000 ms). */
  stopTimeoutMs?: number;
  /** The FFmpeg binary (default resolveFfmpegBinary()). */
  ffmpegPath?: string;
  /** Run under `setpriv --pdeathsig KILL --`: true/false or its path (default: detected). */
  setpriv?: boolean | string;
  /**
   * Secrets scrubbed from every line this output logs (the channel's, i.e. the root
   * logger's set); this output's own passphrase and stream id are always scrubbed.
   */
  secrets?: SecretSet;
  name?: string;
  logger?: Logger;
  timers?: Timers;
  clock?: Clock;
  spawn?: SpawnFn;
  env?: NodeJS.ProcessEnv;
}

/** The SRT part of the command (what follows the FFmpeg binary), and the URL. */
export interface SrtCommand {
  /** What to spawn: setpriv, or FFmpeg itself. */
  command: string;
  args: string[];
  /** FFmpeg's own arguments. */
  ffmpegArgs: string[];
  /** The srt:// URL (no secret in it). */
  url: string;
}

/** FFmpeg's `-progress` fd for the SRT child. */
const SRT_PROGRESS_FD = 3;
/** Options whose next argument is a secret (masked in the logged argv). */
const SRT_SECRET_OPTIONS = new Set(["-passphrase", "-srt_streamid"]);

/**
 * The FFmpeg command of an SRT output: TS bytes from stdin, copied byte for byte to
 * `srt://host:port?mode=…&latency=…(µs)&pkt_size=1316`.
 *
 * `-f data … -f data` (raw bytes), not `-f mpegts … -f mpegts`: FFmpeg 5.1 remuxing the
 * channel's TS rewrites it (measured: the SCTE-35 PID 500 becomes a private `bin_data`
 * stream on 0x102 without its 0x86 stream type, the EIT PID becomes a bogus PES stream,
 * SDT/TDT are replaced, CBR null packets go, PCR and continuity are redone), so cues and
 * SI would not survive. Byte copy keeps the TS bit-exact. `-flush_packets 0` makes the
 * avio buffer (sized by pkt_size) go out in whole 1316-byte messages = 7 TS packets;
 * without it every pipe read (up to 1024 bytes, any size) became its own SRT message.
 *
 * Secrets: FFmpeg 5.1/6.x have no file or stdin form for libsrt options, so the
 * passphrase and the stream id are unavoidably in the child's argv (visible in `ps` and
 * /proc/PID/cmdline to local users; see profiles/README.md "Secrets and FFmpeg
 * arguments"). They go as AVOptions (`-passphrase`, `-srt_streamid`), not in the URL,
 * because FFmpeg echoes the URL in its error lines; every line SrtOutput logs (argv,
 * stderr, errors) is redacted anyway.
 */
export function srtOutputCommand(
  opts: Pick<
    SrtOutputOptions,
    "mode" | "host" | "port" | "passphrase" | "pbkeylen" | "latencyMs" | "streamId" | "connectTimeoutMs" | "ffmpegPath" | "setpriv"
  >,
): SrtCommand {
  const host = opts.host.includes(":") && !opts.host.startsWith("[") ? `[${opts.host}]` : opts.host;
  const query = [`mode=${opts.mode}`, `latency=${Math.round((opts.latencyMs ?? 120) * 1000)}`, `pkt_size=${7 * TS_PACKET}`];
  if (opts.mode === "caller" && opts.connectTimeoutMs !== undefined) query.push(`connect_timeout=${Math.round(opts.connectTimeoutMs)}`);
  const url = `srt://${host}:${opts.port}?${query.join("&")}`;
  const ffmpegArgs = [
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "warning",
    "-f",
    "data",
    "-i",
    "pipe:0",
    "-map",
    "0",
    "-c",
    "copy",
    "-f",
    "data",
    "-flush_packets",
    "0",
    "-progress",
    `pipe:${SRT_PROGRESS_FD}`,
  ];
  if (opts.passphrase) {
    ffmpegArgs.push("-passphrase", opts.passphrase);
    if (opts.pbkeylen) ffmpegArgs.push("-pbkeylen", String(opts.pbkeylen));
  }
  // `-streamid` is FFmpeg's own output option (stream PIDs): libsrt's alias is srt_streamid
  if (opts.streamId) ffmpegArgs.push("-srt_streamid", opts.streamId);
  ffmpegArgs.push(url);
  const ffmpeg = opts.ffmpegPath ?? resolveFfmpegBinary();
  const setpriv = opts.setpriv === undefined || opts.setpriv === true ? detectSetpriv() : opts.setpriv || null;
  return setpriv
    ? { command: setpriv, args: ["--pdeathsig", "KILL", "--", ffmpeg, ...ffmpegArgs], ffmpegArgs, url }
    : { command: ffmpeg, args: ffmpegArgs, ffmpegArgs, url };
}

interface SrtAttempt {
  run: ChildRun;
  spawnedAt: number;
  /** True from the first progress report (FFmpeg writes none before the connection is up). */
  connected: boolean;
  /** Last `total_size` FFmpeg reported (bytes it muxed into the connection). */
  sent: number;
}

/**
 * MPEG-TS over SRT through an FFmpeg child (libsrt): the channel's bytes go to its stdin.
 *
 * - Bounded: a chunk is written to stdin only while the bytes stdin holds stay under
 *   `maxQueueBytes`; otherwise, and while no child runs (starting, backoff), the whole
 *   chunk is dropped and counted. Chunks should be whole packets (the channel's are), so
 *   what the child gets stays packet-aligned across drops. Chunks are kept as handed
 *   over until written (the producer must not edit a chunk after passing it on).
 * - Connected = FFmpeg's first `-progress` report (it writes none before the SRT
 *   connection is up); `stats.bytes` is FFmpeg's `total_size`, the bytes it sent.
 * - A child that exits (caller: no listener answered within the connect timeout, the
 *   peer went away, a wrong passphrase; listener: the caller left) is counted in
 *   `errors` and restarted after a capped backoff with jitter; `failed` at the first
 *   error of an episode, `recovered` (and `reconnects`) at the next connection. A
 *   listener waiting for its caller is not a failure; chunks are dropped meanwhile.
 * - The child runs through ChildRun (../child.ts), the lifecycle FfmpegSupervisor's runs
 *   share, not through FfmpegSupervisor itself: the supervisor gives the child no stdin,
 *   its stall watchdog and "running" state hang on stdout bytes (an SRT sender writes
 *   none), and its backoff would never see a run start.
 * - close(): EOF on stdin and SIGTERM (FFmpeg blocked reading an idle pipe acts on the
 *   EOF, one connecting or waiting for a caller on the signal), SIGKILL after
 *   `stopTimeoutMs`; resolves once the child is reaped.
 *   Under `setpriv --pdeathsig KILL` the child also dies with the daemon.
 *
 * The passphrase and stream id are in the child's argv (FFmpeg 5.1 has no other way to
 * take them; see srtOutputCommand); every line logged here is redacted (argv with the
 * secret options masked, stderr lines and errors through redactString with this output's
 * own secrets and the channel's).
 */
export class SrtOutput extends Output {
  private readonly opts: SrtOutputOptions;
  private readonly cmd: SrtCommand;
  private readonly timers: Timers;
  private readonly clock: Clock;
  private readonly spawnFn: SpawnFn;
  private readonly retry: Backoff;
  private readonly maxQueue: number;
  private readonly stopTimeoutMs: number;
  private readonly ownSecrets = new SecretSet();
  private readonly stderr: StderrReader;
  private attempt: SrtAttempt | undefined;
  private retryTimer: unknown;
  private opened = false;
  private closed = false;
  private closing: Promise<void> | undefined;
  /** Children spawned so far. */
  spawns = 0;
  /** Connections made so far (first progress report of a child). */
  connects = 0;

  constructor(opts: SrtOutputOptions) {
    super("srt", opts.name ?? `srt://${opts.host}:${opts.port}`, opts.logger);
    this.opts = opts;
    this.cmd = srtOutputCommand(opts);
    this.timers = opts.timers ?? realTimers;
    this.clock = opts.clock ?? systemClock;
    this.spawnFn = opts.spawn ?? defaultSpawn;
    this.retry = new Backoff({
      minMs: opts.retryMinMs ?? 500,
      maxMs: opts.retryMaxMs ?? 30_000,
      stableAfterMs: opts.stableAfterMs ?? 60_000,
      clock: this.clock,
    });
    this.maxQueue = opts.maxQueueBytes ?? 1 << 20;
    this.stopTimeoutMs = opts.stopTimeoutMs ?? 2000;
    this.ownSecrets.add(opts.passphrase);
    this.ownSecrets.add(opts.streamId);
    this.stderr = new StderrReader({ capacity: 20, redact: (l) => this.redact(l) });
  }

  /** The child's pid while one runs. */
  get pid(): number | undefined {
    return this.attempt?.run.pid;
  }

  /** True while a child has its SRT connection up. */
  get connected(): boolean {
    return this.attempt?.connected === true && !this.attempt.run.done;
  }

  /** The srt:// URL (no secret in it). */
  get url(): string {
    return this.cmd.url;
  }

  /** The child's last stderr lines (redacted), oldest first. */
  stderrTail(n?: number): string[] {
    return this.stderr.ring.lines(n);
  }

  /** Scrubs this output's secrets, the channel's, and credential patterns. */
  private redact(s: string): string {
    return redactString(this.ownSecrets.scrub(s), this.opts.secrets);
  }

  /** Starts the first child; its failures are counted and retried, never thrown. */
  open(): Promise<void> {
    if (!this.opened && !this.closed) {
      this.opened = true;
      this.spawnChild();
    }
    return Promise.resolve();
  }

  write(chunk: Buffer): void {
    if (this.closed || chunk.length === 0) return;
    const a = this.attempt;
    const stdin = a && !a.run.done ? a.run.child.stdin : null;
    if (!a || !stdin || !stdin.writable || stdin.writableLength + chunk.length > this.maxQueue) {
      this.drop(chunk.length);
      return;
    }
    const n = chunk.length;
    stdin.write(chunk, (err) => {
      // written into the pipe, or lost with a child that went away
      if (err) this.drop(n);
      if (this.attempt === a) this.stats.queuedBytes = stdin.writableLength;
    });
    this.stats.queuedBytes = stdin.writableLength;
  }

  private spawnChild(): void {
    this.retryTimer = undefined;
    if (this.closed) return;
    this.stderr.newAttempt();
    this.spawns++;
    // never throws: a child that could not start (EMFILE, ENOENT, a throw, missing pipes) is a
    // stand-in without pid whose one 'error' ends the run like an exit (child.ts)
    const options = { stdio: ["pipe", "ignore", "pipe", "pipe"], env: this.opts.env, windowsHide: true } satisfies SpawnOptions;
    const run = runChild(this.spawnFn, this.cmd.command, this.cmd.args, options, {
      timers: this.timers,
      onExit: (exit) => this.finish(a, exit),
    });
    const a: SrtAttempt = { run, spawnedAt: this.clock.monotonic(), connected: false, sent: 0 };
    this.attempt = a;
    const child = a.run.child;
    // EPIPE once the child is gone: its exit is what gets counted
    child.stdin?.on("error", () => undefined);
    child.stderr?.on("data", (c: Buffer) => void this.stderr.push(c));
    const parser = new ProgressParser();
    (child.stdio[SRT_PROGRESS_FD] as Readable | null | undefined)?.on("data", (c: Buffer) => {
      for (const r of parser.push(c)) this.onProgress(a, r);
    });
    if (child.pid !== undefined) {
      const argv = [this.cmd.command, ...this.cmd.args].map((x, i, all) =>
        i > 0 && SRT_SECRET_OPTIONS.has(all[i - 1]) ? REDACTED : this.redact(x),
      );
      this.log?.info({ event: "output.srt_started", pid: child.pid, spawn: this.spawns, argv });
    }
  }

  private onProgress(a: SrtAttempt, r: ProgressReport): void {
    if (a.run.done) return;
    if (r.totalSize !== null && r.totalSize > a.sent) {
      this.stats.bytes += r.totalSize - a.sent;
      this.stats.packets = Math.floor(this.stats.bytes / TS_PACKET);
      a.sent = r.totalSize;
    }
    if (!a.connected) {
      a.connected = true;
      this.connects++;
      this.retry.started();
      const afterMs = Math.round(this.clock.monotonic() - a.spawnedAt);
      this.log?.info({ event: "output.srt_connected", mode: this.opts.mode, url: this.cmd.url, afterMs });
      this.ok();
    }
  }

  /** The child is gone (its pipes closed by ChildRun): what stdin still held is lost with it. */
  private finish(a: SrtAttempt, exit: ChildExit): void {
    this.stderr.end();
    if (this.attempt === a) this.attempt = undefined;
    this.stats.queuedBytes = 0;
    const runMs = Math.round(this.clock.monotonic() - a.spawnedAt);
    if (this.closed) {
      this.log?.info({ event: "output.srt_stopped", code: exit.code, signal: exit.signal, runMs });
      return;
    }
    this.afterExit(exit, a.connected, runMs);
  }

  /** Counts the failure and schedules the next child. */
  private afterExit({ code, signal, spawnError }: ChildExit, wasConnected: boolean, runMs: number): void {
    const line = this.stderr.fatal?.line ?? this.stderr.ring.lines(1)[0];
    const how = spawnError
      ? `could not be started (${this.redact(spawnErrno(spawnError) ?? errText(spawnError))})`
      : code !== null
        ? `exited with code ${code}`
        : `was killed by ${signal ?? "a signal"}`;
    const error = new Error(`FFmpeg (SRT ${this.opts.mode}) ${how}${line ? `: ${line}` : ""}`);
    this.fail(error);
    const delay = Math.round(this.retry.next());
    this.log?.warn({
      event: "output.srt_exited",
      code,
      signal,
      connected: wasConnected,
      runMs,
      errors: this.stats.errors,
      nextRetryInMs: delay,
      stderrTail: this.stderrTail(5),
    });
    this.retryTimer = this.timers.setTimeout(() => this.spawnChild(), delay);
  }

  /** Ends the child (EOF and SIGTERM, SIGKILL after `stopTimeoutMs`); resolves once it is gone. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) {
      this.timers.clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    const a = this.attempt;
    if (!a || a.run.done) return;
    // FFmpeg blocked reading an idle pipe does not act on SIGTERM: EOF on stdin ends it too
    a.run.child.stdin?.end();
    a.run.terminate(this.stopTimeoutMs, () => this.log?.warn({ event: "output.srt_kill", pid: a.run.pid, afterMs: this.stopTimeoutMs }));
    await a.run.closed;
  }
}

/** The SRT sender of a profile's `kind: srt` entry: an FFmpeg (libsrt) child. */
export function srtFromConfig(o: OutputConfig<"srt">, ctx: OutputContext): SrtOutput {
  // its passphrase/stream id are in that child's argv (FFmpeg 5.1)
  const { mode, host, port, passphrase, pbkeylen, latencyMs, streamId } = o;
  return new SrtOutput({
    mode,
    host,
    port,
    passphrase,
    pbkeylen,
    latencyMs,
    streamId,
    ffmpegPath: ctx.ffmpegPath,
    name: `srt://${host}:${port}`,
    logger: ctx.logger,
    secrets: ctx.secrets,
    spawn: ctx.spawn,
  });
}
