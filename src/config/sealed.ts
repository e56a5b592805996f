/**
 * The sealed profile format (`*.onair`), version 1. Documented in profiles/README.md.
 *
 *   off  len  field
 *   0    8    magic 89 4F 4E 41 49 52 0D 0A ("\x89ONAIR\r\n")
 *   8    1    format version (1)
 *   9    1    KDF id: 0 = none (raw 32-byte key), 1 = Argon2id (crypto_pwhash ARGON2ID13)
 *   10   2    header length H (u16 BE, whole header including header check)
 *   12   4    total length (u32 BE, header + ciphertext)
 *   16   4    prefix check: BLAKE2b-128(bytes 0..15), first 4 bytes
 *   20   24   (KDF 1 only) opslimit u32 BE, memlimit u32 BE (bytes), salt 16 bytes
 *   ..   8    key id: BLAKE2b-128 keyed with the 32-byte key over "onair-profile-key-id/v1", first 8 bytes
 *   ..   24   nonce (random)
 *   H-8  8    header check: BLAKE2b-128(bytes 0..H-9), first 8 bytes
 *   H    ..   XChaCha20-Poly1305-IETF ciphertext + 16-byte tag, associated data = the whole header
 *
 * Only the AEAD gives security (the header is its associated data, so changing any header
 * field fails authentication). The two unkeyed checks only classify damage: a header whose
 * checks fail was corrupted, so any single flipped byte anywhere gives AUTH_FAILED, while a
 * header whose checks pass is read literally, giving UNKNOWN_VERSION, TRUNCATED or WRONG_KEY
 * (its key id differs from the given key's). Order of checks: EMPTY, NOT_SEALED (magic
 * differs in 2+ bytes), TRUNCATED (shorter than the prefix), prefix check → AUTH_FAILED,
 * UNKNOWN_VERSION, TRUNCATED (shorter than total length), header check → AUTH_FAILED,
 * BAD_HEADER (consistent but impossible values), KEY_KIND, WRONG_KEY, AEAD → AUTH_FAILED.
 */
import sodium from "libsodium-wrappers-sumo";
import { OnairError, type ErrorCode } from "../core/errors.js";

export const SEALED_MAGIC = Uint8Array.from([0x89, 0x4f, 0x4e, 0x41, 0x49, 0x52, 0x0d, 0x0a]);
export const SEALED_VERSION = 1;
export const KDF_NONE = 0;
export const KDF_ARGON2ID = 1;
export const KEY_BYTES = 32;
const PREFIX_LEN = 20;
const ARGON_PARAMS_LEN = 24;
const KEY_ID_LEN = 8;
const NONCE_LEN = 24;
const HEADER_CHECK_LEN = 8;
const TAG_LEN = 16;
const SALT_LEN = 16;
const KEY_ID_CONTEXT = "onair-profile-key-id/v1";
/** Refuse anything bigger: a profile is a few KiB. */
export const MAX_SEALED_BYTES = 1 << 20;

/**
 * Default Argon2id cost: libsodium's MODERATE (opslimit 3, memlimit 256 MiB, about 1.3 s
 * in this WebAssembly build). A sealed profile holds credentials at rest and is opened
 * rarely (start, SIGHUP for changed files only), so we buy offline-guessing resistance over
 * speed; daemons should use a raw key (no KDF) from a systemd credential anyway.
 */
export const DEFAULT_ARGON = { opslimit: 3, memlimit: 256 * 1024 * 1024 } as const;
/** Accepted when opening; outside this a header is refused (a memlimit is an allocation). */
const ARGON_LIMITS = { opsMin: 1, opsMax: 32, memMin: 8 * 1024, memMax: 1024 * 1024 * 1024 } as const;

export type KeyMaterial = { kind: "key"; key: Uint8Array; source: string } | { kind: "passphrase"; passphrase: Uint8Array; source: string };

export interface ArgonParams {
  opslimit: number;
  memlimit: number;
}

export interface SealedHeader {
  version: number;
  kdf: typeof KDF_NONE | typeof KDF_ARGON2ID;
  headerLength: number;
  totalLength: number;
  argon?: ArgonParams & { salt: Uint8Array };
  keyId: Uint8Array;
  nonce: Uint8Array;
}

let readyPromise: Promise<typeof sodium> | undefined;
/** libsodium, initialised once. */
export function getSodium(): Promise<typeof sodium> {
  readyPromise ??= sodium.ready.then(() => sodium);
  return readyPromise;
}

function blake(s: typeof sodium, data: Uint8Array, len: number, key: Uint8Array | null = null): Uint8Array {
  return s.crypto_generichash(16, data, key).subarray(0, len);
}

