/**
 * `onair run` as a real process, without channels (no FFmpeg): the data it creates is its
 * owner's only (issue #19).
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";

const API_TOKEN = "hardening-test-api-token-0123456789";
const mode = (p: string): number => statSync(p).mode & 0o777;

describe("onair run: data directory modes", () => {
  let dir = "";
  let d: Daemon | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-hardening-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `tests:${API_TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
  });

  afterAll(async () => {
    await stopDaemon(d);
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates a fresh data directory 0700, the store and its -wal/-shm 0600 (umask 022)", async () => {
    expect(process.umask() & 0o077).toBe(0o022); // what the daemon inherits: files would be 0644 by default
    d = await startDaemon(dir);
    const data = join(dir, "data");
    expect(mode(data)).toBe(0o700);
    for (const f of ["onair.db", "onair.db-wal", "onair.db-shm"]) expect([f, mode(join(data, f))]).toEqual([f, 0o600]);
  });
});
