/** TS to the process's stdout (or any Writable). See StdoutOutput. */
import type { Writable } from "node:stream";
import type { Logger } from "pino";
import { Output, TS_PACKET, type OutputConfig, type OutputContext } from "./types.js";

export interface StdoutOutputOptions {
  stream?: Writable;
  /** Bytes buffered in the stream before chunks are dropped (default 4 MiB). */
  maxQueueBytes?: number;
  name?: string;
  logger?: Logger;
}

/** TS to stdout (or any Writable): bounded by the stream's buffer; EPIPE ends it for good. */
export class StdoutOutput extends Output {
  private readonly stream: Writable;
  private readonly maxQueue: number;
  private broken = false;
  private readonly onError = (e: Error): void => {
    this.broken = true;
    this.fail(e);
  };

  constructor(opts: StdoutOutputOptions = {}) {
    super("stdout", opts.name ?? "stdout", opts.logger);
    this.stream = opts.stream ?? process.stdout;
    this.maxQueue = opts.maxQueueBytes ?? 4 << 20;
    this.stream.on("error", this.onError);
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  write(chunk: Buffer): void {
    if (this.broken || this.stream.destroyed) {
      this.drop(chunk.length);
      return;
    }
    if (this.stream.writableLength + chunk.length > this.maxQueue) {
      this.drop(chunk.length);
      return;
    }
    const n = chunk.length;
    this.stats.queuedBytes = this.stream.writableLength + n;
    this.stream.write(chunk, (err) => {
      if (err) return; // reported through 'error'
      this.stats.bytes += n;
      this.stats.packets += Math.floor(n / TS_PACKET);
      this.stats.queuedBytes = this.stream.writableLength;
    });
  }

  close(): Promise<void> {
    this.stream.off("error", this.onError);
    this.stream.on("error", () => undefined);
    return Promise.resolve();
  }
}

/** The stdout output of a profile's `kind: stdout` entry. */
export function stdoutFromConfig(_o: OutputConfig<"stdout">, ctx: OutputContext): StdoutOutput {
  return new StdoutOutput({ name: "stdout", logger: ctx.logger });
}
