import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";

describe("onair CLI", () => {
  it("prints its version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("prints help", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: onair");
  });

  it("refuses an unknown command with a non-zero exit", async () => {
    const r = await runCli(["no-such-command"]);
    expect(r.code).not.toBe(0);
  });

  it("refuses an unknown command whatever follows it, --help too, and still answers --help for known ones", async () => {
    const [top, group, viaHelp, known, knownRun] = await Promise.all([
      runCli(["no-such-command", "--help"]),
      runCli(["schedule", "no-such-command", "--help"]),
      runCli(["help", "no-such-command"]),
      runCli(["--help"]),
      runCli(["run", "--help"]),
    ]);
    for (const r of [top, group, viaHelp]) {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("unknown command 'no-such-command'");
      expect(r.stdout).not.toContain("Usage:");
    }
    expect(group.stderr).toContain("onair schedule --help");
    expect(known.code).toBe(0);
    expect(known.stdout).toContain("Usage: onair [options] [command]");
    expect(knownRun.code).toBe(0);
    expect(knownRun.stdout).toContain("Usage: onair run [options]");
  });
});
