import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openStore } from "../../src/store/db.js";
import { checkBackup, createBackup, integrityCheck, listBackups, restoreBackup } from "../../src/store/backup.js";
import { repoRoot, runCli } from "../helpers/cli.js";

/** A separate process appending as-run rows as fast as it can, like a busy daemon. */
const WRITER = `
const Database = require(process.argv[2]);
const db = new Database(process.argv[3]);
db.pragma("journal_mode = WAL"); db.pragma("busy_timeout = 5000"); db.pragma("synchronous = FULL");
const ins = db.prepare("INSERT INTO asrun (channel, kind, scheduled_ms, actual_ms, pts, event_id, details) VALUES (?, ?, ?, ?, ?, ?, ?)");
let n = 0;
const tick = () => {
  const t = db.transaction(() => { for (let i = 0; i < 20; i++) { n++; ins.run("news", "cue", n, n, n * 3600, n % 65536, JSON.stringify({ n, pad: "x".repeat(200) })); } });
  t.immediate();
  if (n === 200) process.stdout.write("writing\\n");
  setImmediate(tick);
};
tick();
`;

let dir: string;
let writer: ChildProcess | undefined;

function startWriter(storePath: string): Promise<void> {
  const script = join(dir, "writer.cjs");
  writeFileSync(script, WRITER);
  writer = spawn(process.execPath, [script, join(repoRoot, "node_modules", "better-sqlite3"), storePath], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    writer!.stdout!.on("data", (c: Buffer) => {
      if (c.toString().includes("writing")) resolve();
    });
    writer!.on("exit", (code) => reject(new Error(`writer exited ${code}`)));
  });
}

async function stopWriter(): Promise<void> {
  const w = writer;
  writer = undefined;
  if (!w || w.exitCode !== null || w.signalCode !== null) return;
  await new Promise<void>((r) => {
    w.once("exit", () => r());
    w.kill("SIGKILL");
  });
}

function seedTree(): { storePath: string; profilesDir: string; configPath: string } {
  const storePath = join(dir, "data", "onair.db");
  const store = openStore(storePath);
  store.insertAsRun({ channel: "news", kind: "item", scheduledMs: 1, actualMs: 2, eventId: 7, details: { title: "seed" } });
  store.close();
  const profilesDir = join(dir, "profiles");
  mkdirSync(profilesDir);
  writeFileSync(join(profilesDir, "news.onair"), Buffer.from([0x89, 0x4f, 0x4e, 0x41, 0x49, 0x52, 0x0d, 0x0a, 1, 2, 3]), { mode: 0o640 });
  writeFileSync(join(profilesDir, "draft.yaml"), "channel: { id: clear }\n");
  const configPath = join(dir, "onair.yaml");
  writeFileSync(configPath, `dataDir: ${join(dir, "data")}\nprofilesDir: ${profilesDir}\n`, { mode: 0o644 });
  return { storePath, profilesDir, configPath };
}

let unpacked = 0;
/** The store of a (compressed) backup, decompressed to a file of its own in the test's directory. */
function storeOf(backupDir: string): string {
  const out = join(dir, `unpacked-${++unpacked}.db`);
  writeFileSync(out, gunzipSync(readFileSync(join(backupDir, "onair.db.gz"))));
  return out;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-backup-"));
});
afterEach(async () => {
  await stopWriter();
  rmSync(dir, { recursive: true, force: true });
});

