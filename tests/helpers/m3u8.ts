/**
 * Parses an HLS playlist with videojs m3u8-parser (an independent parser), with its custom-tag
 * hook reading `#EXT-OATCLS-SCTE35:<base64>` onto each segment as `custom.oatcls`. Parser
 * warnings are returned so tests can require none.
 */
import { Parser, type M3u8Manifest } from "m3u8-parser";

export function parseM3u8(text: string): { manifest: M3u8Manifest; warnings: string[] } {
  const parser = new Parser();
  const warnings: string[] = [];
  parser.on("warn", (e) => warnings.push(e.message));
  parser.addParser({
    expression: /^#EXT-OATCLS-SCTE35/,
    customType: "oatcls",
    dataParser: (line) => line.slice("#EXT-OATCLS-SCTE35:".length),
    segment: true,
  });
  parser.push(text);
  parser.end();
  return { manifest: parser.manifest, warnings };
}
