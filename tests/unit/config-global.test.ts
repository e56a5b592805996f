import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isOnairError } from "../../src/core/errors.js";
import { checkHttpExposure, isLoopbackHost, parseGlobalConfig, readSecretRef, resolveGlobalConfig } from "../../src/config/global.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-config-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function cfg(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

const noDefault = () => join(dir, "absent.yaml");

describe("global config", () => {
  it("uses built-in defaults when no config file exists", async () => {
    const r = await resolveGlobalConfig({ env: { HOME: "/home/op" }, isRoot: false, defaultConfigPath: noDefault() });
    expect(r.configPath).toBeNull();
    expect(r.http).toEqual({ host: "127.0.0.1", port: 9780, listen: "127.0.0.1:9780", maxConnections: 256 });
    expect(r.profilesDir).toBe("/home/op/.config/onair/profiles");
    expect(r.dataDir).toBe("/home/op/.local/share/onair");
    expect(r.logDir).toBeUndefined();
    expect(r.logRotation).toEqual({ size: "10m", files: 5 });
    expect(r.keySource).toBeUndefined();
  });

  it("uses /etc-style defaults as root and systemd's directories when set", async () => {
    const r = await resolveGlobalConfig({
      env: { STATE_DIRECTORY: "/var/lib/onair", LOGS_DIRECTORY: "/var/log/onair" },
      isRoot: true,
      defaultConfigPath: noDefault(),
    });
    expect(r.profilesDir).toBe("/etc/onair/profiles");
    expect(r.dataDir).toBe("/var/lib/onair");
    expect(r.logDir).toBe("/var/log/onair");
  });

  it("reads the default path when it exists", async () => {
    const p = cfg("onair.yaml", "profilesDir: /srv/profiles\n");
    const r = await resolveGlobalConfig({ env: {}, isRoot: true, defaultConfigPath: p });
    expect(r.configPath).toBe(p);
    expect(r.profilesDir).toBe("/srv/profiles");
  });

  it("prefers --config over ONAIR_CONFIG over the default path", async () => {
    const flag = cfg("flag.yaml", "profilesDir: /from/flag\n");
    const env = cfg("env.yaml", "profilesDir: /from/env\n");
    const def = cfg("def.yaml", "profilesDir: /from/default\n");
    const base = { isRoot: true, defaultConfigPath: def };
    expect((await resolveGlobalConfig({ ...base, flags: { config: flag }, env: { ONAIR_CONFIG: env } })).profilesDir).toBe("/from/flag");
    expect((await resolveGlobalConfig({ ...base, env: { ONAIR_CONFIG: env } })).profilesDir).toBe("/from/env");
    expect((await resolveGlobalConfig({ ...base, env: {} })).profilesDir).toBe("/from/default");
  });

  it("lets ONAIR_* variables override the file and flags override the variables", async () => {
    const p = cfg(
      "onair.yaml",
      [
        "profilesDir: /cfg/profiles",
        "dataDir: /cfg/data",
        "http: { listen: 0.0.0.0:9000 }",
        "log: { dir: /cfg/log, level: debug, rotation: { size: 50m, files: 3 } }",
        "telegram: { botToken: file:/etc/onair/telegram.token }",
        "keySource: { keyFile: /etc/onair/onair.key }",
      ].join("\n"),
    );
    const env = { ONAIR_PROFILES_DIR: "/env/profiles", ONAIR_DATA_DIR: "/env/data", ONAIR_HTTP: "127.0.0.1:1", ONAIR_LOG_DIR: "/env/log" };
    const fromFile = await resolveGlobalConfig({ flags: { config: p }, env: {}, isRoot: true });
    expect(fromFile).toMatchObject({
      profilesDir: "/cfg/profiles",
      dataDir: "/cfg/data",
      http: { host: "0.0.0.0", port: 9000 },
      logDir: "/cfg/log",
      logLevel: "debug",
      logRotation: { size: "50m", files: 3 },
      telegram: { botToken: "file:/etc/onair/telegram.token" },
      keySource: { keyFile: "/etc/onair/onair.key" },
    });
    const fromEnv = await resolveGlobalConfig({ flags: { config: p }, env, isRoot: true });
    expect(fromEnv).toMatchObject({ profilesDir: "/env/profiles", dataDir: "/env/data", http: { port: 1 }, logDir: "/env/log" });
    const fromFlags = await resolveGlobalConfig({
      flags: { config: p, profilesDir: "/f/p", dataDir: "/f/d", http: "[::1]:0", logDir: "/f/l" },
      env,
      isRoot: true,
    });
    expect(fromFlags).toMatchObject({ profilesDir: "/f/p", dataDir: "/f/d", http: { host: "::1", port: 0 }, logDir: "/f/l" });
  });

  it("refuses a literal bot token: only file:, env: or credential: references", () => {
    let err: unknown;
    try {
      parseGlobalConfig("telegram:\n  botToken: 123456:AAsecretliteraltokenvalue1234567890\n", "onair.yaml");
    } catch (e) {
      err = e;
    }
    expect(isOnairError(err) && err.code).toBe("ONAIR_CONFIG_INVALID");
    expect((err as Error).message).toContain("telegram.botToken");
    expect((err as Error).message).not.toContain("AAsecretliteral");
  });

  it("reads http.maxConnections, the HTTP connection cap (default 256)", async () => {
    const p = cfg("cap.yaml", "http: { maxConnections: 64 }\n");
    const r = await resolveGlobalConfig({ flags: { config: p }, env: {}, isRoot: true });
    expect(r.http).toEqual({ host: "127.0.0.1", port: 9780, listen: "127.0.0.1:9780", maxConnections: 64 });
  });

  it("reads retention.asRunDays and retention.itemDays (defaults 400 and 30), items kept at least 2 days", () => {
    expect(parseGlobalConfig("")).toMatchObject({ retention: { asRunDays: 400, itemDays: 30 } });
    expect(parseGlobalConfig("retention: { asRunDays: 90 }\n")).toMatchObject({ retention: { asRunDays: 90, itemDays: 30 } });
    expect(() => parseGlobalConfig("retention: { itemDays: 1 }\n")).toThrow(/retention\.itemDays/);
    expect(() => parseGlobalConfig("retention: { asRunDays: 0 }\n")).toThrow(/retention\.asRunDays/);
  });

  it("reads store.writeRetryMs and backup.catchUpDelayMs (defaults 2 s and 5 min), in range", () => {
    expect(parseGlobalConfig("")).toMatchObject({ store: { writeRetryMs: 2000 }, backup: { catchUpDelayMs: 300_000 } });
    expect(parseGlobalConfig("store: { writeRetryMs: 500 }\nbackup: { catchUpDelayMs: 0 }\n")).toMatchObject({
      store: { writeRetryMs: 500 },
      backup: { catchUpDelayMs: 0 },
    });
    expect(() => parseGlobalConfig("store: { writeRetryMs: 0 }\n")).toThrow(/store\.writeRetryMs/);
    expect(() => parseGlobalConfig("backup: { catchUpDelayMs: -1 }\n")).toThrow(/backup\.catchUpDelayMs/);
    expect(() => parseGlobalConfig("backup: { catchUpDelay: 5 }\n")).toThrow(/catchUpDelay/);
  });

  it("reads backup.copyTo: absolute directories with their own retention (default 14) and mount flag (default false)", () => {
    expect(parseGlobalConfig("").backup.copyTo).toEqual([]);
    expect(parseGlobalConfig("backup: { catchUpDelayMs: 0 }\n").backup.copyTo).toEqual([]);
    expect(
      parseGlobalConfig("backup:\n  copyTo:\n    - { dir: /mnt/nas/onair, keep: 30, mount: true }\n    - dir: /srv/copies\n").backup.copyTo,
    ).toEqual([
      { dir: "/mnt/nas/onair", keep: 30, mount: true },
      { dir: "/srv/copies", keep: 14, mount: false },
    ]);
    expect(() => parseGlobalConfig("backup: { copyTo: [{ dir: nas/onair }] }\n")).toThrow(
      "backup.copyTo[0].dir: expected an absolute path",
    );
    expect(() => parseGlobalConfig("backup: { copyTo: [{ dir: /mnt/nas, keep: -1 }] }\n")).toThrow("backup.copyTo[0].keep");
    expect(() => parseGlobalConfig("backup: { copyTo: [{ dir: /mnt/nas, mounted: true }] }\n")).toThrow(/mounted/);
  });

  it("names the path of an invalid field and refuses relative paths and unknown keys", () => {
    expect(() => parseGlobalConfig("http: { listen: nowhere }\n")).toThrow(/http\.listen: expected HOST:PORT/);
    expect(() => parseGlobalConfig("http: { maxConnections: 0 }\n")).toThrow(/http\.maxConnections/);
    expect(() => parseGlobalConfig("http: { maxConnections: 2.5 }\n")).toThrow(/http\.maxConnections/);
    expect(() => parseGlobalConfig("profilesDir: relative/dir\n")).toThrow(/profilesDir: expected an absolute path/);
    expect(() => parseGlobalConfig("profileDir: /x\n")).toThrow(/profileDir/);
  });

  it("reports an unreadable --config with its path", async () => {
    await expect(resolveGlobalConfig({ flags: { config: join(dir, "missing.yaml") }, env: {} })).rejects.toMatchObject({
      code: "ONAIR_CONFIG_READ",
    });
  });
});

