/**
 * refuseOutputOntoInput: an output that is the input under another name (hard link, symlink
 * on either side) is refused before anything is opened; other outputs pass.
 */
import { linkSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OnairError } from "../../src/core/errors.js";
import { refuseOutputOntoInput } from "../../src/inject/offline.js";

let dir = "";
let input = "";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-same-file-"));
  input = join(dir, "in.ts");
  writeFileSync(input, "input bytes");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(i: string, o: string): Promise<OnairError> {
  const e = await refuseOutputOntoInput(i, o).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(OnairError);
  return e as OnairError;
}

describe("an inject output that is the input", () => {
  it("is refused through a hard link, naming the input's real path", async () => {
    const hard = join(dir, "hard.ts");
    linkSync(input, hard);
    const e = await refusal(input, hard);
    expect(e.code).toBe("ONAIR_INJECT_SAME_FILE");
    expect(e.message).toBe(`the output ${hard} is the input file ${input}: writing it would destroy the input; choose another output`);
  });

  it("is refused when the input is a symlink to the output, or a path with dot segments", async () => {
    const link = join(dir, "in-link.ts");
    symlinkSync(input, link);
    expect((await refusal(link, input)).code).toBe("ONAIR_INJECT_SAME_FILE");
    const dotted = `${dir}/./../${basename(dir)}/in.ts`;
    expect((await refusal(input, dotted)).code).toBe("ONAIR_INJECT_SAME_FILE");
  });

  it("lets another file, a new file and a copy of the input through", async () => {
    const copy = join(dir, "copy.ts");
    writeFileSync(copy, readFileSync(input));
    await refuseOutputOntoInput(input, copy);
    await refuseOutputOntoInput(input, join(dir, "new.ts"));
    await refuseOutputOntoInput(join(dir, "missing.ts"), join(dir, "new.ts"));
  });
});
