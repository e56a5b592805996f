import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { formatError } from "../core/errors.js";
// Command groups: each file exports register(program). Add new groups here.
import { registerDemo } from "./demo.js";
import { registerSchedule } from "./schedule.js";
import { registerScte35 } from "./scte35.js";
import { registerProfile } from "./profile.js";
import { registerInject } from "./inject.js";
import { registerInspect } from "./inspect.js";
import { registerRun } from "./run.js";
import { registerStatus } from "./status.js";
import { registerCue } from "./cue.js";
import { registerBackup } from "./backup.js";
import { registerAsRun } from "./asrun.js";
import { registerAlert } from "./alert.js";
import { findUnknownCommand } from "./unknown-command.js";
// @register-imports (keep this marker: new command groups add their import above it)

function packageVersion(): string {
  // dist/src/cli/main.js and src/cli/main.ts both sit three levels below the package root
  // (dist/src/cli vs src/cli); try both.
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of [join(here, "..", ".."), join(here, "..", "..", "..")]) {
    try {
      const pkg = JSON.parse(readFileSync(join(up, "package.json"), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "onair" && pkg.version) return pkg.version;
    } catch {
      // try the next candidate
    }
  }
  return "0.0.0";
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("onair")
    .description("Playout daemon: FFmpeg to MPEG-TS with SCTE-35 cues and DVB SI/EPG, metrics and alerts")
    .version(packageVersion(), "-V, --version")
    .option("--debug", "print stack traces on errors")
    .showHelpAfterError(false)
    .exitOverride();
  registerDemo(program);
  registerSchedule(program);
  registerScte35(program);
  registerProfile(program);
  registerInject(program);
  registerInspect(program);
  registerRun(program);
  registerStatus(program);
  registerCue(program);
  registerBackup(program);
  registerAsRun(program);
  registerAlert(program);
  // @register-calls (keep this marker: new command groups add their register call above it)
  return program;
}

function commandPath(c: Command): string {
  return c.parent ? `${commandPath(c.parent)} ${c.name()}` : c.name();
}

/** Runs the CLI; returns the exit code. Errors print one line with a stable code. */
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    const unknown = findUnknownCommand(program, argv.slice(2));
    // commander's own wording and exit code (1), also when --help follows the name
    if (unknown) unknown.group.error(`error: unknown command '${unknown.name}' (see: ${commandPath(unknown.group)} --help)`, { code: "commander.unknownCommand" });
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed help/version/usage errors
      return e.exitCode;
    }
    process.stderr.write(`onair: ${formatError(e)}\n`);
    if (argv.includes("--debug") && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
