/**
 * Key sources. First found wins:
 *   1. --key-file / --passphrase-file
 *   2. systemd credential: $CREDENTIALS_DIRECTORY/onair.key (raw key), else
 *      $CREDENTIALS_DIRECTORY/onair.passphrase (for LoadCredentialEncrypted=)
 *   3. ONAIR_KEY_FILE / ONAIR_PASSPHRASE_FILE
 *   4. the global config's keySource ({keyFile} or {passphraseFile})
 *   5. interactive only: a passphrase prompt on the TTY
 *
 * A key file holds 32 bytes: either exactly 32 raw bytes, or their base64 (standard or
 * URL-safe, padding optional) with surrounding whitespace ignored. `profile keygen` writes
 * base64 and a newline, mode 0600. A passphrase file holds the passphrase; one trailing
 * newline (LF or CRLF) is removed.
 */
import { open as fsOpen, readFile, stat } from "node:fs/promises";
import { constants } from "node:fs";
import { join } from "node:path";
import { OnairError } from "../core/errors.js";
import { KEY_BYTES, getSodium, type KeyMaterial } from "./sealed.js";
import { writeFileAtomic } from "./atomic.js";

export type { KeyMaterial } from "./sealed.js";

/** Where to look for a key, from flags, environment and the global config. */
export interface KeySourceOptions {
  keyFile?: string | undefined;
  passphraseFile?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** the global config's keySource */
  config?: { keyFile?: string | undefined; passphraseFile?: string | undefined } | undefined;
  /** allow a TTY prompt as the last resort (CLI only, never the daemon) */
  prompt?: (question: string) => Promise<string>;
  /** when prompting to seal, ask twice */
  confirm?: boolean;
}

/** Where a key would come from, without reading it. */
export type KeyLocation = { kind: "key-file" | "passphrase-file"; path: string; source: string } | { kind: "prompt"; source: string };

const MAX_KEY_FILE_BYTES = 4096;

async function readSmallFile(path: string, what: string): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new OnairError("ONAIR_KEY_READ", `${what} ${path} is not a regular file`, { path });
    if (st.size > MAX_KEY_FILE_BYTES) throw new OnairError("ONAIR_KEY_INVALID", `${what} ${path} is too large`, { path });
    return await readFile(path);
  } catch (e) {
    if (e instanceof OnairError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_KEY_READ", `cannot read ${what} ${path} (${code})`, { path, errno: code });
  }
}

/** Parses key file bytes: 32 raw bytes, or base64 of 32 bytes. The input buffer is wiped. */
export async function parseKeyBytes(buf: Uint8Array, source: string): Promise<Uint8Array> {
  const s = await getSodium();
  try {
    if (buf.length === KEY_BYTES) return Uint8Array.from(buf);
    const text = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString("latin1").trim();
    if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) {
      const key = Buffer.from(text.replace(/-/g, "+").replace(/_/g, "/"), "base64");
      if (key.length === KEY_BYTES) {
        const out = Uint8Array.from(key);
        s.memzero(key);
        return out;
      }
      s.memzero(key);
    }
    throw new OnairError(
      "ONAIR_KEY_INVALID",
      `key from ${source} is not 32 bytes (raw) or their base64; make one with \`onair profile keygen --out FILE\``,
      { source },
    );
  } finally {
    s.memzero(buf);
  }
}

export async function readKeyFile(path: string, source = path): Promise<KeyMaterial> {
  const buf = await readSmallFile(path, "key file");
  return { kind: "key", key: await parseKeyBytes(buf, source), source };
}

