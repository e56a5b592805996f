import { mkdirSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface DataDirSources {
  /** --data-dir */
  flag?: string | undefined;
  /** the global config's dataDir */
  configDataDir?: string | undefined;
  env?: NodeJS.ProcessEnv;
  isRoot?: boolean;
}

/**
 * The data directory, as design.md says: --data-dir, else ONAIR_DATA_DIR, else the global
 * config's dataDir, else $STATE_DIRECTORY (systemd StateDirectory=onair), else /var/lib/onair
 * as root, else $XDG_DATA_HOME/onair (~/.local/share/onair).
 */
export function resolveDataDir(src: DataDirSources = {}): string {
  const env = src.env ?? process.env;
  if (src.flag) return src.flag;
  if (env.ONAIR_DATA_DIR) return env.ONAIR_DATA_DIR;
  if (src.configDataDir) return src.configDataDir;
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(":")[0];
  const isRoot = src.isRoot ?? (typeof process.getuid === "function" && process.getuid() === 0);
  if (isRoot) return "/var/lib/onair";
  const xdg = env.XDG_DATA_HOME || join(env.HOME || homedir(), ".local", "share");
  return join(xdg, "onair");
}

/** The store file: --store FILE, else onair.db in the data directory. */
export function resolveStorePath(storeFlag: string | undefined, src: DataDirSources = {}): string {
  return storeFlag ?? join(resolveDataDir(src), "onair.db");
}

/** Mode of a data directory onair creates (and of the directories it makes inside it). */
export const DATA_DIR_MODE = 0o700;

/**
 * Creates the data directory (and missing parents) mode 0700 when it does not exist; an
 * existing one keeps its mode (under systemd StateDirectoryMode= owns it, elsewhere the
 * admin may share it): the caller warns when others can enter it. Returns its mode.
 */
export function ensureDataDir(dir: string): { created: boolean; mode: number } {
  const created = mkdirSync(dir, { recursive: true, mode: DATA_DIR_MODE }) !== undefined;
  return { created, mode: statSync(dir).mode & 0o777 };
}
