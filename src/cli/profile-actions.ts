/**
 * The actions of `onair profile …` (declared in profile.ts, loaded when one runs).
 * Secrets never reach stdout/stderr except through `profile open` (which is its purpose).
 */
import { spawn } from "node:child_process";
import { existsSync, rmSync, writeFileSync, statSync } from "node:fs";
import { mkdtemp, open as fsOpen, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { OnairError, formatError, isOnairError } from "../core/errors.js";
import { writeFileAtomic } from "../config/atomic.js";
import { resolveGlobalConfig } from "../config/global.js";
import { generateKeyFile, resolveKey, wipeKey, type KeySourceOptions } from "../config/keys.js";
import { airableProfileFromBytes, isSealedName } from "../config/loader.js";
import { formatIssue, parseProfileText, redactProfile, type ProfileIssue } from "../config/profile.js";
import { profileJsonSchema } from "../config/profile-schema.js";
import {
  DEFAULT_ARGON,
  KDF_ARGON2ID,
  getSodium,
  open,
  readSealedHeader,
  seal,
  type ArgonParams,
  type KeyMaterial,
} from "../config/sealed.js";
import { out } from "./io.js";

export interface KeyFlags {
  keyFile?: string;
  passphraseFile?: string;
  config?: string;
  argonOps?: string;
  argonMem?: string;
}

function argonFrom(o: { argonOps?: string; argonMem?: string }): ArgonParams | undefined {
  if (o.argonOps === undefined && o.argonMem === undefined) return undefined;
  const opslimit = o.argonOps === undefined ? DEFAULT_ARGON.opslimit : Number(o.argonOps);
  const memlimit = o.argonMem === undefined ? DEFAULT_ARGON.memlimit : Number(o.argonMem);
  if (!Number.isInteger(opslimit) || !Number.isInteger(memlimit)) {
    throw new OnairError("ONAIR_USAGE", "--argon-ops and --argon-mem take integers");
  }
  return { opslimit, memlimit };
}

/** Reads a hidden line from the TTY (echo off). Only offered when stdin and stderr are TTYs. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let buf = "";
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      process.stderr.write("\n");
      if (err) reject(err);
      else resolve(buf);
    };
    const onData = (chunk: Buffer): void => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new OnairError("ONAIR_ABORTED", "aborted"));
        if (ch === "\u007f" || ch === "\b") buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on("data", onData);
  });
}

function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY);
}

/** Resolves the key: flags, systemd credential, env, global config keySource, TTY prompt. */
async function keyFrom(o: KeyFlags, confirm = false): Promise<KeyMaterial> {
  const base: KeySourceOptions = { keyFile: o.keyFile, passphraseFile: o.passphraseFile, confirm };
  try {
    return await resolveKey(base);
  } catch (e) {
    if (!isOnairError(e) || e.code !== "ONAIR_KEY_MISSING") throw e;
  }
  const cfg = await resolveGlobalConfig({ flags: { config: o.config } });
  return resolveKey({ ...base, config: cfg.keySource, prompt: canPrompt() ? promptHidden : undefined });
}

async function readInput(path: string): Promise<Buffer> {
  if (path === "-") {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "EIO";
    throw new OnairError("ONAIR_PROFILE_READ", `cannot read ${path} (${code})`, { path, errno: code });
  }
}

function decodeUtf8(b: Uint8Array, source: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(b);
  } catch {
    throw new OnairError("ONAIR_PROFILE_SYNTAX", `${source}: not UTF-8 text`, { source });
  }
}

function issuesOf(e: unknown): ProfileIssue[] {
  if (isOnairError(e) && Array.isArray(e.fields.issues)) return e.fields.issues as ProfileIssue[];
  return [];
}

/** Argon params of an existing sealed file (kept when re-sealing), or undefined. */
async function argonOf(data: Uint8Array, source: string): Promise<ArgonParams | undefined> {
  const h = await readSealedHeader(data, source);
  return h.kdf === KDF_ARGON2ID && h.argon ? { opslimit: h.argon.opslimit, memlimit: h.argon.memlimit } : undefined;
}

