/**
 * `onair inspect FILE.ts [--json]`: programs, PIDs, every SCTE-35 section and the damage
 * found in a recorded MPEG-TS file (analysis in src/inject/inspect.ts).
 *   --json   one JSON object per line, each with a `type` (program, scte35, error, pid,
 *            summary), written as the file is read.
 *   default  a readable report: programs, PIDs, cues (heading + JSON), errors, summary.
 * The file is streamed, never read whole. Exit 0 whenever the file could be read, damage
 * or not (damage is reported); ONAIR_INSPECT_OPEN / ONAIR_INSPECT_READ otherwise. Live
 * input: `udp://HOST:PORT` (unicast, or a multicast group to join) read for `--duration`.
 */
import type { Command } from "commander";

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("list programs, PIDs, SCTE-35 cues and damage in an MPEG-TS file")
    .argument("<file>", "MPEG-TS file, or udp://HOST:PORT (unicast or multicast) read live")
    .option("--json", "one JSON object per line (program, scte35, error, pid, summary)")
    .option("--duration <seconds>", "how long to read a live udp:// input", "10")
    .action(async (file: string, opts: { json?: boolean; duration: string }) => {
      const { inspectFile, inspectUdp } = await import("./inspect-actions.js");
      if (/^udp:\/\//i.test(file)) await inspectUdp(file, opts.json ?? false, Number(opts.duration));
      else await inspectFile(file, opts.json ?? false);
    });
}
