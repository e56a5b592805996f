/**
 * Loading profiles for the daemon: one file (`loadProfileFile`) or a whole directory
 * (`ProfileDirectory`), where a bad file is refused with its name and code and every
 * other channel still loads. The directory runs the same checks as `profile validate`
 * (`airableProfileFromBytes`: the schema, then what this machine must offer to air it). `reload()` (SIGHUP) returns what changed by content, so the
 * daemon restarts only changed channels.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import { OnairError, isOnairError, type ErrorCode } from "../core/errors.js";
import { parseProfileText, profileHash, profileSecrets } from "./profile.js";
import { checkProfileCanAir } from "./profile-check.js";
import type { ChannelProfile } from "./profile-schema.js";
import { MAX_SEALED_BYTES, getSodium, open, type KeyMaterial } from "./sealed.js";
import type { SecretSet } from "./redact.js";
import { wipeKey } from "./keys.js";

/** The part of a pino logger the loader uses. */
export interface LogSink {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const SEALED_EXT = ".onair";
export const CLEAR_EXTS = [".yaml", ".yml", ".json"] as const;

export interface LoadedProfile {
  /** file name inside the directory */
  file: string;
  path: string;
  profile: ChannelProfile;
  /** SHA-256 of the validated profile (profileHash) */
  hash: string;
  sealed: boolean;
}

export interface RefusedProfile {
  file: string;
  path: string;
  code: ErrorCode;
  message: string;
}

export type KeyProvider = KeyMaterial | (() => Promise<KeyMaterial>);

export interface LoadFileOptions {
  /** needed for sealed files */
  key?: KeyMaterial | undefined;
  /** accept clear YAML/JSON (demo, development) */
  allowClear?: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeText(bytes: Uint8Array, source: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new OnairError("ONAIR_PROFILE_SYNTAX", `${source}: not UTF-8 text`, { source });
  }
}

export function isSealedName(file: string): boolean {
  return file.endsWith(SEALED_EXT);
}

export function isClearName(file: string): boolean {
  return (CLEAR_EXTS as readonly string[]).includes(extname(file).toLowerCase());
}

async function readLimited(path: string, source: string): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (st.size > MAX_SEALED_BYTES) throw new OnairError("ONAIR_PROFILE_TOO_LARGE", `${source}: larger than 1 MiB`, { source });
    return await readFile(path);
  } catch (e) {
    if (isOnairError(e)) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_PROFILE_READ", `${source}: cannot read (${code})`, { source, errno: code });
  }
}

/** Profile bytes (sealed or clear, by file name) → validated profile. */
export async function profileFromBytes(
  data: Uint8Array,
  file: string,
  opts: LoadFileOptions,
): Promise<{ profile: ChannelProfile; sealed: boolean }> {
  if (isSealedName(file)) {
    if (!opts.key) throw new OnairError("ONAIR_KEY_MISSING", `${file}: a key is needed to open a sealed profile`, { source: file });
    const clear = await open(data, opts.key, file);
    try {
      return { profile: parseProfileText(decodeText(clear, file), file), sealed: true };
    } finally {
      (await getSodium()).memzero(clear);
    }
  }
  if (isClearName(file)) {
    if (!opts.allowClear) {
      throw new OnairError("ONAIR_PROFILE_CLEAR_REFUSED", `${file}: clear profile refused (seal it, or run with --allow-clear-profiles)`, {
        source: file,
      });
    }
    return { profile: parseProfileText(decodeText(data, file), file), sealed: false };
  }
  throw new OnairError("ONAIR_PROFILE_UNKNOWN_TYPE", `${file}: not a profile file (*.onair, or *.yaml/*.yml/*.json when clear)`, {
    source: file,
  });
}

/**
 * Profile bytes → a profile this machine can air: `profileFromBytes`, then the checks of
 * profile-check.ts (the slate file). The one validation `profile validate` and the daemon's
 * loader (start and SIGHUP) both run.
 */
export async function airableProfileFromBytes(
  data: Uint8Array,
  file: string,
  opts: LoadFileOptions,
): Promise<{ profile: ChannelProfile; sealed: boolean }> {
  const r = await profileFromBytes(data, file, opts);
  await checkProfileCanAir(r.profile, file);
  return r;
}

/** Loads one profile file. */
export async function loadProfileFile(path: string, opts: LoadFileOptions = {}): Promise<LoadedProfile> {
  const file = basename(path);
  const data = await readLimited(path, file);
  const { profile, sealed } = await profileFromBytes(data, file, opts);
  return { file, path, profile, hash: profileHash(profile), sealed };
}

