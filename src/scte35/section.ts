/**
 * splice_info_section (SCTE 35 2022b + 2023 bits, §9.6): the section's encoder and decoder
 * side by side; the command and descriptor loops are commands.ts and splice-descriptors.ts.
 * Every non-reserved bit is kept, so `encode(decode(bytes))` gives the bytes back whenever
 * the reserved bits were written as 1.
 */
import { OnairError } from "../core/errors.js";
import { crc32Mpeg2, readCrc32, writeCrc32 } from "../ts/crc32.js";
import { TABLE_ID_SCTE35 } from "../ts/ids.js";
import { bit, decodeSpliceCommand, encodeSpliceCommand } from "./commands.js";
import { decodeSpliceDescriptor, encodeSpliceDescriptor } from "./splice-descriptors.js";
import { validateSpliceInfoSection } from "./validate.js";
import { Reader, Writer, crcToString, hexToBytes, toHex } from "./bytes.js";
import {
  type ClearSpliceInfoSection,
  type EncryptedSpliceInfoSection,
  type SectionHeader,
  type SpliceDescriptor,
  type SpliceInfoSection,
  type SpliceInfoSectionInput,
} from "./types.js";

export interface DecodeOptions {
  /** Default true: a CRC mismatch throws ONAIR_SCTE35_CRC. */
  verifyCrc?: boolean;
}

/** Largest section: section_length ≤ 4093, so 4096 bytes in all. */
const MAX_SECTION_BYTES = 4096;

/**
 * Encodes a splice_info_section. `sectionLength`, `spliceCommandLength`,
 * `descriptorLoopLength`, `crc32` and `segmentationUpidText` are ignored and recomputed
 * (except an encrypted section's spliceCommandLength, which cannot be). Throws
 * ONAIR_SCTE35_BAD_FIELD for any value outside its range.
 */
export function encodeSpliceInfoSection(input: SpliceInfoSectionInput): Uint8Array {
  const s = validateSpliceInfoSection(input);
  const w = new Writer();
  w.u8(0xfc);
  // section_syntax_indicator, private_indicator, sap_type, section_length (patched below)
  w.u8(bit(s.sectionSyntaxIndicator, 0x80) | bit(s.privateIndicator, 0x40) | ((s.sapType & 3) << 4));
  w.u8(0);
  w.u8(s.protocolVersion);
  w.flags33(bit(s.encryptedPacket, 0x80) | ((s.encryptionAlgorithm & 0x3f) << 1), s.ptsAdjustment);
  w.u8(s.cwIndex);
  const tierAt = w.length;
  w.u8(0);
  w.u8(0);
  w.u8(0);
  let commandLength: number;
  if (s.encryptedPacket) {
    commandLength = s.spliceCommandLength;
    w.bytes(hexToBytes(s.encryptedData));
    w.u32(parseInt(s.eCrc32.slice(2), 16));
  } else {
    w.u8(s.spliceCommandType);
    const cmdStart = w.length;
    encodeSpliceCommand(w, s);
    commandLength = s.legacySpliceCommandLength ? 0xfff : w.length - cmdStart;
    const loopAt = w.length;
    w.u16(0);
    s.descriptors.forEach((d, i) => encodeSpliceDescriptor(w, d, i));
    const loopLength = w.length - loopAt - 2;
    w.patch(loopAt, loopLength >>> 8);
    w.patch(loopAt + 1, loopLength & 0xff);
    if (s.alignmentStuffing) w.bytes(hexToBytes(s.alignmentStuffing));
  }
  const total = w.length + 4;
  if (total > MAX_SECTION_BYTES) {
    throw new OnairError(
      "ONAIR_SCTE35_BAD_FIELD",
      `sectionLength: the section would be ${total} bytes, at most ${MAX_SECTION_BYTES} (section_length ≤ 4093)`,
      { path: "sectionLength", value: total - 3 },
    );
  }
  if (commandLength > 0xfff || (!s.encryptedPacket && commandLength === 0xfff && !s.legacySpliceCommandLength)) {
    throw new OnairError("ONAIR_SCTE35_BAD_FIELD", `spliceCommand: ${commandLength} bytes, splice_command_length allows 4094`, {
      path: "spliceCommand",
      value: commandLength,
    });
  }
  const sectionLength = total - 3;
  w.patch(1, (w.view()[1] & 0xf0) | (sectionLength >>> 8));
  w.patch(2, sectionLength & 0xff);
  w.patch(tierAt, s.tier >>> 4);
  w.patch(tierAt + 1, ((s.tier & 0x0f) << 4) | (commandLength >>> 8));
  w.patch(tierAt + 2, commandLength & 0xff);
  w.u32(0);
  const out = w.finish();
  writeCrc32(out, 0, out.length - 4);
  return out;
}

interface Frame {
  /** Byte 1: section_syntax_indicator, private_indicator, sap_type, section_length high bits. */
  b1: number;
  sectionLength: number;
  /** 3 + section_length. */
  total: number;
  storedCrc: number;
}

