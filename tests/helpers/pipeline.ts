/**
 * Helpers for the pipeline tests: waiting on events with a timeout, child-process and fd
 * accounting through /proc, free ports, and a tiny transcode profile.
 */
import { readdirSync, readFileSync, existsSync } from "node:fs";
import { createSocket } from "node:dgram";
import type { EventEmitter } from "node:events";
import { profileSchema, type ChannelProfile, type ChannelProfileInput } from "../../src/config/profile-schema.js";

/** Resolves with the event's first argument, or rejects after timeoutMs. */
export function waitEvent<T = unknown>(
  em: EventEmitter | { on(e: string, f: (...a: never[]) => void): unknown; off(e: string, f: (...a: never[]) => void): unknown },
  event: string,
  timeoutMs: number,
  pred: (v: T) => boolean = () => true,
): Promise<T> {
  const e = em as unknown as EventEmitter;
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => {
      e.off(event, on);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for "${event}"`));
    }, timeoutMs);
    const on = (v: T): void => {
      if (!pred(v)) return;
      clearTimeout(t);
      e.off(event, on);
      resolve(v);
    };
    e.on(event, on);
  });
}

/** Polls a condition (for state outside any emitter, e.g. /proc) until true or timeout. */
export async function until(cond: () => boolean, timeoutMs: number, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Polls an async condition (an HTTP answer) every 50 ms until true or timeout. */
export async function untilAsync(cond: () => Promise<boolean>, timeoutMs: number, what = "condition"): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Pids whose parent is `ppid` (default: this process). */
export function childPids(ppid = process.pid): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      // pid (comm) state ppid … — comm may hold spaces or parens: split after the last ')'
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[1]) === ppid && rest[0] !== "Z") out.push(Number(d));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** True while /proc/PID exists and is not a zombie. */
export function alive(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/** A UDP port nobody listens on (bound to find it, then released). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A tiny transcode profile (320x240 ultrafast) around any input. */
export function tinyProfile(
  input: ChannelProfileInput["input"] = { kind: "test" },
  over: Partial<ChannelProfileInput> = {},
): ChannelProfile {
  return profileSchema.parse({
    channel: { id: "t1", name: "test" },
    input,
    encoding: {
      mode: "transcode",
      video: { codec: "libx264", width: 320, height: 240, fps: 25, bitrate: "300k", gopSeconds: 1, preset: "ultrafast" },
      audio: { codec: "aac", bitrate: "64k" },
      muxRate: "600k",
    },
    outputs: [{ kind: "stdout" }],
    ...over,
  });
}
