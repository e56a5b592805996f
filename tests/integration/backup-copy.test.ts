/**
 * Backups off the box and across layouts, with real SQLite files in temp directories:
 * - `copyTo`: each backup copied (checked against its manifest) into other directories
 *   with their own retention; a `mount: true` target must hold the marker (or be another
 *   device), else the copy is refused; a file where the target directory should be fails
 *   the copy and leaves the local backup whole;
 * - `onair restore` still reads a backup in the old layout (format 1: `onair.db` as is),
 *   built here as the old code wrote it.
 */
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MOUNT_MARKER, createBackup, listBackups, type CopyFailure } from "../../src/store/backup.js";
import { openStore } from "../../src/store/db.js";
import { runCli } from "../helpers/cli.js";

let dir: string;
let storePath: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-backup-copy-"));
  storePath = join(dir, "data", "onair.db");
  const store = openStore(storePath);
  store.insertAsRun({ channel: "news", kind: "item", scheduledMs: 1, actualMs: 2, eventId: 7, details: { title: "seed" } });
  store.close();
  mkdirSync(join(dir, "profiles"));
  writeFileSync(join(dir, "profiles", "news.onair"), Buffer.from([0x89, 0x4f, 0x4e, 0x41, 0x49, 0x52, 1, 2, 3]));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const sha256 = (p: string): string => createHash("sha256").update(readFileSync(p)).digest("hex");

describe("backup.copyTo", () => {
  it("copies each backup into every target, checked against the manifest, keeping each target's newest N", async () => {
    const nas = join(dir, "nas", "onair");
    const usb = join(dir, "usb");
    mkdirSync(usb);
    writeFileSync(join(usb, MOUNT_MARKER), "");
    const copyTo = [
      { dir: nas, keep: 1 },
      { dir: usb, keep: 3, mount: true },
    ];
    const failed: CopyFailure[] = [];
    const a = await createBackup({
      store: storePath,
      destDir: join(dir, "backups"),
      profilesDir: join(dir, "profiles"),
      copyTo,
      onCopyFailed: (f) => failed.push(f),
    });
    const b = await createBackup({
      store: storePath,
      destDir: join(dir, "backups"),
      profilesDir: join(dir, "profiles"),
      copyTo,
      onCopyFailed: (f) => failed.push(f),
    });
    expect(failed).toEqual([]);
    expect(b.copies.map((c) => c.ok && c.dir)).toEqual([join(nas, basename(b.dir)), join(usb, basename(b.dir))]);
    // the non-mount target was created, owner only; retention per target
    expect(statSync(nas).mode & 0o777).toBe(0o700);
    expect(listBackups(nas)).toEqual([join(nas, basename(b.dir))]);
    expect(listBackups(usb)).toEqual([join(usb, basename(b.dir)), join(usb, basename(a.dir))]);
    expect(b.copies[0]).toMatchObject({ pruned: [join(nas, basename(a.dir))] });
    // byte-identical copies, no partial left behind
    for (const f of ["manifest.json", "onair.db.gz", "profiles/news.onair"])
      expect(sha256(join(usb, basename(b.dir), f))).toBe(sha256(join(b.dir, f)));
    expect(readdirSync(usb).sort()).toEqual([MOUNT_MARKER, basename(b.dir), basename(a.dir)].sort());
  });

  it("refuses a mount: true target without its marker (same device as its parent), or missing, and never creates it", async () => {
    const unmounted = join(dir, "mnt", "nas");
    mkdirSync(unmounted, { recursive: true });
    const missing = join(dir, "mnt", "usb");
    const failed: CopyFailure[] = [];
    const r = await createBackup({
      store: storePath,
      destDir: join(dir, "backups"),
      copyTo: [
        { dir: unmounted, mount: true },
        { dir: missing, mount: true },
      ],
      onCopyFailed: (f) => failed.push(f),
    });
    expect(failed.map((f) => [f.target, f.code, f.backup])).toEqual([
      [unmounted, "ONAIR_BACKUP_TARGET_NOT_MOUNTED", basename(r.dir)],
      [missing, "ONAIR_BACKUP_TARGET_NOT_MOUNTED", basename(r.dir)],
    ]);
    expect(failed[0].message).toContain(MOUNT_MARKER);
    expect(readdirSync(unmounted)).toEqual([]);
    expect(existsSync(missing)).toBe(false);
    // the local backup stands
    expect(listBackups(join(dir, "backups"))).toEqual([r.dir]);
  });

  it("fails the copy when a file is where the target directory should be, and still copies to the next target", async () => {
    writeFileSync(join(dir, "blocked"), "not a directory");
    const failed: CopyFailure[] = [];
    const r = await createBackup({
      store: storePath,
      destDir: join(dir, "backups"),
      copyTo: [{ dir: join(dir, "blocked", "onair") }, { dir: join(dir, "second") }],
      onCopyFailed: (f) => failed.push(f),
    });
    expect(failed.map((f) => f.code)).toEqual(["ONAIR_BACKUP_COPY_FAILED"]);
    expect(failed[0].message).toMatch(/ENOTDIR|EEXIST/);
    expect(r.copies[1]).toMatchObject({ ok: true, dir: join(dir, "second", basename(r.dir)) });
  });
});