export async function readPassphraseFile(path: string, source = path): Promise<KeyMaterial> {
  const buf = await readSmallFile(path, "passphrase file");
  let end = buf.length;
  if (end > 0 && buf[end - 1] === 0x0a) end--;
  if (end > 0 && buf[end - 1] === 0x0d) end--;
  const passphrase = Uint8Array.from(buf.subarray(0, end));
  (await getSodium()).memzero(buf);
  if (passphrase.length === 0) throw new OnairError("ONAIR_PASSPHRASE_EMPTY", `passphrase file ${source} is empty`, { source });
  return { kind: "passphrase", passphrase, source };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

function pickOne(keyFile: string | undefined, passphraseFile: string | undefined, source: string): KeyLocation | undefined {
  if (keyFile && passphraseFile) {
    throw new OnairError("ONAIR_KEY_CONFLICT", `both a key file and a passphrase file are given (${source}); give one`);
  }
  if (keyFile) return { kind: "key-file", path: keyFile, source: `${source} key file ${keyFile}` };
  if (passphraseFile) return { kind: "passphrase-file", path: passphraseFile, source: `${source} passphrase file ${passphraseFile}` };
  return undefined;
}

/** Finds where the key comes from (first found wins). */
export async function locateKey(o: KeySourceOptions): Promise<KeyLocation> {
  const env = o.env ?? process.env;
  const flag = pickOne(o.keyFile, o.passphraseFile, "flag");
  if (flag) return flag;
  if (env.CREDENTIALS_DIRECTORY) {
    const k = join(env.CREDENTIALS_DIRECTORY, "onair.key");
    if (await exists(k)) return { kind: "key-file", path: k, source: "systemd credential onair.key" };
    const p = join(env.CREDENTIALS_DIRECTORY, "onair.passphrase");
    if (await exists(p)) return { kind: "passphrase-file", path: p, source: "systemd credential onair.passphrase" };
  }
  const fromEnv = pickOne(env.ONAIR_KEY_FILE || undefined, env.ONAIR_PASSPHRASE_FILE || undefined, "ONAIR_KEY_FILE/ONAIR_PASSPHRASE_FILE");
  if (fromEnv) return fromEnv;
  const fromConfig = pickOne(o.config?.keyFile, o.config?.passphraseFile, "global config keySource");
  if (fromConfig) return fromConfig;
  if (o.prompt) return { kind: "prompt", source: "TTY passphrase prompt" };
  throw new OnairError(
    "ONAIR_KEY_MISSING",
    "no key: give --key-file or --passphrase-file, a systemd credential onair.key, ONAIR_KEY_FILE or ONAIR_PASSPHRASE_FILE, or keySource in the global config",
  );
}

/** Locates and reads the key material. */
export async function resolveKey(o: KeySourceOptions): Promise<KeyMaterial> {
  const loc = await locateKey(o);
  if (loc.kind === "key-file") return readKeyFile(loc.path, loc.source);
  if (loc.kind === "passphrase-file") return readPassphraseFile(loc.path, loc.source);
  const first = await o.prompt!("Passphrase: ");
  if (o.confirm) {
    const again = await o.prompt!("Passphrase (again): ");
    if (again !== first) throw new OnairError("ONAIR_PASSPHRASE_MISMATCH", "the passphrases do not match");
  }
  if (first.length === 0) throw new OnairError("ONAIR_PASSPHRASE_EMPTY", "empty passphrase");
  return { kind: "passphrase", passphrase: new TextEncoder().encode(first), source: loc.source };
}

/** Wipes the secret bytes of key material. */
export async function wipeKey(km: KeyMaterial): Promise<void> {
  const s = await getSodium();
  s.memzero(km.kind === "key" ? km.key : km.passphrase);
}

/** A new random 32-byte key, written as base64 + newline to `path` with mode 0600 (atomic; refuses to overwrite). */
export async function generateKeyFile(path: string, opts: { overwrite?: boolean } = {}): Promise<void> {
  const s = await getSodium();
  const key = s.crypto_aead_xchacha20poly1305_ietf_keygen();
  const text = Buffer.from(`${Buffer.from(key).toString("base64")}\n`, "latin1");
  try {
    if (!opts.overwrite) {
      // O_EXCL reservation so an existing key is never replaced by accident
      let fh;
      try {
        fh = await fsOpen(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? "EIO";
        if (code === "EEXIST") throw new OnairError("ONAIR_KEY_EXISTS", `${path} already exists; not overwriting a key`, { path });
        throw new OnairError("ONAIR_KEY_WRITE", `cannot create ${path} (${code})`, { path, errno: code });
      }
      await fh.close();
    }
    await writeFileAtomic(path, text, 0o600);
  } finally {
    s.memzero(key);
    s.memzero(text);
  }
}

/** Group/other permission bits on a key file (should be 0). */
export async function keyFileLooseMode(path: string): Promise<number | undefined> {
  try {
    const st = await stat(path);
    return st.mode & 0o077 ? st.mode & 0o777 : undefined;
  } catch {
    return undefined;
  }
}
