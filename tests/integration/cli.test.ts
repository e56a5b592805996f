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
});