/** table_id, section_length against the buffer and the fixed fields, then the CRC_32 (unless told not to). */
function frame(bytes: Uint8Array, options: DecodeOptions): Frame {
  const head = new Reader(bytes, 0, bytes.length);
  const tableId = head.u8("table_id");
  if (tableId !== TABLE_ID_SCTE35) {
    throw new OnairError(
      "ONAIR_SCTE35_BAD_TABLE_ID",
      `table_id is 0x${tableId.toString(16).padStart(2, "0")}, a splice_info_section has 0xfc`,
      { tableId },
    );
  }
  const b1 = head.u8("section_length");
  const sectionLength = (b1 & 0x0f) * 256 + head.u8("section_length");
  const total = 3 + sectionLength;
  if (bytes.length < total) {
    throw new OnairError(
      "ONAIR_SCTE35_TRUNCATED",
      `section truncated at byte ${bytes.length}: section_length ${sectionLength} needs ${total} bytes`,
      { offset: bytes.length, field: "section_length", needed: total, available: bytes.length },
    );
  }
  // protocol_version .. splice_command_type (or the encrypted part) + CRC_32
  if (total < 3 + 11 + 4) {
    throw new OnairError(
      "ONAIR_SCTE35_TRUNCATED",
      `section truncated at byte ${total}: section_length ${sectionLength} is too short for the fixed header and CRC_32 (15 bytes)`,
      { offset: total, field: "section_length", needed: 18, available: total },
    );
  }
  const storedCrc = readCrc32(bytes, total - 4);
  if (options.verifyCrc !== false) {
    const computed = crc32Mpeg2(bytes, 0, total - 4);
    if (computed !== storedCrc) {
      throw new OnairError(
        "ONAIR_SCTE35_CRC",
        `CRC mismatch: section carries ${crcToString(storedCrc)}, computed ${crcToString(computed)}`,
        { stored: crcToString(storedCrc), computed: crcToString(computed) },
      );
    }
  }
  return { b1, sectionLength, total, storedCrc };
}

type Header = SectionHeader & { encryptedPacket: boolean };

/** protocol_version .. splice_command_length, read from `r` (at byte 3). */
function header(r: Reader, b1: number): { header: Header; spliceCommandLength: number } {
  const protocolVersion = r.u8("protocol_version");
  const [encByte, ptsAdjustment] = r.flags33("pts_adjustment");
  const cwIndex = r.u8("cw_index");
  const t0 = r.u8("tier");
  const t1 = r.u8("tier");
  const t2 = r.u8("splice_command_length");
  // Key order follows the bitstream (and the §14.2 JSON shape).
  const h = {
    tableId: TABLE_ID_SCTE35,
    sectionSyntaxIndicator: (b1 & 0x80) !== 0,
    privateIndicator: (b1 & 0x40) !== 0,
    sapType: (b1 >>> 4) & 0x03,
    protocolVersion,
    encryptedPacket: (encByte & 0x80) !== 0,
    encryptionAlgorithm: (encByte >>> 1) & 0x3f,
    ptsAdjustment,
    cwIndex,
    tier: t0 * 16 + (t1 >>> 4),
  } satisfies Header;
  return { header: h, spliceCommandLength: (t1 & 0x0f) * 256 + t2 };
}

/**
 * Decodes one splice_info_section starting at bytes[0]; bytes after section_length are
 * ignored (TS stuffing). Throws OnairError: ONAIR_SCTE35_BAD_TABLE_ID, ONAIR_SCTE35_TRUNCATED
 * (with offset and field), ONAIR_SCTE35_CRC (with both values).
 */
export function decodeSpliceInfoSection(bytes: Uint8Array, options: DecodeOptions = {}): SpliceInfoSection {
  const { b1, sectionLength, total, storedCrc } = frame(bytes, options);
  const r = new Reader(bytes, 3, total - 4);
  const { header: h, spliceCommandLength } = header(r, b1);
  const crc32 = crcToString(storedCrc);

  if (h.encryptedPacket) {
    // Encrypted from splice_command_type through E_CRC_32: keep it as it is.
    r.need(4, "E_CRC_32");
    const data = r.take(r.left - 4, "encrypted data");
    const eCrc = readCrc32(bytes, r.pos);
    const enc: EncryptedSpliceInfoSection = {
      ...h,
      encryptedPacket: true,
      spliceCommandLength,
      encryptedData: toHex(data),
      eCrc32: crcToString(eCrc),
      sectionLength,
      crc32,
    };
    return enc;
  }

  const spliceCommandType = r.u8("splice_command_type");
  const legacy = spliceCommandLength === 0xfff;
  const cmdReader = legacy ? new Reader(bytes, r.pos, r.end) : r.sub(spliceCommandLength, "splice_command");
  const command = decodeSpliceCommand(spliceCommandType, cmdReader, legacy);
  if (legacy) r.pos = cmdReader.pos;

  const descriptorLoopLength = r.u16("descriptor_loop_length");
  const loop = r.sub(descriptorLoopLength, "splice_descriptor loop");
  const descriptors: SpliceDescriptor[] = [];
  while (loop.left > 0) descriptors.push(decodeSpliceDescriptor(loop));

  const section: ClearSpliceInfoSection = {
    ...h,
    encryptedPacket: false,
    ...command,
    descriptors,
    ...(legacy ? { legacySpliceCommandLength: true as const } : {}),
    ...(r.left > 0 ? { alignmentStuffing: toHex(r.rest()) } : {}),
    sectionLength,
    spliceCommandLength,
    descriptorLoopLength,
    crc32,
  };
  return section;
}