export interface ProfileDirectoryOptions {
  dir: string;
  /** the key, or a function reading it (called on each load that needs it) */
  key?: KeyProvider | undefined;
  /** the key file's path, for the permission warning */
  keyPath?: string | undefined;
  allowClear?: boolean;
  logger?: LogSink;
  /** every loaded profile's secrets are added here (the logger scrubs them) */
  secrets?: SecretSet;
}

export interface ProfileSnapshot {
  /** loaded channels, by file name order */
  channels: LoadedProfile[];
  refused: RefusedProfile[];
}

export interface ProfileDiff {
  added: LoadedProfile[];
  /** new version of a running channel (same channel id, different content) */
  changed: LoadedProfile[];
  /** channels whose file is gone (or no longer holds that channel id) */
  removed: LoadedProfile[];
  /**
   * channels to leave alone: same content, or whose file now fails to load (the
   * running version is kept and the file is listed in `refused`)
   */
  unchanged: LoadedProfile[];
  refused: RefusedProfile[];
}

const noopLog: LogSink = { info() {}, warn() {}, error() {} };

/**
 * Every profile of a directory. `load()` reads them all; `reload()` reads again and diffs
 * against what is loaded. Files are cached by their bytes' SHA-256, so an unchanged file
 * is not decrypted again (no Argon2id cost on SIGHUP).
 */
export class ProfileDirectory {
  private current = new Map<string, LoadedProfile>();
  private byFileDigest = new Map<string, LoadedProfile>();
  private readonly log: LogSink;

  constructor(private readonly opts: ProfileDirectoryOptions) {
    this.log = opts.logger ?? noopLog;
  }

  /** Loaded channels by channel id. */
  get channels(): ReadonlyMap<string, LoadedProfile> {
    return this.current;
  }

  /** Loads every profile; a file that fails is refused, the others load. */
  async load(): Promise<ProfileSnapshot> {
    const { loaded, refused } = await this.scan();
    this.current = new Map(loaded.map((l) => [l.profile.channel.id, l]));
    return { channels: loaded, refused };
  }

  /** Loads again and returns what changed since the last load/reload. */
  async reload(): Promise<ProfileDiff> {
    const previous = this.current;
    const { loaded, refused, failedFiles } = await this.scan();
    const diff: ProfileDiff = { added: [], changed: [], removed: [], unchanged: [], refused };
    const next = new Map<string, LoadedProfile>();
    for (const l of loaded) {
      const id = l.profile.channel.id;
      const old = previous.get(id);
      if (!old) diff.added.push(l);
      else if (old.hash !== l.hash) diff.changed.push(l);
      else diff.unchanged.push(l);
      next.set(id, l);
    }
    for (const [id, old] of previous) {
      if (next.has(id)) continue;
      if (failedFiles.has(old.file)) {
        // the file is still there but its new content is refused: keep the running version
        diff.unchanged.push(old);
        next.set(id, old);
        this.log.warn(
          { event: "profile.kept", channel: id, file: old.file },
          "new version of the profile refused; the channel keeps its running profile",
        );
      } else {
        diff.removed.push(old);
      }
    }
    this.current = next;
    this.log.info(
      {
        event: "profiles.reloaded",
        added: diff.added.map((l) => l.profile.channel.id),
        changed: diff.changed.map((l) => l.profile.channel.id),
        removed: diff.removed.map((l) => l.profile.channel.id),
        unchanged: diff.unchanged.length,
        refused: refused.map((r) => r.file),
      },
      "profiles reloaded",
    );
    return diff;
  }

  private async warnPermissions(): Promise<void> {
    // a missing directory is reported by readdir, a missing key file when the key is read
    const dir = { event: "profiles.dir_open", dir: this.opts.dir };
    await this.warnIfOpen(this.opts.dir, 0o007, dir, "the profiles directory can be read by others; chmod o-rwx it");
    if (this.opts.keyPath) {
      const fields = { event: "key.file_open", keyFile: this.opts.keyPath };
      await this.warnIfOpen(this.opts.keyPath, 0o077, fields, "the key file can be read by group or others; chmod 600 it");
    }
  }

  /** Warns (the octal mode added to `fields`) when `path` has any of the `mask` permission bits; silent when it cannot be stat'd. */
  private async warnIfOpen(path: string, mask: number, fields: { event: string; [k: string]: unknown }, message: string): Promise<void> {
    const st = await stat(path).catch(() => undefined);
    if (st && st.mode & mask) this.log.warn({ ...fields, mode: (st.mode & 0o777).toString(8) }, message);
  }

