/**
 * CRC-32/MPEG-2 (ISO/IEC 13818-1 Annex A): poly 0x04C11DB7, init 0xFFFFFFFF,
 * no reflection, no final XOR. Over a whole section including its CRC_32 it yields 0.
 * Table-driven, one table built at module load.
 */
const TABLE = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let c = i << 24;
  for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
  TABLE[i] = c >>> 0;
}

/** CRC over bytes[start, end). */
export function crc32Mpeg2(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ TABLE[((crc >>> 24) ^ bytes[i]) & 0xff]) >>> 0;
  return crc >>> 0;
}

/** Writes the CRC of bytes[start, end) big-endian at `end` and returns it. */
export function writeCrc32(bytes: Uint8Array, start: number, end: number): number {
  const crc = crc32Mpeg2(bytes, start, end);
  bytes[end] = crc >>> 24;
  bytes[end + 1] = (crc >>> 16) & 0xff;
  bytes[end + 2] = (crc >>> 8) & 0xff;
  bytes[end + 3] = crc & 0xff;
  return crc;
}

/** Reads a big-endian CRC stored at `at`. */
export function readCrc32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}
