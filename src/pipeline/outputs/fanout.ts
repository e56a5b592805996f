/** Hands each chunk to every output of a channel. See OutputFanout. */
import type { Output, OutputStats } from "./types.js";

/**
 * Hands each chunk to every output. Outputs never block and bound their own queues, so a
 * slow or failing one costs the others nothing; an output that throws anyway is counted.
 */
export class OutputFanout {
  readonly outputs: Output[];
  /** Exceptions thrown by an output's write() (a bug in it), per output name. */
  readonly thrown = new Map<string, number>();

  constructor(outputs: Output[] = []) {
    this.outputs = [...outputs];
  }

  add(o: Output): void {
    this.outputs.push(o);
  }

  async open(): Promise<void> {
    await Promise.allSettled(this.outputs.map((o) => o.open()));
  }

  write(chunk: Buffer): void {
    for (const o of this.outputs) {
      try {
        o.write(chunk);
      } catch {
        this.thrown.set(o.name, (this.thrown.get(o.name) ?? 0) + 1);
        o.stats.errors++;
      }
    }
  }

  /** The stream breaks before the next chunk (slate switch, FFmpeg restart): told to every output. */
  discontinuity(): void {
    for (const o of this.outputs) o.discontinuity();
  }

  stats(): OutputStats[] {
    return this.outputs.map((o) => ({ ...o.stats }));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.outputs.map((o) => o.close()));
  }
}
