/**
 * Channel outputs, one file per kind (udp, srt, file, stdout, hls), the fan-out that feeds them,
 * and the factory that builds them from a profile's `outputs` entries.
 *
 * A new output kind is one new file here plus one line in `OUTPUT_KINDS` (see types.ts).
 */
import { fileFromConfig } from "./file.js";
import { hlsFromConfig } from "./hls.js";
import { srtFromConfig } from "./srt.js";
import { stdoutFromConfig } from "./stdout.js";
import type { Output, OutputConfig, OutputContext, OutputKind } from "./types.js";
import { udpFromConfig } from "./udp.js";

export { OutputFanout } from "./fanout.js";
export { expandPathTemplate, FileOutput, nodeFileSystem, type FileLike, type FileOutputOptions, type FileSystem } from "./file.js";
export { HlsOutput, hlsDirOf, leftoverSegments, readHlsState, HLS_STATE_FILE, type HlsOutputOptions, type HlsState } from "./hls.js";
export { SrtOutput, srtOutputCommand, type SrtCommand, type SrtOutputOptions } from "./srt.js";
export { StdoutOutput, type StdoutOutputOptions } from "./stdout.js";
export { Output, TS_PACKET, type OutputConfig, type OutputContext, type OutputEvents, type OutputKind, type OutputStats } from "./types.js";
export { UdpOutput, type UdpOutputOptions } from "./udp.js";

/** Builds the output of one profile entry, per kind; every kind of the profile schema has its line. */
const OUTPUT_KINDS: { [K in OutputKind]: (config: OutputConfig<K>, context: OutputContext) => Output } = {
  udp: udpFromConfig,
  srt: srtFromConfig,
  file: fileFromConfig,
  stdout: stdoutFromConfig,
  hls: hlsFromConfig,
};

/** The output for a profile's output entry. */
export function createOutput(config: OutputConfig, context: OutputContext): Output {
  const build = OUTPUT_KINDS[config.kind] as (config: OutputConfig, context: OutputContext) => Output;
  return build(config, context);
}
