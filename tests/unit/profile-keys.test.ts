import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOnairError } from "../../src/core/errors.js";
import { generateKeyFile, keyFileLooseMode, locateKey, readKeyFile, readPassphraseFile, resolveKey } from "../../src/config/keys.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-keys-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const KEY = Buffer.alloc(32, 7);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isOnairError(e)) return e.code;
    throw e;
  }
  return "NO_ERROR";
}

function file(name: string, content: string | Buffer, mode = 0o600): string {
  const p = join(dir, name);
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
}

describe("key files", () => {
  it("reads 32 raw bytes", async () => {
    const km = await readKeyFile(file("raw.key", KEY));
    expect(km.kind === "key" && Buffer.from(km.key)).toEqual(KEY);
  });

  it("reads base64 with a trailing newline, and URL-safe base64 without padding", async () => {
    const a = await readKeyFile(file("b64.key", `${KEY.toString("base64")}\n`));
    const b = await readKeyFile(file("url.key", KEY.toString("base64url")));
    expect(a.kind === "key" && Buffer.from(a.key)).toEqual(KEY);
    expect(b.kind === "key" && Buffer.from(b.key)).toEqual(KEY);
  });

  it("refuses a key of the wrong size without echoing its content", async () => {
    const p = file("short.key", "c2hvcnQtc2VjcmV0LWtleQ==\n");
    const err = await readKeyFile(p).then(
      () => new Error("no error"),
      (e: unknown) => e as Error,
    );
    expect(isOnairError(err) && err.code).toBe("ONAIR_KEY_INVALID");
    expect(err.message).not.toContain("c2hvcnQtc2VjcmV0LWtleQ");
  });

  it("reports a missing key file with its path", async () => {
    const err = await readKeyFile(join(dir, "nope.key")).then(
      () => new Error("no error"),
      (e: unknown) => e as Error,
    );
    expect(isOnairError(err) && err.code).toBe("ONAIR_KEY_READ");
    expect(err.message).toContain("nope.key");
  });

  it("strips one trailing newline from a passphrase file and refuses an empty one", async () => {
    const km = await readPassphraseFile(file("p", "two words \r\n"));
    expect(km.kind === "passphrase" && Buffer.from(km.passphrase).toString()).toBe("two words ");
    expect(await codeOf(readPassphraseFile(file("empty", "\n")))).toBe("ONAIR_PASSPHRASE_EMPTY");
  });

  it("generates a 0600 base64 key file and refuses to overwrite it", async () => {
    const p = join(dir, "new.key");
    await generateKeyFile(p);
    expect(statSync(p).mode & 0o777).toBe(0o600);
    const km = await readKeyFile(p);
    expect(km.kind === "key" && km.key.length).toBe(32);
    const before = readFileSync(p, "utf8");
    expect(await codeOf(generateKeyFile(p))).toBe("ONAIR_KEY_EXISTS");
    expect(readFileSync(p, "utf8")).toBe(before);
    await generateKeyFile(p, { overwrite: true });
    expect(readFileSync(p, "utf8")).not.toBe(before);
    expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it("flags a key file readable by group or others", async () => {
    expect(await keyFileLooseMode(file("tight.key", KEY, 0o600))).toBeUndefined();
    expect(await keyFileLooseMode(file("loose.key", KEY, 0o644))).toBe(0o644);
  });
});

describe("key source order", () => {
  it("takes the flag first, then the systemd credential, then ONAIR_KEY_FILE, then the config", async () => {
    const flagKey = file("flag.key", KEY);
    const credDir = join(dir, "creds");
    mkdirSync(credDir);
    writeFileSync(join(credDir, "onair.key"), KEY);
    const envKey = file("env.key", KEY);
    const cfgPass = file("cfg.pass", "config passphrase");
    const env = { CREDENTIALS_DIRECTORY: credDir, ONAIR_KEY_FILE: envKey };
    const config = { passphraseFile: cfgPass };

    expect((await locateKey({ keyFile: flagKey, env, config })).source).toContain("flag");
    expect((await locateKey({ env, config })).source).toBe("systemd credential onair.key");
    expect((await locateKey({ env: { ONAIR_KEY_FILE: envKey }, config })).source).toContain("ONAIR_KEY_FILE");
    const fromConfig = await resolveKey({ env: {}, config });
    expect(fromConfig.kind).toBe("passphrase");
    expect(fromConfig.source).toContain("global config");
  });

  it("uses a systemd passphrase credential when there is no key credential", async () => {
    writeFileSync(join(dir, "onair.passphrase"), "from systemd\n");
    const km = await resolveKey({ env: { CREDENTIALS_DIRECTORY: dir } });
    expect(km.kind === "passphrase" && Buffer.from(km.passphrase).toString()).toBe("from systemd");
  });

  it("prompts only as the last resort and can ask twice", async () => {
    const asked: string[] = [];
    const km = await resolveKey({
      env: {},
      prompt: (q) => {
        asked.push(q);
        return Promise.resolve("typed passphrase");
      },
      confirm: true,
    });
    expect(asked).toHaveLength(2);
    expect(km.kind).toBe("passphrase");
    let n = 0;
    const mismatch = resolveKey({ env: {}, prompt: () => Promise.resolve(`p${n++}`), confirm: true });
    expect(await codeOf(mismatch)).toBe("ONAIR_PASSPHRASE_MISMATCH");
  });

  it("refuses both a key file and a passphrase file, and says where to put a key when there is none", async () => {
    expect(await codeOf(locateKey({ keyFile: "a", passphraseFile: "b", env: {} }))).toBe("ONAIR_KEY_CONFLICT");
    const err = await locateKey({ env: {} }).then(
      () => new Error("no error"),
      (e: unknown) => e as Error,
    );
    expect(isOnairError(err) && err.code).toBe("ONAIR_KEY_MISSING");
    expect(err.message).toContain("--key-file");
  });
});