describe("online backup", () => {
  it("takes a backup while another process writes as-run rows; it passes integrity_check", async () => {
    const t = seedTree();
    await startWriter(t.storePath);
    const results = [];
    for (let i = 0; i < 3; i++) {
      results.push(
        await createBackup({
          store: t.storePath,
          destDir: join(dir, "backups"),
          profilesDir: t.profilesDir,
          configPath: t.configPath,
          keep: 2,
        }),
      );
    }
    await stopWriter();
    for (const r of results.slice(1)) {
      // owner only, as the store: the profiles and config copies too, whatever their source's mode
      expect(statSync(join(dir, "backups")).mode & 0o777).toBe(0o700);
      expect(statSync(r.dir).mode & 0o777).toBe(0o700);
      for (const f of ["onair.db.gz", "onair.yaml", "profiles/news.onair", "manifest.json"])
        expect([f, statSync(join(r.dir, f)).mode & 0o777]).toEqual([f, 0o600]);
      expect(integrityCheck(storeOf(r.dir))).toBe("ok");
      expect(r.manifest.rows.asrun).toBeGreaterThan(200);
      const files = r.manifest.files.map((f) => f.path).sort();
      expect(files).toEqual(["onair.db.gz", "onair.yaml", "profiles/news.onair"]);
      expect(existsSync(join(r.dir, "profiles", "draft.yaml"))).toBe(false);
      expect((await checkBackup(r.dir)).integrity).toBe("ok");
    }
    // retention: 2 kept, the first one removed
    expect(listBackups(join(dir, "backups"))).toEqual([results[2].dir, results[1].dir]);
    expect(results[2].pruned).toEqual([results[0].dir]);
    // rows in the copy are whole transactions of 20
    const db = new Database(storeOf(results[2].dir), { readonly: true });
    const n = db.prepare("SELECT count(*) FROM asrun WHERE kind = 'cue'").pluck().get() as number;
    db.close();
    expect(n % 20).toBe(0);
  });

  it("backs up the daemon's open store while it writes through its connection", async () => {
    const t = seedTree();
    const store = openStore(t.storePath);
    try {
      let writing = true;
      const w = (async () => {
        let i = 0;
        while (writing) {
          store.insertAsRun({ channel: "news", kind: "cue", actualMs: i++, details: { pad: "y".repeat(500) } });
          await new Promise((r) => setImmediate(r));
        }
      })();
      for (let i = 0; i < 2000; i++) store.insertAsRun({ channel: "news", kind: "item", actualMs: i, details: { pad: "z".repeat(500) } });
      const r = await createBackup({ store, destDir: join(dir, "b") });
      writing = false;
      await w;
      const copy = storeOf(r.dir);
      expect(integrityCheck(copy)).toBe("ok");
      expect(r.manifest.rows.asrun).toBeGreaterThanOrEqual(2001);
      // one self-contained file, compressed (not in WAL mode: no -wal/-shm), owner only
      expect(readdirSync(r.dir).filter((f) => f.startsWith("onair.db"))).toEqual(["onair.db.gz"]);
      expect(statSync(join(r.dir, "onair.db.gz")).mode & 0o777).toBe(0o600);
      const h = new Database(copy, { readonly: true });
      expect(h.pragma("journal_mode", { simple: true })).toBe("delete");
      h.close();
    } finally {
      store.close();
    }
  });

  it("restores a backup: store, sealed profiles and config round-trip", async () => {
    const t = seedTree();
    const r = await createBackup({
      store: t.storePath,
      destDir: join(dir, "backups"),
      profilesDir: t.profilesDir,
      configPath: t.configPath,
    });
    const target = join(dir, "restored");
    const res = await restoreBackup({
      from: join(dir, "backups"),
      storePath: join(target, "onair.db"),
      profilesDir: join(target, "profiles"),
      configPath: join(target, "onair.yaml"),
    });
    expect(res.backup).toBe(r.dir);
    const s = openStore(join(target, "onair.db"));
    expect(s.queryAsRun({ channel: "news" }).map((e) => e.details)).toEqual([{ title: "seed" }]);
    s.close();
    expect(readFileSync(join(target, "profiles", "news.onair"))).toEqual(readFileSync(join(t.profilesDir, "news.onair")));
    expect(readFileSync(join(target, "onair.yaml"), "utf8")).toBe(readFileSync(t.configPath, "utf8"));
  });

  it("refuses to replace an existing store without force, and keeps it beside with force", async () => {
    const t = seedTree();
    const r = await createBackup({ store: t.storePath, destDir: join(dir, "backups") });
    const s = openStore(t.storePath);
    s.insertAsRun({ channel: "news", kind: "item", actualMs: 99, details: { title: "after backup" } });
    s.close();
    await expect(restoreBackup({ from: r.dir, storePath: t.storePath })).rejects.toThrow(/ONAIR_RESTORE_EXISTS|exists/);
    const res = await restoreBackup({ from: r.dir, storePath: t.storePath, force: true });
    expect(res.keptStore).toMatch(/onair\.db\.before-restore-/);
    const back = openStore(t.storePath);
    expect(back.queryAsRun({ channel: "news" })).toHaveLength(1);
    back.close();
    const kept = openStore(res.keptStore!);
    expect(kept.queryAsRun({ channel: "news" })).toHaveLength(2);
    kept.close();
  });

  it("refuses a damaged backup", async () => {
    const t = seedTree();
    const r = await createBackup({ store: t.storePath, destDir: join(dir, "backups"), profilesDir: t.profilesDir });
    writeFileSync(join(r.dir, "profiles", "news.onair"), "tampered");
    await expect(restoreBackup({ from: r.dir, storePath: join(dir, "x.db") })).rejects.toThrow(/changed since the backup/);
  });
});

describe("onair backup / onair restore", () => {
  it("backs up with the CLI while a process writes, then restores with --force", async () => {
    const t = seedTree();
    await startWriter(t.storePath);
    const env = { ONAIR_CONFIG: t.configPath };
    const b1 = await runCli(["backup", "--to", join(dir, "bk"), "--keep", "1"], { env });
    expect(b1.stderr).toContain("integrity ok");
    expect(b1.code).toBe(0);
    const b2 = await runCli(["backup", "--to", join(dir, "bk"), "--keep", "1", "--json"], { env });
    expect(b2.code).toBe(0);
    await stopWriter();
    const j = JSON.parse(b2.stdout);
    expect(j.pruned).toEqual([b1.stdout.trim()]);
    expect(readdirSync(join(dir, "bk"))).toEqual([j.dir.slice(join(dir, "bk").length + 1)]);
    expect(integrityCheck(storeOf(j.dir))).toBe("ok");
    expect(j.manifest.files.map((f: { path: string }) => f.path)).toContain("profiles/news.onair");

    const refused = await runCli(["restore", join(dir, "bk")], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("ONAIR_RESTORE_EXISTS");
    rmSync(join(t.profilesDir, "news.onair"));
    const ok = await runCli(["restore", join(dir, "bk"), "--force", "--profiles"], { env });
    expect(ok.stderr).toBe("");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("restored 1 sealed profiles");
    expect(existsSync(join(t.profilesDir, "news.onair"))).toBe(true);
    expect(integrityCheck(t.storePath)).toBe("ok");
  });
});