describe("secret references", () => {
  it("reads file:, env: and credential: references", async () => {
    const f = cfg("token", "tok-from-file\n");
    cfg("telegram.token", "tok-from-credential\n");
    expect(await readSecretRef(`file:${f}`, {})).toBe("tok-from-file");
    expect(await readSecretRef("env:BOT", { BOT: "tok-from-env" })).toBe("tok-from-env");
    expect(await readSecretRef("credential:telegram.token", { CREDENTIALS_DIRECTORY: dir })).toBe("tok-from-credential");
  });

  it("fails with the reference, not a value, when it cannot be read", async () => {
    await expect(readSecretRef("env:NOPE", {})).rejects.toMatchObject({
      code: "ONAIR_SECRET_REF",
      message: expect.stringContaining("env:NOPE"),
    });
    await expect(readSecretRef("credential:x", {})).rejects.toMatchObject({ code: "ONAIR_SECRET_REF" });
  });
});

describe("HTTP exposure", () => {
  it("tells loopback addresses from the rest", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1"])
      expect([h, isLoopbackHost(h)]).toEqual([h, true]);
    for (const h of ["0.0.0.0", "::", "[::]", "192.168.1.10", "10.0.0.1", "::ffff:10.0.0.1", "fe80::1", "onair.example", "128.0.0.1"])
      expect([h, isLoopbackHost(h)]).toEqual([h, false]);
  });

  it("refuses a non-loopback address with ONAIR_HTTP_PUBLIC_REFUSED unless http.allowPublic is true", async () => {
    const base = { env: { HOME: "/home/op" }, isRoot: false };
    const loop = await resolveGlobalConfig({ ...base, defaultConfigPath: noDefault() });
    expect(checkHttpExposure(loop)).toBe(false);
    const flag = await resolveGlobalConfig({ ...base, flags: { http: "0.0.0.0:9780" }, defaultConfigPath: noDefault() });
    let code: string | undefined;
    try {
      checkHttpExposure(flag);
    } catch (e) {
      code = isOnairError(e) ? e.code : String(e);
    }
    expect(code).toBe("ONAIR_HTTP_PUBLIC_REFUSED");
    const fromConfig = await resolveGlobalConfig({ ...base, flags: { config: cfg("c.yaml", 'http:\n  listen: "[::]:9780"\n') } });
    expect(() => checkHttpExposure(fromConfig)).toThrow(/http\.allowPublic/);
    const allowed = await resolveGlobalConfig({
      ...base,
      flags: { config: cfg("a.yaml", "http:\n  listen: 0.0.0.0:9780\n  allowPublic: true\n") },
    });
    expect(checkHttpExposure(allowed)).toBe(true);
    expect(() => parseGlobalConfig("http:\n  allowPublic: yes please\n")).toThrow(/allowPublic/);
  });
});
