/**
 * `onair scte35 decode|encode`: SCTE-35 cues between base64/hex and their JSON form.
 *   decode <cue>     prints the splice_info_section as JSON (2-space); the cue is base64, or
 *                    hex with a 0x prefix or starting with fc; read from stdin when absent.
 *                    Longer than a 4096-byte section can be: ONAIR_SCTE35_TOO_LARGE.
 *   encode [--hex]   reads that JSON on stdin, prints base64 (or hex).
 * Errors are OnairErrors (ONAIR_SCTE35_…); main prints `onair: CODE: message`, exit 1.
 */
import type { Command } from "commander";
import { out, readStdin } from "./io.js";

/** The codec, loaded when a subcommand runs (this module is loaded by every `onair` run). */
const codec = () => import("../scte35/index.js");

export function registerScte35(program: Command): void {
  const group = program.command("scte35").description("decode and encode SCTE-35 splice_info_sections");

  group
    .command("decode")
    .description("print a cue (base64, or hex: 0x… or fc…) as JSON; reads stdin without an argument")
    .argument("[cue]", "base64 or hex splice_info_section")
    .option("--no-crc-check", "decode even when CRC_32 does not match")
    .action(async (cue: string | undefined, opts: { crcCheck: boolean }) => {
      const { decodeSpliceInfoSection, MAX_CUE_STRING_CHARS, parseCueString } = await codec();
      // stdin is read no further than a cue can be long (a stray pipe from /dev/zero ends)
      const text = cue ?? (await readStdin(MAX_CUE_STRING_CHARS));
      const section = decodeSpliceInfoSection(parseCueString(text), { verifyCrc: opts.crcCheck });
      out(JSON.stringify(section, null, 2));
    });

  group
    .command("encode")
    .description("read a splice_info_section as JSON on stdin and print it as base64")
    .option("--hex", "print hex instead of base64")
    .action(async (opts: { hex?: boolean }) => {
      const { encodeSpliceInfoSection, parseSpliceInfoSectionJson, toBase64, toHex } = await codec();
      const bytes = encodeSpliceInfoSection(parseSpliceInfoSectionJson(await readStdin()));
      out(opts.hex ? toHex(bytes) : toBase64(bytes));
    });
}
