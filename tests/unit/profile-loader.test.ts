import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import YAML from "yaml";
import { loadProfileFile, ProfileDirectory } from "../../src/config/loader.js";
import { readKeyFile } from "../../src/config/keys.js";
import { getSodium, seal, type KeyMaterial } from "../../src/config/sealed.js";
import { createLogger } from "../../src/observe/logger.js";

const root = join(import.meta.dirname, "..", "..");
const demoText = readFileSync(join(root, "profiles", "demo.example.yaml"), "utf8");
const TOKEN = "987654321:AAHsecretTelegramTokenValue_abcdefghij";
const OUT_PASS = "srt-out-passphrase-do-not-leak";
const URL_USER = "feeduser";
const URL_PASS = "feedPa55word";

let dir: string;
let profilesDir: string;
let keyPath: string;
let key: KeyMaterial;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), "onair-loader-"));
  profilesDir = join(dir, "profiles");
  mkdirSync(profilesDir, { mode: 0o700 });
  chmodSync(profilesDir, 0o700);
  keyPath = join(dir, "onair.key");
  const s = await getSodium();
  writeFileSync(keyPath, Buffer.from(s.randombytes_buf(32)).toString("base64"), { mode: 0o600 });
  key = await readKeyFile(keyPath);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Profile text for a channel id; with secrets when asked. */
function profileText(id: string, opts: { port?: number; secrets?: boolean } = {}): string {
  const p = YAML.parse(demoText);
  p.channel.id = id;
  p.channel.name = `Channel ${id}`;
  p.outputs[0].port = opts.port ?? 5000;
  if (opts.secrets) {
    p.input = { kind: "http", url: `https://${URL_USER}:${URL_PASS}@origin.example.net/live.ts` };
    p.outputs.push({ kind: "srt", mode: "caller", host: "backup.example.net", port: 9100, passphrase: OUT_PASS });
    p.alerts = { telegram: { chatIds: [-100123], botToken: TOKEN } };
  }
  return YAML.stringify(p);
}

async function writeSealed(name: string, text: string, km: KeyMaterial = key): Promise<string> {
  const p = join(profilesDir, name);
  writeFileSync(p, await seal(new TextEncoder().encode(text), km), { mode: 0o600 });
  return p;
}

function tamper(path: string, at = -5): void {
  const b = readFileSync(path);
  b[at < 0 ? b.length + at : at] ^= 0x01;
  writeFileSync(path, b);
}

