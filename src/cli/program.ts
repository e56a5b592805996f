/**
 * The `onair` program: every command, its options and help. Each command group's module
 * only declares its commands; what a command needs to run (the store, libsodium, the daemon,
 * zod, pino, …) is imported by its action when it runs, so that `onair status` or
 * `onair --help` load no more than commander and these declarations.
 */
import { Command } from "commander";
import { packageVersion } from "./version.js";
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
// @register-imports (keep this marker: new command groups add their import above it)

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

export function commandPath(c: Command): string {
  return c.parent ? `${commandPath(c.parent)} ${c.name()}` : c.name();
}
