import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ensureDataDir, resolveDataDir, resolveStorePath } from "../../src/core/paths.js";

describe("data directory resolution", () => {
  it("prefers the flag over everything", () => {
    expect(resolveDataDir({ flag: "/f", configDataDir: "/c", env: { ONAIR_DATA_DIR: "/e" } })).toBe("/f");
  });
  it("uses ONAIR_DATA_DIR before the config", () => {
    expect(resolveDataDir({ configDataDir: "/c", env: { ONAIR_DATA_DIR: "/e" } })).toBe("/e");
  });
  it("uses the config before STATE_DIRECTORY", () => {
    expect(resolveDataDir({ configDataDir: "/c", env: { STATE_DIRECTORY: "/s" } })).toBe("/c");
  });
  it("uses systemd's STATE_DIRECTORY, first entry", () => {
    expect(resolveDataDir({ env: { STATE_DIRECTORY: "/var/lib/onair:/x" } })).toBe("/var/lib/onair");
  });
  it("uses /var/lib/onair as root, XDG otherwise", () => {
    expect(resolveDataDir({ env: {}, isRoot: true })).toBe("/var/lib/onair");
    expect(resolveDataDir({ env: { XDG_DATA_HOME: "/x" }, isRoot: false })).toBe("/x/onair");
    expect(resolveDataDir({ env: { HOME: "/home/u" }, isRoot: false })).toBe("/home/u/.local/share/onair");
  });
  it("puts the store in the data directory unless --store", () => {
    expect(resolveStorePath("/tmp/a.db")).toBe("/tmp/a.db");
    expect(resolveStorePath(undefined, { flag: "/d" })).toBe("/d/onair.db");
  });
});

describe("data directory creation", () => {
  it("creates a missing data directory (and parents) 0700 whatever the umask; an existing one keeps its mode", () => {
    const root = mkdtempSync(join(tmpdir(), "onair-paths-"));
    const umask = process.umask(0);
    try {
      const fresh = join(root, "a", "data");
      expect(ensureDataDir(fresh)).toEqual({ created: true, mode: 0o700 });
      expect(statSync(join(root, "a")).mode & 0o777).toBe(0o700);
      const shared = join(root, "shared");
      mkdirSync(shared, { mode: 0o755 });
      expect(ensureDataDir(shared)).toEqual({ created: false, mode: 0o755 });
      expect(statSync(shared).mode & 0o777).toBe(0o755);
    } finally {
      process.umask(umask);
      rmSync(root, { recursive: true, force: true });
    }
  });
});
