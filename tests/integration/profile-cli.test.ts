import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import YAML from "yaml";
import { repoRoot, runCli } from "../helpers/cli.js";

const demoText = readFileSync(join(repoRoot, "profiles", "demo.example.yaml"), "utf8");
const TOKEN = "987654321:AAHsecretTelegramTokenValue_abcdefghij";
const OUT_PASS = "srt-out-passphrase-do-not-leak";
const URL_PASS = "feedPa55word";
const SMALL_ARGON = ["--argon-ops", "1", "--argon-mem", String(8 * 1024 * 1024)];

/** No key source from the developer's environment may leak into these runs. */
const env = { ONAIR_KEY_FILE: "", ONAIR_PASSPHRASE_FILE: "", CREDENTIALS_DIRECTORY: "", ONAIR_CONFIG: "", EDITOR: "" };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-cli-profile-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function secretProfileText(): string {
  const p = YAML.parse(demoText);
  p.input = { kind: "http", url: `https://feeduser:${URL_PASS}@origin.example.net/live.ts` };
  p.outputs.push({ kind: "srt", mode: "caller", host: "backup.example.net", port: 9100, passphrase: OUT_PASS });
  p.alerts = { telegram: { chatIds: [-100123], botToken: TOKEN } };
  return `# comment kept through sealing\n${YAML.stringify(p)}`;
}

async function keygen(name = "onair.key"): Promise<string> {
  const key = join(dir, name);
  const r = await runCli(["profile", "keygen", "--out", key], { env });
  expect(r.code).toBe(0);
  return key;
}

async function sealed(key: string, text = secretProfileText(), name = "ch.onair"): Promise<string> {
  const clear = join(dir, `${name}.yaml`);
  writeFileSync(clear, text);
  const out = join(dir, name);
  const r = await runCli(["profile", "seal", clear, "--out", out, "--key-file", key], { env });
  expect(r.stderr).toContain("sealed to");
  expect(r.code).toBe(0);
  return out;
}

/** A node script used as $EDITOR: records the file it got, then acts by mode. */
function editorScript(mode: "fail" | "bad-yaml" | "bad-schema" | "change"): { editor: string; record: string } {
  const record = join(dir, `editor-${mode}.json`);
  const script = join(dir, `editor-${mode}.mjs`);
  writeFileSync(
    script,
    `import { readFileSync, writeFileSync, statSync } from "node:fs";
import { dirname } from "node:path";
const file = process.argv[process.argv.length - 1];
writeFileSync(${JSON.stringify(record)}, JSON.stringify({ file, args: process.argv.slice(2), mode: statSync(file).mode & 0o777, dirMode: statSync(dirname(file)).mode & 0o777 }));
const mode = ${JSON.stringify(mode)};
if (mode === "fail") process.exit(3);
if (mode === "bad-yaml") writeFileSync(file, "channel: [unclosed\\n");
if (mode === "bad-schema") writeFileSync(file, readFileSync(file, "utf8").replace("port: 5000", "port: not-a-port"));
if (mode === "change") writeFileSync(file, readFileSync(file, "utf8").replace("port: 5000", "port: 5010"));
`,
  );
  return { editor: `${process.execPath} ${script} --extra-arg`, record };
}

function recorded(record: string): { file: string; args: string[]; mode: number; dirMode: number } {
  return JSON.parse(readFileSync(record, "utf8")) as { file: string; args: string[]; mode: number; dirMode: number };
}

