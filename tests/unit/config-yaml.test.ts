import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resolveGlobalConfig } from "../../src/config/global.js";
import { loadProfileFile } from "../../src/config/loader.js";
import { parseProfileText } from "../../src/config/profile.js";
import { isOnairError } from "../../src/core/errors.js";

const root = join(import.meta.dirname, "..", "..");
/** The demo profile without its `slate:` block (the last one), for tests that add their own. */
const demoText = readFileSync(join(root, "profiles", "demo.example.yaml"), "utf8").replace(/^slate:[\s\S]*$/m, "");

/** "Billion laughs": 9 levels of 9 aliases each, 9^9 (387 million) strings once expanded. */
function billionLaughs(): string {
  const names = "abcdefghi";
  const lines = [`${names[0]}: &${names[0]} [${Array(9).fill('"lol"').join(", ")}]`];
  for (let i = 1; i < names.length; i++)
    lines.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(", ")}]`,
    );
  return `${lines.join("\n")}\n`;
}

async function codeOf(f: () => Promise<unknown>): Promise<{ code: string; message: string; ms: number }> {
  const t0 = performance.now();
  try {
    await f();
  } catch (e) {
    const ms = performance.now() - t0;
    return { code: isOnairError(e) ? e.code : `not an OnairError: ${String(e)}`, message: (e as Error).message, ms };
  }
  throw new Error("expected an error");
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-yaml-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("YAML alias bombs", () => {
  it("refuses a billion-laughs profile with ONAIR_PROFILE_YAML_ALIASES naming the file, quickly", async () => {
    const path = join(dir, "laughs.yaml");
    writeFileSync(path, billionLaughs());
    const r = await codeOf(() => loadProfileFile(path, { allowClear: true }));
    expect(r.code).toBe("ONAIR_PROFILE_YAML_ALIASES");
    expect(r.message).toMatch(/^laughs\.yaml: /); // profile errors name the file, as the loader's others do
    expect(r.ms).toBeLessThan(1000);
  });

  it("refuses a billion-laughs global config with ONAIR_CONFIG_YAML_ALIASES naming its path", async () => {
    const path = join(dir, "onair.yaml");
    writeFileSync(path, billionLaughs());
    const r = await codeOf(() => resolveGlobalConfig({ flags: { config: path }, env: {}, isRoot: false }));
    expect(r.code).toBe("ONAIR_CONFIG_YAML_ALIASES");
    expect(r.message).toContain(path);
    expect(r.ms).toBeLessThan(1000);
  });

  it("reports an alias to no anchor as a syntax error, not an internal one", async () => {
    const p = await codeOf(() => Promise.resolve().then(() => parseProfileText(`${demoText}\nslate: *nowhere\n`, "dangling.yaml")));
    expect(p.code).toBe("ONAIR_PROFILE_SYNTAX");
    expect(p.message).toContain("dangling.yaml");
    const path = join(dir, "onair.yaml");
    writeFileSync(path, "http: *nowhere\n");
    const c = await codeOf(() => resolveGlobalConfig({ flags: { config: path }, env: {}, isRoot: false }));
    expect(c.code).toBe("ONAIR_CONFIG_SYNTAX");
  });

  it("still reads ordinary anchors and aliases", () => {
    const text = demoText.replace(/name: (.*)/, "name: &n $1") + "slate: { kind: generated, text: *n }\n";
    const p = parseProfileText(text, "anchors.yaml");
    expect(p.slate).toMatchObject({ kind: "generated", text: "onair demo" });
  });
});
