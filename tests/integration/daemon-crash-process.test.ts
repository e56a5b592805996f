/**
 * The process side of a daemon crash (src/daemon-crash.ts, built in dist/) in small real
 * Node processes: an unhandled rejection goes through the crash path and exits 1 with its
 * children SIGKILLed; an error before the daemon is up exits 1 at once; an out-of-memory
 * death leaves a diagnostic report that findReport names, and scrubReports takes the
 * environment out of it.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";
import { alive } from "../helpers/pipeline.js";

const moduleUrl = pathToFileURL(join(repoRoot, "dist", "src", "daemon-crash.js")).href;

function runNode(
  code: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...args, "--input-type=module", "-e", code], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...env },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("close", (exit) => resolve({ code: exit, stdout, stderr }));
  });
}

describe("daemon crash handling in a real process", () => {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-crash-proc-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("an unhandled rejection runs the crash path, SIGKILLs the children left and exits 1", async () => {
    const r = await runNode(`
      import { spawn } from "node:child_process";
      import { installCrashHandlers } from ${JSON.stringify(moduleUrl)};
      const child = spawn("sleep", ["30"], { stdio: "ignore" });
      console.log("child " + child.pid);
      installCrashHandlers((err, origin) => new Promise((r) => { console.log("crash " + origin + " " + err.message); setTimeout(r, 50); }));
      setTimeout(() => void Promise.reject(new Error("rejected-xyz")), 100);
    `);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("crash unhandledRejection rejected-xyz");
    const pid = Number(/child (\d+)/.exec(r.stdout)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);
  });

  it("an error before the daemon is up, or a second one while stopping, exits 1 at once", async () => {
    const early = await runNode(`
      import { installCrashHandlers } from ${JSON.stringify(moduleUrl)};
      installCrashHandlers(() => undefined);
      setTimeout(() => { throw new Error("early-xyz"); }, 10);
      setTimeout(() => {}, 30_000);
    `);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain("early-xyz");
    const twice = await runNode(`
      import { installCrashHandlers } from ${JSON.stringify(moduleUrl)};
      installCrashHandlers(() => new Promise(() => { setTimeout(() => { throw new Error("second-xyz"); }, 10); }));
      setTimeout(() => { throw new Error("first-xyz"); }, 10);
      setTimeout(() => {}, 30_000);
    `);
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain("second-xyz");
  });

  it("an out-of-memory death leaves a report that findReport names with its event", async () => {
    const r = await runNode(
      `
      import { enableFatalReports } from ${JSON.stringify(moduleUrl)};
      enableFatalReports(${JSON.stringify(dir)}, { warn: () => {} });
      console.log("pid " + process.pid);
      const keep = [];
      for (;;) keep.push(new Array(1e5).fill({ x: keep.length }));
    `,
      ["--max-old-space-size=24"],
      { ONAIR_TEST_SECRET: "secret-in-env-xyz" },
    );
    expect(r.code).not.toBe(0);
    const pid = Number(/pid (\d+)/.exec(r.stdout)?.[1]);
    const { findReport, scrubReports } = (await import(moduleUrl)) as typeof import("../../src/daemon-crash.js");
    const rep = findReport(dir, pid, 0);
    expect(rep?.file).toMatch(new RegExp(`report\\.\\d{8}\\.\\d{6}\\.${pid}\\.`));
    expect(rep?.event).toMatch(/heap out of memory/i);
    expect(findReport(dir, pid + 1, 0)).toBeUndefined();
    // the environment (where an env:NAME secret lives) is dropped at the next start
    const file = rep?.file ?? "";
    expect(readFileSync(file, "utf8")).toContain("secret-in-env-xyz");
    expect(scrubReports(dir)).toBe(1);
    expect(readFileSync(file, "utf8")).not.toContain("secret-in-env-xyz");
    expect(findReport(dir, pid, 0)?.event).toMatch(/heap out of memory/i);
  }, 30_000);
});