describe("onair profile (CLI)", () => {
  it("keygen writes a key file with mode 0600 and refuses to overwrite it", async () => {
    const key = await keygen();
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(key, "utf8").trim(), "base64")).toHaveLength(32);
    const again = await runCli(["profile", "keygen", "--out", key], { env });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("onair: ONAIR_KEY_EXISTS:");
  });

  it("seal then open gives back the clear text, comments included", async () => {
    const key = await keygen();
    const file = await sealed(key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).includes(Buffer.from(OUT_PASS))).toBe(false);
    const r = await runCli(["profile", "open", file, "--key-file", key], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(secretProfileText());
  });

  it("seals and opens with a passphrase file", async () => {
    const pass = join(dir, "pass");
    writeFileSync(pass, "a long operator passphrase\n", { mode: 0o600 });
    writeFileSync(join(dir, "c.yaml"), demoText);
    const out = join(dir, "c.onair");
    const s = await runCli(["profile", "seal", join(dir, "c.yaml"), "--out", out, "--passphrase-file", pass, ...SMALL_ARGON], { env });
    expect(s.code).toBe(0);
    const o = await runCli(["profile", "open", out, "--passphrase-file", pass], { env });
    expect(o.stdout).toBe(demoText);
  });

  it("takes the key from ONAIR_KEY_FILE and from a systemd credential directory", async () => {
    const key = await keygen();
    const file = await sealed(key);
    const viaEnv = await runCli(["profile", "open", file], { env: { ...env, ONAIR_KEY_FILE: key } });
    expect(viaEnv.code).toBe(0);
    const creds = mkdtempSync(join(dir, "creds-"));
    writeFileSync(join(creds, "onair.key"), readFileSync(key));
    const viaCred = await runCli(["profile", "open", file], { env: { ...env, CREDENTIALS_DIRECTORY: creds } });
    expect(viaCred.code).toBe(0);
    expect(viaCred.stdout).toBe(secretProfileText());
  });

  it("fails without a key and without a TTY, saying where a key can come from", async () => {
    const key = await keygen();
    const file = await sealed(key);
    const r = await runCli(["profile", "open", file], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^onair: ONAIR_KEY_MISSING: .*--key-file/);
  });

  it("open reports a tampered file as ONAIR_PROFILE_AUTH_FAILED and another key as ONAIR_PROFILE_WRONG_KEY", async () => {
    const key = await keygen();
    const other = await keygen("other.key");
    const file = await sealed(key);
    const wrong = await runCli(["profile", "open", file, "--key-file", other], { env });
    expect(wrong.stderr).toMatch(/^onair: ONAIR_PROFILE_WRONG_KEY: /);
    const b = readFileSync(file);
    b[100] ^= 0x20;
    writeFileSync(file, b);
    const r = await runCli(["profile", "open", file, "--key-file", key], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/^onair: ONAIR_PROFILE_AUTH_FAILED: ch\.onair: /);
  });

  it("seal refuses an invalid profile, naming the path", async () => {
    const key = await keygen();
    const p = YAML.parse(demoText);
    p.outputs[1].rotateSeconds = "hourly";
    writeFileSync(join(dir, "bad.yaml"), YAML.stringify(p));
    const r = await runCli(["profile", "seal", join(dir, "bad.yaml"), "--out", join(dir, "bad.onair"), "--key-file", key], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ONAIR_PROFILE_INVALID: bad.yaml: outputs[1].rotateSeconds: expected number");
    expect(existsSync(join(dir, "bad.onair"))).toBe(false);
  });

  it("validate names the path of each error, prints no secret, and exits 1 when one fails", async () => {
    const key = await keygen();
    const good = await sealed(key);
    const p = YAML.parse(secretProfileText());
    p.outputs[1] = { kind: "udp", host: "239.1.1.1", port: "5000" };
    p.outputs[2].passphrase = "short";
    writeFileSync(join(dir, "bad.yaml"), YAML.stringify(p));
    const r = await runCli(["profile", "validate", good, join(dir, "bad.yaml"), "--key-file", key, "--print"], { env });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`${good}: ok (channel demo, sealed)`);
    expect(r.stdout).toContain("outputs[1].port: expected number");
    expect(r.stdout).toContain("outputs[2].passphrase:");
    expect(r.stdout).toContain('"botToken": "***"');
    const all = r.stdout + r.stderr;
    for (const s of [TOKEN, OUT_PASS, URL_PASS, "short"]) expect(all).not.toContain(s);
    expect(r.stderr).toContain("ONAIR_VALIDATE_FAILED");
  });

  it("schema prints a JSON Schema that marks secret fields", async () => {
    const r = await runCli(["profile", "schema"], { env });
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout);
    expect(schema.$schema).toContain("json-schema.org");
    expect(r.stdout).toContain('"x-onair-secret": true');
    expect(schema.properties.channel.required).toEqual(["id", "name"]);
  });

  for (const mode of ["fail", "bad-yaml", "bad-schema"] as const) {
    it(`edit with an editor that ${mode === "fail" ? "exits non-zero" : mode === "bad-yaml" ? "writes invalid YAML" : "writes an invalid profile"} leaves the sealed file unchanged and no clear copy`, async () => {
      const key = await keygen();
      const file = await sealed(key);
      const before = readFileSync(file);
      const { editor, record } = editorScript(mode);
      const r = await runCli(["profile", "edit", file, "--key-file", key], { env: { ...env, EDITOR: editor } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        mode === "fail"
          ? /ONAIR_EDITOR_FAILED: .*status 3/
          : mode === "bad-yaml"
            ? /ONAIR_PROFILE_SYNTAX/
            : /ONAIR_PROFILE_INVALID: .*outputs\[0\]\.port/,
      );
      expect(readFileSync(file).equals(before)).toBe(true);
      const rec = recorded(record);
      expect(existsSync(rec.file)).toBe(false);
      expect(existsSync(join(rec.file, ".."))).toBe(false);
      for (const s of [TOKEN, OUT_PASS, URL_PASS]) expect(r.stderr).not.toContain(s);
    });
  }

  it("edit re-seals a valid change atomically on a private 0600 copy and removes the copy", async () => {
    const key = await keygen();
    const file = await sealed(key);
    const { editor, record } = editorScript("change");
    const r = await runCli(["profile", "edit", file, "--key-file", key], { env: { ...env, EDITOR: editor } });
    expect(r.stderr).toContain("re-sealed");
    expect(r.code).toBe(0);
    const rec = recorded(record);
    expect(rec.args).toEqual(["--extra-arg", rec.file]);
    expect(rec.mode).toBe(0o600);
    expect(rec.dirMode).toBe(0o700);
    if (existsSync("/dev/shm")) expect(rec.file.startsWith("/dev/shm/")).toBe(true);
    expect(existsSync(rec.file)).toBe(false);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const opened = await runCli(["profile", "open", file, "--key-file", key], { env });
    expect(opened.stdout).toBe(secretProfileText().replace("port: 5000", "port: 5010"));
  });

  it("edit keeps the Argon2id parameters of a passphrase-sealed file", async () => {
    const pass = join(dir, "pass");
    writeFileSync(pass, "edit passphrase here\n");
    chmodSync(pass, 0o600);
    writeFileSync(join(dir, "p.yaml"), demoText);
    const file = join(dir, "p.onair");
    await runCli(["profile", "seal", join(dir, "p.yaml"), "--out", file, "--passphrase-file", pass, ...SMALL_ARGON], { env });
    const header = (b: Buffer) => ({ ops: b.readUInt32BE(20), mem: b.readUInt32BE(24) });
    const before = header(readFileSync(file));
    const { editor } = editorScript("change");
    const r = await runCli(["profile", "edit", file, "--passphrase-file", pass], { env: { ...env, EDITOR: editor } });
    expect(r.code).toBe(0);
    expect(header(readFileSync(file))).toEqual(before);
    expect(before).toEqual({ ops: 1, mem: 8 * 1024 * 1024 });
  });

  it("rekey re-seals with the new key; the old key no longer opens it", async () => {
    const oldKey = await keygen("old.key");
    const newKey = await keygen("new.key");
    const file = await sealed(oldKey);
    const r = await runCli(["profile", "rekey", file, "--key-file", oldKey, "--new-key-file", newKey], { env });
    expect(r.code).toBe(0);
    expect((await runCli(["profile", "open", file, "--key-file", newKey], { env })).stdout).toBe(secretProfileText());
    expect((await runCli(["profile", "open", file, "--key-file", oldKey], { env })).stderr).toContain("ONAIR_PROFILE_WRONG_KEY");
  });

  it("rekey moves a file from a key to a passphrase", async () => {
    const key = await keygen();
    const pass = join(dir, "pass");
    writeFileSync(pass, "new passphrase for rekey\n");
    const file = await sealed(key);
    const r = await runCli(["profile", "rekey", file, "--key-file", key, "--new-passphrase-file", pass, ...SMALL_ARGON], { env });
    expect(r.code).toBe(0);
    expect((await runCli(["profile", "open", file, "--passphrase-file", pass], { env })).stdout).toBe(secretProfileText());
  });
});
