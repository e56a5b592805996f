/** `onair run`: the daemon, every channel of the profiles directory on air. */
import type { Command } from "commander";
import type { DaemonOptions } from "../daemon.js";
import { out } from "./io.js";

/** The daemon options that `run` and `demo` take as flags: one list, so the flags cannot drift from `DaemonOptions`. */
const DAEMON_FLAGS = [
  "config",
  "profilesDir",
  "dataDir",
  "http",
  "logDir",
  "store",
  "keyFile",
  "passphraseFile",
  "apiTokenFile",
  "allowClearProfiles",
] as const satisfies readonly (keyof DaemonOptions)[];

/** The flags of `run` (and those `demo` shares with it), as commander parses them. */
export type RunFlags = Pick<DaemonOptions, (typeof DAEMON_FLAGS)[number]>;

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

/** The daemon's options out of the flags: the daemon flags only (`demo`'s own flags stay behind). */
export function daemonOptions(f: RunFlags): DaemonOptions {
  const o: DaemonOptions = {};
  for (const k of DAEMON_FLAGS) (o as Record<string, unknown>)[k] = f[k];
  return o;
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