describe("onair backup with backup.copyTo", () => {
  it("copies to the config's targets, prints a refused copy and exits 1, the local backup kept", async () => {
    const unmounted = join(dir, "mnt", "nas");
    mkdirSync(unmounted, { recursive: true });
    const config = join(dir, "onair.yaml");
    writeFileSync(
      config,
      `dataDir: ${join(dir, "data")}\nbackup:\n  copyTo:\n    - { dir: ${join(dir, "copies")}, keep: 1 }\n    - { dir: ${unmounted}, mount: true }\n`,
    );
    const r = await runCli(["backup", "--json"], { env: { ONAIR_CONFIG: config } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`onair: ONAIR_BACKUP_TARGET_NOT_MOUNTED: backup copy target ${unmounted} is not mounted`);
    const j = JSON.parse(r.stdout) as { dir: string; copies: { target: string; ok: boolean; code?: string }[] };
    expect(j.copies.map((c) => [c.target, c.ok, c.code])).toEqual([
      [join(dir, "copies"), true, undefined],
      [unmounted, false, "ONAIR_BACKUP_TARGET_NOT_MOUNTED"],
    ]);
    expect(listBackups(join(dir, "data", "backups"))).toEqual([j.dir]);
    expect(listBackups(join(dir, "copies"))).toEqual([join(dir, "copies", basename(j.dir))]);
  });
});

describe("onair restore of the old layout", () => {
  it("restores a format-1 backup (the store as onair.db, uncompressed)", async () => {
    // a backup as the code before compression wrote it
    const old = join(dir, "old", "onair-20250601T033000Z");
    mkdirSync(join(old, "profiles"), { recursive: true });
    const src = new Database(storePath, { readonly: true });
    await src.backup(join(old, "onair.db"));
    src.close();
    const copy = new Database(join(old, "onair.db"));
    copy.pragma("journal_mode = DELETE");
    const schemaVersion = copy.pragma("user_version", { simple: true }) as number;
    copy.close();
    writeFileSync(join(old, "profiles", "news.onair"), readFileSync(join(dir, "profiles", "news.onair")));
    const files = ["onair.db", "profiles/news.onair"].map((p) => ({
      path: p,
      bytes: statSync(join(old, p)).size,
      sha256: sha256(join(old, p)),
    }));
    const manifest = {
      format: 1,
      createdAt: "2025-06-01T03:30:00.000Z",
      createdMs: Date.UTC(2025, 5, 1, 3, 30),
      source: { store: storePath },
      schemaVersion,
      integrity: "ok",
      rows: { asrun: 1 },
      files,
    };
    writeFileSync(join(old, "manifest.json"), JSON.stringify(manifest, null, 2));

    const target = join(dir, "restored");
    writeFileSync(join(dir, "onair.yaml"), `dataDir: ${target}\nprofilesDir: ${join(target, "profiles")}\n`);
    const r = await runCli(["restore", join(dir, "old"), "--profiles"], { env: { ONAIR_CONFIG: join(dir, "onair.yaml") } });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`restored ${old} to ${join(target, "onair.db")}`);
    const s = openStore(join(target, "onair.db"));
    expect(s.queryAsRun({ channel: "news" }).map((e) => e.details)).toEqual([{ title: "seed" }]);
    s.close();
    expect(readFileSync(join(target, "profiles", "news.onair"))).toEqual(readFileSync(join(dir, "profiles", "news.onair")));
  });
});
