/**
 * Memory of the daemon's own cgroup (cgroup v2): `memory.current`, `memory.high` and
 * `memory.max` of the cgroup named by the `0::` line of /proc/self/cgroup, under the cgroup2
 * mount (/sys/fs/cgroup). Under systemd that cgroup is the unit's, so it counts every FFmpeg
 * child too — which is what MemoryHigh=/MemoryMax= limit.
 *
 * Contract: never throws. A missing or unreadable file (cgroup v1 only, no memory
 * controller, a container without the mount), or a limit set to `max` (unlimited), gives
 * `undefined` for that field, and the metric then has no series.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

export interface CgroupMemory {
  /** The cgroup's path under the mount, e.g. "/system.slice/onair.service". */
  path?: string | undefined;
  /** memory.current: bytes charged to the cgroup now (page cache included). */
  current?: number | undefined;
  /** memory.high: the throttle level, bytes; undefined when unlimited ("max") or unknown. */
  high?: number | undefined;
  /** memory.max: the OOM-kill limit, bytes; undefined when unlimited ("max") or unknown. */
  max?: number | undefined;
}

export interface CgroupPaths {
  /** Where cgroup2 is mounted (default /sys/fs/cgroup). */
  root?: string;
  /** The process's cgroup membership file (default /proc/self/cgroup). */
  selfCgroup?: string;
}

/** The cgroup v2 path ("/system.slice/onair.service") from /proc/self/cgroup text, or undefined (v1 only). */
export function cgroupV2Path(procSelfCgroup: string): string | undefined {
  for (const line of procSelfCgroup.split("\n")) {
    if (line.startsWith("0::")) {
      const p = line.slice(3).trim();
      return p.startsWith("/") ? p : undefined;
    }
  }
  return undefined;
}

/** A memory.* file's value: a byte count, or undefined for "max", junk or a read error. */
async function readBytes(file: string): Promise<number | undefined> {
  try {
    const text = (await readFile(file, "utf8")).trim();
    if (!/^\d+$/.test(text)) return undefined;
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the memory files of our own cgroup (see the file comment: never throws). */
export async function readCgroupMemory(paths: CgroupPaths = {}): Promise<CgroupMemory> {
  const root = paths.root ?? "/sys/fs/cgroup";
  let rel: string | undefined;
  try {
    rel = cgroupV2Path(await readFile(paths.selfCgroup ?? "/proc/self/cgroup", "utf8"));
  } catch {
    rel = undefined;
  }
  if (rel === undefined || rel.split("/").includes("..")) return {};
  const dir = join(root, rel);
  const [current, high, max] = await Promise.all(["memory.current", "memory.high", "memory.max"].map((f) => readBytes(join(dir, f))));
  return { path: rel, current, high, max };
}
