/**
 * `onair inject` refuses an output that is its own input, under any name (issue #19 item 1):
 * opening the output for writing would truncate the input to 0 bytes. Hard links and links
 * on the input side: tests/unit/inject-same-file.test.ts.
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { onairBin, runCli, type CliResult } from "../helpers/cli.js";

/** 200 null packets: a valid TS, small; its bytes must survive. */
function nullPackets(n: number): Buffer {
  const b = Buffer.alloc(188 * n, 0xff);
  for (let i = 0; i < b.length; i += 188) b.set([0x47, 0x1f, 0xff, 0x10], i);
  return b;
}

let dir = "";
let input = "";
const content = nullPackets(200);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-inject-same-"));
  input = join(dir, "in.ts");
  writeFileSync(input, content);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function inject(inputArg: string, outputArg: string): Promise<CliResult> {
  return runCli(["inject", "--input", inputArg, "--output", outputArg, "--store", join(dir, "s.db")]);
}

function expectRefused(r: CliResult): void {
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain("onair: ONAIR_INJECT_SAME_FILE: ");
  expect(r.stderr).toContain("is the input file");
  expect(readFileSync(input).equals(content)).toBe(true);
}

describe("onair inject onto its own input", () => {
  it("refuses the same path, exits non-zero and leaves the input untouched", async () => {
    expectRefused(await inject(input, input));
  });

  it("refuses a symlink to the input", async () => {
    const link = join(dir, "link.ts");
    symlinkSync(input, link);
    expectRefused(await inject(input, link));
  });

  it("refuses stdin redirected from the output file", async () => {
    const fd = openSync(input, "r");
    try {
      const child = spawn(process.execPath, [onairBin, "inject", "--input", "-", "--output", input, "--store", join(dir, "s.db")], {
        stdio: [fd, "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      expectRefused({ code: code ?? 1, stdout: "", stderr });
    } finally {
      closeSync(fd);
    }
  });
});
