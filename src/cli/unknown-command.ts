import type { Command } from "commander";

/**
 * Commander prints a group's help and exits 0 for `onair no-such-command --help` (it
 * answers --help before it looks at the command name), so a script would take a misspelt
 * command for success. This check runs before commander: the first word that names no
 * command of its group (`onair X`, `onair schedule X`, `onair help X`) is an unknown
 * command, whatever follows it.
 *
 * Contract: a command with subcommands is a pure group (no action of its own, no option
 * taking a value), so every word after its options names a subcommand or `help`.
 */
export interface UnknownCommand {
  /** the group the word was looked up in (`onair`, `onair schedule`) */
  group: Command;
  name: string;
}

/** The first unknown command word in `args` (the user's words, without node and script). */
export function findUnknownCommand(program: Command, args: readonly string[]): UnknownCommand | undefined {
  let group = program;
  let afterHelp = false;
  for (const word of args) {
    if (word === "--") return undefined;
    if (word.startsWith("-")) continue; // a group's options take no value
    if (group.commands.length === 0) return undefined; // a leaf: its operands are its own
    const sub = group.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (sub) {
      if (afterHelp) return undefined; // `help X` for a known X prints X's help
      group = sub;
      continue;
    }
    if (word === "help" && !afterHelp) {
      afterHelp = true;
      continue;
    }
    return { group, name: word };
  }
  return undefined;
}
