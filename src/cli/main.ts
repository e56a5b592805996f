/**
 * The CLI's entry (bin/onair.js runs it): `onair --version` is answered here, before
 * commander and the command declarations load; everything else goes to the program
 * (program.ts), whose commands load what they need when they run.
 */
import { formatError } from "../core/errors.js";
import { packageVersion } from "./version.js";

/** Runs the CLI; returns the exit code. Errors print one line with a stable code. */
export async function run(argv: string[]): Promise<number> {
  const args = argv.slice(2);
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    // what commander prints for its version option, with its exit code
    process.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const [{ CommanderError }, { buildProgram, commandPath }, { findUnknownCommand }] = await Promise.all([
    import("commander"),
    import("./program.js"),
    import("./unknown-command.js"),
  ]);
  const program = buildProgram();
  try {
    const unknown = findUnknownCommand(program, args);
    // commander's own wording and exit code (1), also when --help follows the name
    if (unknown) {
      unknown.group.error(`error: unknown command '${unknown.name}' (see: ${commandPath(unknown.group)} --help)`, {
        code: "commander.unknownCommand",
      });
    }
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
