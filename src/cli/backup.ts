/**
 * `onair backup [--to DIR] [--keep N]` and `onair restore BACKUP`.
 *
 * backup: an online copy of the store (safe while the daemon runs, gzip-compressed), the
 * sealed profiles and the global config, into DIR/onair-STAMP/ (default DIR: backups/ in the
 * data directory), keeping the newest N (default 14), then copied to the config's
 * `backup.copyTo` directories. Prints the backup directory; a failed copy is printed (the
 * backup stays) and makes the exit status 1.
 *
 * restore: stop the daemon first (`systemctl stop onair`). Checks the backup (checksums,
 * PRAGMA integrity_check), then puts the store back (an existing store needs --force and is
 * kept beside as onair.db.before-restore-STAMP); with --profiles / --config also the sealed
 * profiles and the config. BACKUP may be a directory of backups: the newest is used; both the
 * compressed backups and the older uncompressed ones are read.
 */
import type { Command } from "commander";
import { join } from "node:path";
import { OnairError } from "../core/errors.js";
import { resolveStorePath } from "../core/paths.js";
import type { BackupResult } from "../store/backup.js";
import { out } from "./io.js";

/**
 * store/backup.ts's DEFAULT_BACKUP_KEEP, for the help text: this module is loaded by every
 * `onair` run, so the store code loads only when a command runs (tests/unit/cli-lazy.test.ts
 * checks that the two agree).
 */
export const HELP_DEFAULT_KEEP = 14;

/** The config and backup code, loaded when a command runs. */
async function backupCode(): Promise<[typeof import("../config/global.js"), typeof import("../store/backup.js")]> {
  return Promise.all([import("../config/global.js"), import("../store/backup.js")]);
}

interface CommonFlags {
  config?: string;
  dataDir?: string;
  store?: string;
  profilesDir?: string;
  json?: boolean;
}

function keepCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new OnairError("ONAIR_CLI_BAD_ARG", `--keep "${v}" is not a whole number >= 0`, { value: v });
  return n;
}

function common(cmd: Command): Command {
  return cmd
    .option("--config <file>", "global config (default ONAIR_CONFIG, then /etc/onair/onair.yaml)")
    .option("--data-dir <dir>", "data directory (default: the config's, $STATE_DIRECTORY, /var/lib/onair or ~/.local/share/onair)")
    .option("--store <file>", "store file (default onair.db in the data directory)")
    .option("--profiles-dir <dir>", "sealed profiles directory (default: the config's)")
    .option("--json", "print the result as JSON");
}

/**
 * Prints a backup's result. A failed copy (`backup.copyTo`) does not undo the backup: each
 * is printed, and the last is thrown so that the exit status is 1.
 */
function report(r: BackupResult, storePath: string, json: boolean): void {
  if (json) {
    out(
      JSON.stringify({
        dir: r.dir,
        pruned: r.pruned,
        manifest: r.manifest,
        copies: r.copies.map((c) => (c.ok ? c : { ...c, error: undefined })),
      }),
    );
  } else {
    const profiles = r.manifest.files.filter((x) => x.path.startsWith("profiles/")).length;
    const copied = r.copies.filter((c) => c.ok).length;
    out(r.dir);
    process.stderr.write(
      `onair: backup of ${storePath} (schema ${r.manifest.schemaVersion}, integrity ok), ${profiles} sealed profiles` +
        `${r.manifest.files.some((x) => x.path === "onair.yaml") ? ", the config" : ""}; ${r.pruned.length} old backups removed` +
        `${r.copies.length > 0 ? `; copied to ${copied} of ${r.copies.length} copyTo directories` : ""}\n`,
    );
  }
  const failed = r.copies.filter((c) => !c.ok);
  for (const c of failed.slice(0, -1)) process.stderr.write(`onair: ${c.code}: ${c.message}\n`);
  if (failed.length > 0) throw failed[failed.length - 1].error;
}

export function registerBackup(program: Command): void {
  common(
    program
      .command("backup")
      .description("back up the store (online, while the daemon runs), the sealed profiles and the config")
      .option("--to <dir>", "directory of the backups (default: backups/ in the data directory)")
      .option("--keep <n>", `backups kept, newest first (0 = all; default ${HELP_DEFAULT_KEEP})`, keepCount),
  )
    .addHelpText("after", "\nThe key is never in a backup: keep it (or its systemd credential) safe separately.")
    .action(async (f: CommonFlags & { to?: string; keep?: number }) => {
      const [{ resolveGlobalConfig }, { DEFAULT_BACKUP_KEEP, createBackup }] = await backupCode();
      const cfg = await resolveGlobalConfig({ flags: { config: f.config, dataDir: f.dataDir, profilesDir: f.profilesDir } });
      const storePath = resolveStorePath(f.store, { flag: cfg.dataDir });
      const r = await createBackup({
        store: storePath,
        destDir: f.to ?? join(cfg.dataDir, "backups"),
        profilesDir: cfg.profilesDir,
        configPath: cfg.configPath,
        keep: f.keep ?? DEFAULT_BACKUP_KEEP,
        copyTo: cfg.file.backup.copyTo,
      });
      report(r, storePath, f.json ?? false);
    });

  common(
    program
      .command("restore")
      .description("restore a backup made by `onair backup` (stop the daemon first)")
      .argument("<backup>", "a backup directory, or a directory of backups (the newest is used)")
      .option("--profiles", "also restore the sealed profiles into the profiles directory")
      .option("--restore-config <file>", "also restore the global config to this file")
      .option("--force", "replace an existing store (kept beside), profiles and config"),
  )
    .addHelpText("after", "\nSteps: systemctl stop onair; onair restore /var/lib/onair/backups --force [--profiles]; systemctl start onair")
    .action(async (backup: string, f: CommonFlags & { profiles?: boolean; restoreConfig?: string; force?: boolean }) => {
      const [{ resolveGlobalConfig }, { restoreBackup }] = await backupCode();
      const cfg = await resolveGlobalConfig({ flags: { config: f.config, dataDir: f.dataDir, profilesDir: f.profilesDir } });
      const r = await restoreBackup({
        from: backup,
        storePath: resolveStorePath(f.store, { flag: cfg.dataDir }),
        profilesDir: f.profiles ? cfg.profilesDir : undefined,
        configPath: f.restoreConfig,
        force: f.force ?? false,
      });
      if (f.json) {
        out(JSON.stringify(r));
        return;
      }
      out(`restored ${r.backup} to ${r.store}${r.keptStore ? ` (the old store is ${r.keptStore})` : ""}`);
      if (r.profiles.length > 0) out(`restored ${r.profiles.length} sealed profiles into ${cfg.profilesDir}`);
      if (r.config) out(`restored the config to ${r.config}`);
    });
}