function eq(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function fail(
  code: Extract<ErrorCode, `ONAIR_PROFILE_${string}`>,
  source: string,
  message: string,
  fields: Record<string, unknown> = {},
): never {
  throw new OnairError(code, `${source}: ${message}`, { source, ...fields });
}

/** True when the data starts with the sealed magic (one byte of damage tolerated). */
export function looksSealed(data: Uint8Array): boolean {
  if (data.length < SEALED_MAGIC.length) return false;
  let diff = 0;
  for (let i = 0; i < SEALED_MAGIC.length; i++) if (data[i] !== SEALED_MAGIC[i]) diff++;
  return diff <= 1;
}

/** The key id stored in the header: a keyed hash of the key, never the key. */
export async function keyId(key: Uint8Array): Promise<Uint8Array> {
  const s = await getSodium();
  return blake(s, s.from_string(KEY_ID_CONTEXT), KEY_ID_LEN, key);
}

/**
 * Reads and classifies a sealed file's header (no key needed). Throws ONAIR_PROFILE_EMPTY,
 * _NOT_SEALED, _TRUNCATED, _AUTH_FAILED (damaged header), _UNKNOWN_VERSION or _BAD_HEADER.
 */
export async function readSealedHeader(data: Uint8Array, source = "profile"): Promise<SealedHeader> {
  const s = await getSodium();
  if (data.length === 0) fail("ONAIR_PROFILE_EMPTY", source, "the file is empty");
  if (data.length < SEALED_MAGIC.length) {
    const isPrefix = data.every((b, i) => b === SEALED_MAGIC[i]);
    if (isPrefix) fail("ONAIR_PROFILE_TRUNCATED", source, `the file is truncated (${data.length} bytes)`);
    fail("ONAIR_PROFILE_NOT_SEALED", source, "not a sealed profile (no onair magic)");
  }
  if (!looksSealed(data)) fail("ONAIR_PROFILE_NOT_SEALED", source, "not a sealed profile (no onair magic)");
  if (data.length < PREFIX_LEN) fail("ONAIR_PROFILE_TRUNCATED", source, `the file is truncated (${data.length} bytes)`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const prefixCheck = blake(s, data.subarray(0, 16), 4);
  if (!eq(prefixCheck, data.subarray(16, 20)) || !eq(data.subarray(0, 8), SEALED_MAGIC)) {
    fail("ONAIR_PROFILE_AUTH_FAILED", source, "the sealed header is damaged or was modified");
  }
  const version = data[8];
  if (version !== SEALED_VERSION) {
    fail("ONAIR_PROFILE_UNKNOWN_VERSION", source, `sealed format version ${version} is not supported (this onair reads 1)`, { version });
  }
  const kdf = data[9];
  const headerLength = dv.getUint16(10);
  const totalLength = dv.getUint32(12);
  if (data.length < totalLength || data.length < headerLength) {
    fail("ONAIR_PROFILE_TRUNCATED", source, `the file is truncated (${data.length} of ${totalLength} bytes)`, {
      length: data.length,
      expected: totalLength,
    });
  }
  if (headerLength < PREFIX_LEN + HEADER_CHECK_LEN) fail("ONAIR_PROFILE_BAD_HEADER", source, "impossible header length");
  const check = blake(s, data.subarray(0, headerLength - HEADER_CHECK_LEN), HEADER_CHECK_LEN);
  if (!eq(check, data.subarray(headerLength - HEADER_CHECK_LEN, headerLength))) {
    fail("ONAIR_PROFILE_AUTH_FAILED", source, "the sealed header is damaged or was modified");
  }
  if (data.length > totalLength) fail("ONAIR_PROFILE_AUTH_FAILED", source, "extra bytes after the sealed data");
  let off = PREFIX_LEN;
  let argon: SealedHeader["argon"];
  if (kdf === KDF_ARGON2ID) {
    const opslimit = dv.getUint32(off);
    const memlimit = dv.getUint32(off + 4);
    const salt = data.slice(off + 8, off + 8 + SALT_LEN);
    off += ARGON_PARAMS_LEN;
    if (
      opslimit < ARGON_LIMITS.opsMin ||
      opslimit > ARGON_LIMITS.opsMax ||
      memlimit < ARGON_LIMITS.memMin ||
      memlimit > ARGON_LIMITS.memMax
    ) {
      fail("ONAIR_PROFILE_BAD_HEADER", source, `Argon2id parameters out of range (opslimit ${opslimit}, memlimit ${memlimit})`);
    }
    argon = { opslimit, memlimit, salt };
  } else if (kdf !== KDF_NONE) {
    fail("ONAIR_PROFILE_BAD_HEADER", source, `unknown KDF id ${kdf}`);
  }
  const expectedHeader = off + KEY_ID_LEN + NONCE_LEN + HEADER_CHECK_LEN;
  if (headerLength !== expectedHeader) fail("ONAIR_PROFILE_BAD_HEADER", source, "header length does not match its KDF");
  if (totalLength < headerLength + TAG_LEN) fail("ONAIR_PROFILE_BAD_HEADER", source, "no room for the authentication tag");
  const keyIdBytes = data.slice(off, off + KEY_ID_LEN);
  const nonce = data.slice(off + KEY_ID_LEN, off + KEY_ID_LEN + NONCE_LEN);
  return { version, kdf, headerLength, totalLength, argon, keyId: keyIdBytes, nonce };
}

async function deriveKey(passphrase: Uint8Array, p: ArgonParams & { salt: Uint8Array }): Promise<Uint8Array> {
  const s = await getSodium();
  return s.crypto_pwhash(KEY_BYTES, passphrase, p.salt, p.opslimit, p.memlimit, s.crypto_pwhash_ALG_ARGON2ID13);
}

export interface SealOptions {
  /** Argon2id cost for passphrase sealing; default DEFAULT_ARGON. */
  argon?: ArgonParams;
}

/** Seals clear bytes with a raw key or a passphrase. */
export async function seal(plaintext: Uint8Array, km: KeyMaterial, opts: SealOptions = {}): Promise<Uint8Array> {
  const s = await getSodium();
  const isPass = km.kind === "passphrase";
  const headerLength = PREFIX_LEN + (isPass ? ARGON_PARAMS_LEN : 0) + KEY_ID_LEN + NONCE_LEN + HEADER_CHECK_LEN;
  const totalLength = headerLength + plaintext.length + TAG_LEN;
  if (totalLength > MAX_SEALED_BYTES) throw new OnairError("ONAIR_PROFILE_TOO_LARGE", `profile too large (${plaintext.length} bytes)`);
  const header = new Uint8Array(headerLength);
  const dv = new DataView(header.buffer);
  header.set(SEALED_MAGIC, 0);
  header[8] = SEALED_VERSION;
  header[9] = isPass ? KDF_ARGON2ID : KDF_NONE;
  dv.setUint16(10, headerLength);
  dv.setUint32(12, totalLength);
  header.set(blake(s, header.subarray(0, 16), 4), 16);
  let off = PREFIX_LEN;
  let key: Uint8Array;
  if (km.kind === "passphrase") {
    const argon = opts.argon ?? DEFAULT_ARGON;
    const opsOk = argon.opslimit >= ARGON_LIMITS.opsMin && argon.opslimit <= ARGON_LIMITS.opsMax;
    const memOk = argon.memlimit >= ARGON_LIMITS.memMin && argon.memlimit <= ARGON_LIMITS.memMax;
    if (!opsOk || !memOk) {
      throw new OnairError("ONAIR_KEY_INVALID", "Argon2id parameters out of range", { ...argon });
    }
    const salt = s.randombytes_buf(SALT_LEN);
    dv.setUint32(off, argon.opslimit);
    dv.setUint32(off + 4, argon.memlimit);
    header.set(salt, off + 8);
    off += ARGON_PARAMS_LEN;
    key = await deriveKey(km.passphrase, { ...argon, salt });
  } else {
    if (km.key.length !== KEY_BYTES) throw new OnairError("ONAIR_KEY_INVALID", `a key must be ${KEY_BYTES} bytes`, { source: km.source });
    key = Uint8Array.from(km.key);
  }
  try {
    header.set(blake(s, s.from_string(KEY_ID_CONTEXT), KEY_ID_LEN, key), off);
    const nonce = s.randombytes_buf(NONCE_LEN);
    header.set(nonce, off + KEY_ID_LEN);
    header.set(blake(s, header.subarray(0, headerLength - HEADER_CHECK_LEN), HEADER_CHECK_LEN), headerLength - HEADER_CHECK_LEN);
    const ct = s.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, header, null, nonce, key);
    const out = new Uint8Array(totalLength);
    out.set(header, 0);
    out.set(ct, headerLength);
    return out;
  } finally {
    s.memzero(key);
  }
}

/** Opens sealed bytes; returns the clear bytes (the caller should memzero them when done). */
export async function open(data: Uint8Array, km: KeyMaterial, source = "profile"): Promise<Uint8Array> {
  const s = await getSodium();
  const h = await readSealedHeader(data, source);
  let key: Uint8Array;
  if (h.kdf === KDF_ARGON2ID) {
    if (km.kind !== "passphrase") {
      fail("ONAIR_PROFILE_KEY_KIND", source, "sealed with a passphrase; give --passphrase-file (or ONAIR_PASSPHRASE_FILE)");
    }
    try {
      key = await deriveKey(km.passphrase, h.argon!);
    } catch (e) {
      throw new OnairError("ONAIR_PROFILE_AUTH_FAILED", `${source}: key derivation failed`, { source }, { cause: e });
    }
  } else {
    if (km.kind !== "key") {
      fail("ONAIR_PROFILE_KEY_KIND", source, "sealed with a key file; give --key-file (or ONAIR_KEY_FILE)");
    }
    key = Uint8Array.from(km.key);
  }
  try {
    const id = blake(s, s.from_string(KEY_ID_CONTEXT), KEY_ID_LEN, key);
    if (!eq(id, h.keyId)) {
      fail(
        "ONAIR_PROFILE_WRONG_KEY",
        source,
        km.kind === "passphrase" ? `wrong passphrase (from ${km.source})` : `sealed with another key (key from ${km.source})`,
        { keySource: km.source },
      );
    }
    try {
      return s.crypto_aead_xchacha20poly1305_ietf_decrypt(
        null,
        data.subarray(h.headerLength, h.totalLength),
        data.subarray(0, h.headerLength),
        h.nonce,
        key,
      );
    } catch {
      return fail("ONAIR_PROFILE_AUTH_FAILED", source, "authentication failed: the file was damaged or modified");
    }
  } finally {
    s.memzero(key);
  }
}
