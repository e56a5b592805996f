/**
 * `onair profile …`: schema, keygen, seal, open, edit, validate, rekey.
 *
 * This module only declares the commands (it is loaded by every `onair` run); the actions,
 * libsodium and the profile schema load from profile-actions.ts when one runs.
 */
import { Option, type Command } from "commander";
import type { KeyFlags } from "./profile-actions.js";

const actions = () => import("./profile-actions.js");

function keyOptions(cmd: Command, withArgon = false): Command {
  cmd
    .option("--key-file <file>", "raw 32-byte key (or its base64), e.g. from `onair profile keygen`")
    .option("--passphrase-file <file>", "file holding a passphrase (Argon2id)")
    .option("--config <file>", "global config (for its keySource)");
  if (withArgon) {
    cmd.addOption(new Option("--argon-ops <n>", "Argon2id opslimit").hideHelp());
    cmd.addOption(new Option("--argon-mem <bytes>", "Argon2id memlimit in bytes").hideHelp());
  }
  return cmd;
}

export function registerProfile(program: Command): void {
  const profile = program.command("profile").description("channel profiles: schema, keys, sealing, editing, validation");

  profile
    .command("schema")
    .description("print the profile JSON Schema")
    .action(async () => (await actions()).schemaAction());

  profile
    .command("keygen")
    .description("write a new random 32-byte key (base64) to FILE with mode 0600")
    .requiredOption("--out <file>", "key file to create")
    .option("--force", "overwrite an existing file")
    .action(async (o: { out: string; force?: boolean }) => (await actions()).keygenAction(o));

  keyOptions(
    profile
      .command("seal")
      .description("validate a clear profile (YAML/JSON, - for stdin) and write it sealed")
      .argument("<in>", "clear profile")
      .requiredOption("--out <file>", "sealed output (*.onair)"),
    true,
  ).action(async (input: string, o: KeyFlags & { out: string }) => (await actions()).sealAction(input, o));

  keyOptions(profile.command("open").description("decrypt a sealed profile to stdout").argument("<file>", "sealed profile")).action(
    async (file: string, o: KeyFlags) => (await actions()).openAction(file, o),
  );

  keyOptions(
    profile
      .command("edit")
      .description("edit a sealed profile in $EDITOR (clear copy on tmpfs, 0600), validate, re-seal atomically")
      .argument("<file>", "sealed profile"),
    true,
  ).action(async (file: string, o: KeyFlags) => (await actions()).editCommand(file, o));

  keyOptions(
    profile
      .command("validate")
      .description("validate profiles (sealed or clear); prints no secret")
      .argument("<files...>", "profiles")
      .option("--print", "print each valid profile, defaults filled and secrets masked"),
  ).action(async (files: string[], o: KeyFlags & { print?: boolean }) => (await actions()).validateCommand(files, o));

  keyOptions(
    profile
      .command("rekey")
      .description("re-seal profiles with a new key or passphrase")
      .argument("<files...>", "sealed profiles")
      .option("--new-key-file <file>", "new raw key")
      .option("--new-passphrase-file <file>", "new passphrase"),
    true,
  ).action(async (files: string[], o: KeyFlags & { newKeyFile?: string; newPassphraseFile?: string }) =>
    (await actions()).rekeyCommand(files, o),
  );
}