function captureLogger() {
  const lines: string[] = [];
  const logger = createLogger({ destination: { write: (l: string) => lines.push(l.trimEnd()) }, level: "trace" });
  return { logger, lines, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("loadProfileFile", () => {
  it("opens a sealed profile with its key", async () => {
    const path = await writeSealed("a.onair", profileText("alpha"));
    const l = await loadProfileFile(path, { key });
    expect(l).toMatchObject({ file: "a.onair", sealed: true, profile: { channel: { id: "alpha" } } });
    expect(l.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it("refuses a clear profile unless clear profiles are allowed", async () => {
    const path = join(profilesDir, "c.yaml");
    writeFileSync(path, profileText("clear"));
    await expect(loadProfileFile(path)).rejects.toMatchObject({ code: "ONAIR_PROFILE_CLEAR_REFUSED" });
    await expect(loadProfileFile(path, { allowClear: true })).resolves.toMatchObject({ sealed: false });
  });
});

describe("ProfileDirectory", () => {
  it("runs the good channel and refuses the tampered one with its file name and code", async () => {
    await writeSealed("good.onair", profileText("good"));
    tamper(await writeSealed("bad.onair", profileText("bad", { port: 5001 })));
    const log = captureLogger();
    const snap = await new ProfileDirectory({ dir: profilesDir, key, logger: log.logger }).load();
    expect(snap.channels.map((c) => c.profile.channel.id)).toEqual(["good"]);
    expect(snap.refused).toEqual([
      expect.objectContaining({ file: "bad.onair", code: "ONAIR_PROFILE_AUTH_FAILED", path: join(profilesDir, "bad.onair") }),
    ]);
    expect(log.json()).toContainEqual(
      expect.objectContaining({ event: "profile.refused", file: "bad.onair", code: "ONAIR_PROFILE_AUTH_FAILED" }),
    );
    expect(log.json()).toContainEqual(expect.objectContaining({ event: "profile.loaded", channel: "good" }));
  });

  it("refuses a profile sealed with another key, a schema error and a truncated file, each with its own code", async () => {
    const s = await getSodium();
    await writeSealed("good.onair", profileText("good"));
    await writeSealed("other-key.onair", profileText("other"), { kind: "key", key: s.randombytes_buf(32), source: "x" });
    const broken = YAML.parse(profileText("schema"));
    broken.outputs[1].keep = "many";
    await writeSealed("schema.onair", YAML.stringify(broken));
    const cut = await writeSealed("cut.onair", profileText("cut"));
    writeFileSync(cut, readFileSync(cut).subarray(0, 40));
    writeFileSync(join(profilesDir, "empty.onair"), "");
    writeFileSync(join(profilesDir, "README.md"), "not a profile");
    const snap = await new ProfileDirectory({ dir: profilesDir, key }).load();
    expect(snap.channels.map((c) => c.profile.channel.id)).toEqual(["good"]);
    expect(Object.fromEntries(snap.refused.map((r) => [r.file, r.code]))).toEqual({
      "cut.onair": "ONAIR_PROFILE_TRUNCATED",
      "empty.onair": "ONAIR_PROFILE_EMPTY",
      "other-key.onair": "ONAIR_PROFILE_WRONG_KEY",
      "schema.onair": "ONAIR_PROFILE_INVALID",
    });
    expect(snap.refused.find((r) => r.file === "schema.onair")?.message).toContain("outputs[1].keep: expected number");
  });

  it("refuses clear files unless allowed, and warns when it loads one", async () => {
    writeFileSync(join(profilesDir, "demo.yaml"), profileText("demo"));
    const refused = await new ProfileDirectory({ dir: profilesDir, key }).load();
    expect(refused.refused).toEqual([expect.objectContaining({ file: "demo.yaml", code: "ONAIR_PROFILE_CLEAR_REFUSED" })]);
    const log = captureLogger();
    const allowed = await new ProfileDirectory({ dir: profilesDir, allowClear: true, logger: log.logger }).load();
    expect(allowed.channels.map((c) => c.profile.channel.id)).toEqual(["demo"]);
    expect(log.json()).toContainEqual(expect.objectContaining({ level: "warn", event: "profile.clear", file: "demo.yaml" }));
  });

  it("refuses every sealed file with ONAIR_KEY_MISSING when there is no key, and still loads clear ones", async () => {
    await writeSealed("s.onair", profileText("sealed"));
    writeFileSync(join(profilesDir, "c.yaml"), profileText("clear"));
    const snap = await new ProfileDirectory({ dir: profilesDir, allowClear: true }).load();
    expect(snap.channels.map((c) => c.profile.channel.id)).toEqual(["clear"]);
    expect(snap.refused).toEqual([expect.objectContaining({ file: "s.onair", code: "ONAIR_KEY_MISSING" })]);
  });

  it("refuses a second file defining the same channel id", async () => {
    await writeSealed("a.onair", profileText("same"));
    await writeSealed("b.onair", profileText("same", { port: 6000 }));
    const snap = await new ProfileDirectory({ dir: profilesDir, key }).load();
    expect(snap.channels.map((c) => c.file)).toEqual(["a.onair"]);
    expect(snap.refused).toEqual([expect.objectContaining({ file: "b.onair", code: "ONAIR_PROFILE_DUPLICATE_CHANNEL" })]);
  });

  it("reload reports added, changed, removed and unchanged channels by content", async () => {
    await writeSealed("keep.onair", profileText("keep"));
    await writeSealed("change.onair", profileText("change"));
    await writeSealed("remove.onair", profileText("remove"));
    const pd = new ProfileDirectory({ dir: profilesDir, key });
    await pd.load();
    // same content re-sealed (new nonce, new bytes) counts as unchanged
    await writeSealed("keep.onair", profileText("keep"));
    await writeSealed("change.onair", profileText("change", { port: 5002 }));
    unlinkSync(join(profilesDir, "remove.onair"));
    await writeSealed("new.onair", profileText("new"));
    const diff = await pd.reload();
    const ids = (l: { profile: { channel: { id: string } } }[]) => l.map((x) => x.profile.channel.id).sort();
    expect(ids(diff.added)).toEqual(["new"]);
    expect(ids(diff.changed)).toEqual(["change"]);
    expect(ids(diff.removed)).toEqual(["remove"]);
    expect(ids(diff.unchanged)).toEqual(["keep"]);
    expect([...pd.channels.keys()].sort()).toEqual(["change", "keep", "new"]);
  });

  it("keeps the running version of a channel whose new file is refused", async () => {
    const path = await writeSealed("ch.onair", profileText("ch"));
    const pd = new ProfileDirectory({ dir: profilesDir, key });
    await pd.load();
    await writeSealed("ch.onair", profileText("ch", { port: 5003 }));
    tamper(path);
    const diff = await pd.reload();
    expect(diff.removed).toEqual([]);
    expect(diff.unchanged.map((l) => l.profile.outputs[0])).toEqual([expect.objectContaining({ port: 5000 })]);
    expect(diff.refused).toEqual([expect.objectContaining({ file: "ch.onair", code: "ONAIR_PROFILE_AUTH_FAILED" })]);
  });

  it("does not read the key again on reload when no sealed file changed", async () => {
    await writeSealed("a.onair", profileText("a"));
    let reads = 0;
    const pd = new ProfileDirectory({
      dir: profilesDir,
      key: async () => {
        reads++;
        return readKeyFile(keyPath);
      },
    });
    await pd.load();
    const diff = await pd.reload();
    expect(reads).toBe(1);
    expect(diff.unchanged).toHaveLength(1);
  });

  it("warns when the profiles directory or the key file can be read by others", async () => {
    await writeSealed("a.onair", profileText("a"));
    const quiet = captureLogger();
    await new ProfileDirectory({ dir: profilesDir, key, keyPath, logger: quiet.logger }).load();
    expect(quiet.json().filter((l) => l.level === "warn")).toEqual([]);
    chmodSync(profilesDir, 0o755);
    chmodSync(keyPath, 0o644);
    const loud = captureLogger();
    await new ProfileDirectory({ dir: profilesDir, key, keyPath, logger: loud.logger }).load();
    const events = loud
      .json()
      .filter((l) => l.level === "warn")
      .map((l) => l.event);
    expect(events.sort()).toEqual(["key.file_open", "profiles.dir_open"]);
  });

  it("logs no secret during a full load, reload and refusal, even when code logs the profile and its URL", async () => {
    await writeSealed("secret.onair", profileText("secret", { secrets: true }));
    tamper(await writeSealed("tampered.onair", profileText("tampered", { secrets: true })));
    writeFileSync(join(profilesDir, "clear.yaml"), profileText("clear", { secrets: true }).replace(/secret/g, "clear"));
    const log = captureLogger();
    const pd = new ProfileDirectory({ dir: profilesDir, key, keyPath, allowClear: true, logger: log.logger, secrets: log.logger.secrets });
    const snap = await pd.load();
    await pd.reload();
    expect(snap.channels.map((c) => c.profile.channel.id).sort()).toEqual(["clear", "secret"]);
    // careless code downstream: the whole profile, the input URL and an error quoting it
    for (const c of snap.channels) {
      const p = c.profile;
      const url = p.input.kind === "http" ? p.input.url : "";
      log.logger.child({ channel: p.channel.id }).debug({ event: "debug.profile", profile: p }, `opening ${url}`);
      log.logger.error({ err: new Error(`connect ${url} failed`), event: "input.error" }, "input failed");
      log.logger.info({ event: "x", args: ["-passphrase", OUT_PASS] }, "argv");
    }
    const text = log.lines.join("\n");
    expect(log.lines.length).toBeGreaterThan(5);
    expect(text).toContain("profile.loaded");
    for (const s of [TOKEN, OUT_PASS, URL_PASS, `${URL_USER}:`, "feedPa55", "AAHsecretTelegram", "AAHclearTelegram"]) {
      expect(text).not.toContain(s);
    }
  });
});