function splitCommand(cmd: string): string[] {
  return cmd.trim().split(/\s+/).filter(Boolean);
}

function runEditor(editor: string[], file: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(editor[0], [...editor.slice(1), file], { stdio: "inherit", shell: false });
    child.on("error", (e: NodeJS.ErrnoException) =>
      reject(new OnairError("ONAIR_EDITOR_FAILED", `cannot start the editor ${editor[0]} (${e.code ?? "error"})`, { editor: editor[0] })),
    );
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** A private directory for the clear copy: tmpfs (/dev/shm) when present, mode 0700. */
async function privateDir(): Promise<string> {
  const base = existsSync("/dev/shm") && statSync("/dev/shm").isDirectory() ? "/dev/shm" : tmpdir();
  return mkdtemp(join(base, "onair-edit-")); // mkdtemp creates 0700
}

/** Overwrites then removes the clear copy and its directory (best effort, synchronous for signal paths). */
function shredDirSync(dir: string, file: string): void {
  try {
    const size = statSync(file).size;
    writeFileSync(file, Buffer.alloc(size));
  } catch {
    // already gone
  }
  rmSync(dir, { recursive: true, force: true });
}

export async function editCommand(file: string, o: KeyFlags): Promise<void> {
  const sealedBytes = await readInput(file);
  const argon = await argonOf(sealedBytes, basename(file));
  const km = await keyFrom(o);
  const sodium = await getSodium();
  let clear: Uint8Array | undefined;
  const dir = await privateDir();
  const tmpFile = join(dir, `${basename(file).replace(/\.onair$/, "")}.yaml`);
  const cleanupOnSignal = (): void => {
    shredDirSync(dir, tmpFile);
    process.exit(130);
  };
  process.once("SIGINT", cleanupOnSignal);
  process.once("SIGTERM", cleanupOnSignal);
  process.once("SIGHUP", cleanupOnSignal);
  try {
    clear = await open(sealedBytes, km, basename(file));
    const fh = await fsOpen(tmpFile, "wx", 0o600);
    try {
      await fh.writeFile(clear);
    } finally {
      await fh.close();
    }
    const editor = splitCommand(process.env.EDITOR || process.env.VISUAL || "vi");
    const code = await runEditor(editor, tmpFile);
    if (code !== 0) {
      throw new OnairError("ONAIR_EDITOR_FAILED", `the editor exited with status ${code}; ${file} is unchanged`, { status: code });
    }
    const edited = await readFile(tmpFile);
    try {
      if (Buffer.compare(edited, Buffer.from(clear)) === 0) {
        process.stderr.write(`onair: no changes; ${file} is unchanged\n`);
        return;
      }
      try {
        parseProfileText(decodeUtf8(edited, basename(file)), basename(file));
      } catch (e) {
        for (const i of issuesOf(e)) process.stderr.write(`  ${formatIssue(i)}\n`);
        throw new OnairError(
          isOnairError(e) ? e.code : "ONAIR_PROFILE_INVALID",
          `${isOnairError(e) ? e.message : "invalid profile"}; ${file} is unchanged`,
          isOnairError(e) ? e.fields : {},
        );
      }
      const resealed = await seal(edited, km, { argon: argon ?? argonFrom(o) });
      await writeFileAtomic(file, resealed, 0o600);
      process.stderr.write(`onair: ${file} re-sealed\n`);
    } finally {
      sodium.memzero(edited);
    }
  } finally {
    process.off("SIGINT", cleanupOnSignal);
    process.off("SIGTERM", cleanupOnSignal);
    process.off("SIGHUP", cleanupOnSignal);
    shredDirSync(dir, tmpFile);
    await rm(dir, { recursive: true, force: true });
    if (clear) sodium.memzero(clear);
    await wipeKey(km);
  }
}

export async function validateCommand(files: string[], o: KeyFlags & { print?: boolean }): Promise<void> {
  let km: KeyMaterial | undefined;
  let keyError: unknown;
  let failed = 0;
  try {
    for (const file of files) {
      const name = basename(file);
      try {
        const data = await readInput(file);
        if (isSealedName(name) && !km && !keyError) {
          try {
            km = await keyFrom(o);
          } catch (e) {
            keyError = e;
          }
        }
        if (isSealedName(name) && !km) {
          throw keyError instanceof Error ? keyError : new OnairError("ONAIR_KEY_MISSING", `${name}: no key`);
        }
        const { profile, sealed } = await airableProfileFromBytes(data, name, { key: km, allowClear: true });
        out(`${file}: ok (channel ${profile.channel.id}, ${sealed ? "sealed" : "clear"})`);
        if (o.print) out(JSON.stringify(redactProfile(profile), null, 2));
      } catch (e) {
        failed++;
        out(`${file}: ${formatError(e)}`);
        for (const i of issuesOf(e).slice(1)) out(`  ${formatIssue(i)}`);
      }
    }
  } finally {
    if (km) await wipeKey(km);
  }
  if (failed > 0) {
    throw new OnairError("ONAIR_VALIDATE_FAILED", `${failed} of ${files.length} profile(s) failed validation`, { failed });
  }
}

export async function rekeyCommand(files: string[], o: KeyFlags & { newKeyFile?: string; newPassphraseFile?: string }): Promise<void> {
  if (!o.newKeyFile && !o.newPassphraseFile) {
    throw new OnairError("ONAIR_USAGE", "give --new-key-file or --new-passphrase-file");
  }
  const oldKm = await keyFrom(o);
  const newKm = await resolveKey({ keyFile: o.newKeyFile, passphraseFile: o.newPassphraseFile, env: {} });
  const sodium = await getSodium();
  try {
    for (const file of files) {
      const data = await readInput(file);
      const clear = await open(data, oldKm, basename(file));
      try {
        const argon = argonFrom(o) ?? (await argonOf(data, basename(file)));
        await writeFileAtomic(file, await seal(clear, newKm, { argon }), 0o600);
      } finally {
        sodium.memzero(clear);
      }
      process.stderr.write(`onair: ${file} re-sealed with the new ${newKm.kind === "key" ? "key" : "passphrase"}\n`);
    }
  } finally {
    await wipeKey(oldKm);
    await wipeKey(newKm);
  }
}

export function schemaAction(): void {
  out(JSON.stringify(profileJsonSchema(), null, 2));
}

export async function keygenAction(o: { out: string; force?: boolean }): Promise<void> {
  await generateKeyFile(o.out, { overwrite: o.force ?? false });
  process.stderr.write(`onair: key written to ${o.out} (mode 0600); keep a copy somewhere safe\n`);
}

export async function sealAction(input: string, o: KeyFlags & { out: string }): Promise<void> {
  const data = await readInput(input);
  const sodium = await getSodium();
  try {
    parseProfileText(decodeUtf8(data, basename(input)), input === "-" ? "stdin" : basename(input));
    const km = await keyFrom(o, true);
    try {
      await writeFileAtomic(o.out, await seal(data, km, { argon: argonFrom(o) }), 0o600);
    } finally {
      await wipeKey(km);
    }
  } finally {
    sodium.memzero(data);
  }
  process.stderr.write(`onair: sealed to ${o.out}${input === "-" ? "" : `; ${input} is still in clear on disk: remove it`}\n`);
}

export async function openAction(file: string, o: KeyFlags): Promise<void> {
  const data = await readInput(file);
  const km = await keyFrom(o);
  const sodium = await getSodium();
  try {
    const clear = await open(data, km, basename(file));
    await new Promise<void>((resolve, reject) => process.stdout.write(clear, (e) => (e ? reject(e) : resolve())));
    sodium.memzero(clear);
  } finally {
    await wipeKey(km);
  }
}
