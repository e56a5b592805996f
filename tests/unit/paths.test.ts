import { describe, expect, it } from "vitest";
import { resolveDataDir, resolveStorePath } from "../../src/core/paths.js";

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
