/**
 * What every channel output is: the `Output` base class, its counters and events.
 *
 * Rules every output follows:
 * - `write()` never throws into the channel and never blocks: an output that cannot keep
 *   up or is failing drops the chunk and counts it (`droppedBytes`, `droppedChunks`);
 *   what it holds is bounded (`maxQueueBytes`), so memory never grows.
 * - A failing output retries on its own (UDP: address lookup; file: reopen with backoff;
 *   SRT: a new child) and counts `errors` and `reconnects`; events `failed` (first error of
 *   an episode) and `recovered` say when it goes bad and good.
 * - Chunks handed in are not edited; what an output keeps beyond the call it copies
 *   (UDP) or keeps as handed over (file and SRT queues: the producer must not edit a chunk
 *   after passing it on).
 *
 * Adding an output kind (the contract for `hls` and any later one):
 * 1. one new file in this folder, `KIND.ts`, with a class extending `Output` (kind name in
 *    `super(kind, name, logger)`, the rules above) and a `fromConfig(config, context)`
 *    function that builds it from the profile's output entry (`OutputConfig<"KIND">`) and
 *    the channel's `OutputContext`;
 * 2. one line in `OUTPUT_KINDS` (index.ts): `KIND: KINDFromConfig`. The table is typed by
 *    the profile schema's `kind` union, so a kind the schema accepts and the table lacks
 *    does not compile.
 * Timers come in as a `timers?: Timers` option (core/timers.ts), child processes through
 * `ChildLifecycle` (../child.ts), never global setTimeout or a bare spawn.
 */
import { EventEmitter } from "node:events";
import type { Logger } from "pino";
import type { SecretSet } from "../../config/redact.js";
import type { ChannelProfile } from "../../config/profile-schema.js";
import type { Timers } from "../../core/timers.js";
import type { SpawnFn } from "../child.js";

export const TS_PACKET = 188;

/** A profile's output entry, all kinds or one `kind`. */
export type OutputKind = ChannelProfile["outputs"][number]["kind"];
export type OutputConfig<K extends OutputKind = OutputKind> = Extract<ChannelProfile["outputs"][number], { kind: K }>;

/** What the channel hands every output it builds from its profile. */
export interface OutputContext {
  /** The channel's logger (outputs log as its children, with an `output` field). */
  logger: Logger;
  /** The FFmpeg binary the channel runs (for outputs that run their own FFmpeg). */
  ffmpegPath: string;
  /** The secrets every line an output logs is scrubbed of (the daemon's set). */
  secrets?: SecretSet;
  /** Spawns child processes (injected by tests). */
  spawn?: SpawnFn;
  /** The channel's id (default directories: hls). */
  channel?: string;
  /** The daemon's data directory (default directories: hls). */
  dataDir?: string;
  /** The channel's PTS (90 kHz) → wall-clock ms mapping (the injector's stream clock), for PROGRAM-DATE-TIME. */
  wallClock?: { wallMs(pts: number): number };
  timers?: Timers;
}

export interface OutputStats {
  kind: string;
  name: string;
  /** Bytes delivered (sent or written). */
  bytes: number;
  /** 188-byte packets delivered. */
  packets: number;
  /** UDP datagrams sent. */
  datagrams: number;
  droppedBytes: number;
  droppedChunks: number;
  errors: number;
  /** Recoveries after a failure (reopen, re-resolve). */
  reconnects: number;
  /** Bytes waiting in the output's bounded queue. */
  queuedBytes: number;
  /** Bytes skipped to find packet sync again (UDP). */
  resyncBytes: number;
  /** Files started (file output). */
  files: number;
  /** The last error's code or message. */
  lastError: string | null;
  /** True while in a failure episode. */
  failing: boolean;
}

export interface OutputEvents {
  failed: [{ error: Error }];
  recovered: [];
  rotated: [{ path: string }];
}

function newStats(kind: string, name: string): OutputStats {
  return {
    kind,
    name,
    bytes: 0,
    packets: 0,
    datagrams: 0,
    droppedBytes: 0,
    droppedChunks: 0,
    errors: 0,
    reconnects: 0,
    queuedBytes: 0,
    resyncBytes: 0,
    files: 0,
    lastError: null,
    failing: false,
  };
}

/** An error's errno code, else its message. */
export function errText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  return code ?? (e instanceof Error ? e.message : String(e));
}

/** What every output offers the fan-out (see the module comment for the rules). */
export abstract class Output extends EventEmitter<OutputEvents> {
  readonly stats: OutputStats;
  protected readonly log: Logger | undefined;

  constructor(kind: string, name: string, logger?: Logger) {
    super();
    this.stats = newStats(kind, name);
    this.log = logger?.child({ output: name });
  }

  get name(): string {
    return this.stats.name;
  }

  /** Prepares the output; a failure is counted and retried, never thrown. */
  abstract open(): Promise<void>;
  /** Takes a chunk of TS; never throws, never blocks. */
  abstract write(chunk: Buffer): void;
  /** Flushes what it can and releases its resources. */
  abstract close(): Promise<void>;

  /**
   * The stream breaks before the next chunk (a switch to or from the slate, an FFmpeg
   * restart). Outputs that cut the stream (hls) override it; the others pass bytes on.
   */
  discontinuity(): void {
    // a byte pipe has nothing to do: the TS itself carries the discontinuity
  }

  protected drop(bytes: number): void {
    this.stats.droppedBytes += bytes;
    this.stats.droppedChunks++;
  }

  protected fail(e: unknown): void {
    this.stats.errors++;
    this.stats.lastError = errText(e);
    if (!this.stats.failing) {
      this.stats.failing = true;
      this.log?.warn({ event: "output.failed", kind: this.stats.kind, err: e });
      this.emit("failed", { error: e instanceof Error ? e : new Error(String(e)) });
    }
  }

  protected ok(): void {
    if (this.stats.failing) {
      this.stats.failing = false;
      this.stats.reconnects++;
      this.log?.info({ event: "output.recovered", kind: this.stats.kind, errors: this.stats.errors });
      this.emit("recovered");
    }
  }
}