  private async scan(): Promise<ScanResult> {
    const dir = this.opts.dir;
    await this.warnPermissions();
    const files = await profileFiles(dir);
    const result: ScanResult = { loaded: [], refused: [], failedFiles: new Set<string>() };
    const seenIds = new Map<string, string>();
    const digests = new Map<string, LoadedProfile>();
    const key = new ScanKey(this.opts.key);
    try {
      for (const file of files) {
        try {
          const l = await this.loadFile(file, key, digests);
          const id = l.profile.channel.id;
          const other = seenIds.get(id);
          if (other) {
            throw new OnairError("ONAIR_PROFILE_DUPLICATE_CHANNEL", `${file}: channel id ${id} is already defined by ${other}`, {
              source: file,
              channel: id,
            });
          }
          seenIds.set(id, file);
          for (const s of profileSecrets(l.profile)) this.opts.secrets?.add(s);
          result.loaded.push(l);
          this.log.info(
            { event: "profile.loaded", channel: id, file, sealed: l.sealed, hash: l.hash.slice(0, 12) },
            `profile ${file} loaded`,
          );
        } catch (e) {
          this.refuse(result, file, e);
        }
      }
    } finally {
      await key.wipe();
    }
    this.byFileDigest = digests;
    return result;
  }

  /** One file, validated (or the previous scan's result when its bytes did not change); recorded in `digests`. */
  private async loadFile(file: string, key: ScanKey, digests: Map<string, LoadedProfile>): Promise<LoadedProfile> {
    const path = join(this.opts.dir, file);
    const data = await readLimited(path, file);
    const digest = createHash("sha256").update(data).digest("hex");
    let l = this.byFileDigest.get(`${file}\0${digest}`);
    if (!l) {
      if (isSealedName(file)) await key.forFile(file);
      else if (isClearName(file) && this.opts.allowClear) {
        this.log.warn({ event: "profile.clear", file }, "loading a clear (unsealed) profile: its secrets are on disk in clear");
      }
      const { profile, sealed } = await airableProfileFromBytes(data, file, {
        key: key.current,
        allowClear: this.opts.allowClear ?? false,
      });
      l = { file, path, profile, hash: profileHash(profile), sealed };
    }
    digests.set(`${file}\0${digest}`, l);
    return l;
  }

  private refuse(result: ScanResult, file: string, e: unknown): void {
    const code = isOnairError(e) ? e.code : "ONAIR_INTERNAL";
    const message = isOnairError(e) ? e.message : `${file}: ${e instanceof Error ? e.message : String(e)}`;
    result.refused.push({ file, path: join(this.opts.dir, file), code, message });
    result.failedFiles.add(file);
    this.log.error({ event: "profile.refused", file, code }, message);
  }
}

interface ScanResult {
  loaded: LoadedProfile[];
  refused: RefusedProfile[];
  /** files refused in this scan (a reload keeps their running version) */
  failedFiles: Set<string>;
}

/** The profile files of `dir` (sealed and clear names, no dot files), sorted. */
async function profileFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_PROFILES_DIR", `cannot read the profiles directory ${dir} (${code})`, { dir, errno: code });
  }
  return names.filter((n) => !n.startsWith(".") && (isSealedName(n) || isClearName(n)));
}

/**
 * The key of one scan: resolved once, when the first sealed file needs it; a key the scan
 * resolved through a provider function is wiped when the scan ends (a given key is the caller's).
 */
class ScanKey {
  private key: KeyMaterial | undefined;
  private error: unknown;
  private owned = false;

  constructor(private readonly provider: KeyProvider | undefined) {}

  /** The key resolved so far (undefined before the first sealed file, or when there is none). */
  get current(): KeyMaterial | undefined {
    return this.key;
  }

  /** The key for the sealed `file`; throws the provider's error, else ONAIR_KEY_MISSING, when there is none. */
  async forFile(file: string): Promise<KeyMaterial> {
    if (!this.key && !this.error) {
      const k = this.provider;
      if (typeof k === "function") {
        try {
          this.key = await k();
          this.owned = true;
        } catch (e) {
          this.error = e;
        }
      } else this.key = k;
    }
    if (this.key) return this.key;
    if (this.error instanceof Error) throw this.error;
    throw new OnairError("ONAIR_KEY_MISSING", `${file}: a key is needed to open a sealed profile`);
  }

  async wipe(): Promise<void> {
    if (this.owned && this.key) await wipeKey(this.key);
  }
}
