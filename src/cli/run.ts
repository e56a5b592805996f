/** `onair run`: the daemon, every channel of the profiles directory on air. */
import type { Command } from "commander";
import type { DaemonOptions } from "../daemon.js";
import { out } from "./io.js";

export interface RunFlags {
  config?: string;
  profilesDir?: string;
  dataDir?: string;
  http?: string;
  logDir?: string;
  store?: string;
  keyFile?: string;
  passphraseFile?: string;
  apiTokenFile?: string;
  allowClearProfiles?: boolean;
}

/** The daemon's options, shared by `run` and `demo`. */
export function addDaemonOptions(cmd: Command): Command {
  return cmd
    .option("--config <file>", "global config (default ONAIR_CONFIG, then /etc/onair/onair.yaml)")
    .option("--profiles-dir <dir>", "channel profiles directory")
    .option("--data-dir <dir>", "data directory (store, slate cache, audit log)")
    .option("--http <host:port>", "HTTP listen address (default 127.0.0.1:9780; port 0 picks a free one)")
    .option("--log-dir <dir>", "log directory (default: stdout only)")
    .option("--store <file>", "store file (default onair.db in the data directory)")
    .option("--key-file <file>", "key of the sealed profiles")
    .option("--passphrase-file <file>", "passphrase of the sealed profiles")
    .option("--api-token-file <file>", "bearer tokens of the control API (default ONAIR_API_TOKEN_FILE, then /etc/onair/api.token)");
}

export function daemonOptions(f: RunFlags): DaemonOptions {
  return {
    config: f.config,
    profilesDir: f.profilesDir,
    dataDir: f.dataDir,
    http: f.http,
    logDir: f.logDir,
    store: f.store,
    keyFile: f.keyFile,
    passphraseFile: f.passphraseFile,
    apiTokenFile: f.apiTokenFile,
    allowClearProfiles: f.allowClearProfiles,
  };
}

export function registerRun(program: Command): void {
  addDaemonOptions(program.command("run").description("run every channel of the profiles directory (the daemon)"))
    .option("--allow-clear-profiles", "also load clear (unsealed) YAML/JSON profiles; a warning is logged")
    .action(async (f: RunFlags) => {
      // the daemon loads when it runs: this module is loaded by every `onair` run
      const { runDaemon } = await import("../daemon.js");
      await runDaemon({ ...daemonOptions(f), onListening: (url) => out(`onair: listening on ${url}`) });
    });
}
