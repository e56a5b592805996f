import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { cgroupV2Path, readCgroupMemory } from "../../src/observe/cgroup.js";
import { createMetrics } from "../../src/observe/metrics.js";

let dir: string;
let root: string;
let selfCgroup: string;

/** A fake cgroup2 tree: <dir>/cg/system.slice/onair.service/memory.* and a /proc/self/cgroup file. */
function fakeCgroup(files: Record<string, string>, membership = "0::/system.slice/onair.service\n"): void {
  const unit = join(root, "system.slice", "onair.service");
  mkdirSync(unit, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(unit, name), text);
  writeFileSync(selfCgroup, membership);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-cgroup-"));
  root = join(dir, "cg");
  selfCgroup = join(dir, "self-cgroup");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("cgroupV2Path", () => {
  test("takes the 0:: line of a hybrid or pure v2 membership file", () => {
    expect(cgroupV2Path("0::/system.slice/onair@news.service\n")).toBe("/system.slice/onair@news.service");
    expect(cgroupV2Path("4:memory:/user.slice\n1:name=systemd:/x\n0::/\n")).toBe("/");
  });
  test("is undefined on cgroup v1 only", () => {
    expect(cgroupV2Path("4:memory:/user.slice\n1:name=systemd:/x\n")).toBeUndefined();
  });
});

describe("readCgroupMemory", () => {
  test("reads current, high and max of the process's own cgroup", async () => {
    fakeCgroup({ "memory.current": "734003200\n", "memory.high": "943718400\n", "memory.max": "1572864000\n" });
    expect(await readCgroupMemory({ root, selfCgroup })).toEqual({
      path: "/system.slice/onair.service",
      current: 734003200,
      high: 943718400,
      max: 1572864000,
    });
  });

  test("a limit of max (unlimited) and a missing file give undefined", async () => {
    fakeCgroup({ "memory.current": "1000\n", "memory.max": "max\n" });
    expect(await readCgroupMemory({ root, selfCgroup })).toEqual({
      path: "/system.slice/onair.service",
      current: 1000,
      high: undefined,
      max: undefined,
    });
  });

  test("no cgroup v2 membership, no membership file, no mount: empty, no throw", async () => {
    fakeCgroup({ "memory.current": "1000\n" }, "4:memory:/system.slice/onair.service\n");
    expect(await readCgroupMemory({ root, selfCgroup })).toEqual({});
    expect(await readCgroupMemory({ root, selfCgroup: join(dir, "missing") })).toEqual({});
    writeFileSync(selfCgroup, "0::/system.slice/onair.service\n");
    expect(await readCgroupMemory({ root: join(dir, "no-mount"), selfCgroup })).toEqual({
      path: "/system.slice/onair.service",
      current: undefined,
      high: undefined,
      max: undefined,
    });
  });

  test("a file where the cgroup directory should be gives no values", async () => {
    mkdirSync(join(root, "system.slice"), { recursive: true });
    writeFileSync(join(root, "system.slice", "onair.service"), "not a directory");
    writeFileSync(selfCgroup, "0::/system.slice/onair.service\n");
    expect(await readCgroupMemory({ root, selfCgroup })).toEqual({
      path: "/system.slice/onair.service",
      current: undefined,
      high: undefined,
      max: undefined,
    });
  });
});

describe("cgroup memory metrics", () => {
  test("export the values read, and no series for an unlimited or absent one", async () => {
    fakeCgroup({ "memory.current": "734003200\n", "memory.high": "max\n", "memory.max": "1572864000\n" });
    const text = await createMetrics({ defaultMetrics: false, cgroup: { root, selfCgroup } }).scrape();
    const lines = text.split("\n");
    expect(lines).toContain('onair_cgroup_memory_current_bytes{cgroup="/system.slice/onair.service"} 734003200');
    expect(lines).toContain('onair_cgroup_memory_max_bytes{cgroup="/system.slice/onair.service"} 1572864000');
    expect(text).not.toMatch(/^onair_cgroup_memory_high_bytes\{/m);
  });

  test("a host without cgroup v2 gives no cgroup series and a good scrape", async () => {
    const text = await createMetrics({ defaultMetrics: false, cgroup: { root, selfCgroup: join(dir, "missing") } }).scrape();
    expect(text).not.toMatch(/^onair_cgroup_memory_\w+\{/m);
    expect(text).toContain("onair_system_cpus");
  });
});
