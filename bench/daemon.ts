/**
 * Daemon benchmark: one live `Channel` (real FFmpeg test source, hot slate, switcher,
 * injector with a break every 30 s, EPG from a store, UDP out to 127.0.0.1), in this process.
 *
 * 1. CPU of this Node process (`process.cpuUsage()`, FFmpeg children excluded) per 10 Mb/s
 *    of real output rate, over ONAIR_BENCH_DAEMON_SECONDS (default 60). Target ≤ 2 % of one core.
 * 2. kill -9 of the live FFmpeg → live output back (the `slate` event with on: false), with
 *    restart.backoffMinSeconds 0.1, ONAIR_BENCH_DAEMON_KILLS times (default 15), against the
 *    same FFmpeg command spawned standalone (spawn → first stdout byte) interleaved in the same
 *    run. Target: kill → live ≤ 500 ms median.
 * 3. RSS soak: a kill every 10 s for ONAIR_BENCH_SOAK_MINUTES (default 30, 0 = skip) after a
 *    warm-up minute. Target: flat within 10 MB. `node --expose-gc` makes every RSS sample follow
 *    a full GC (steadier figures); without it the samples are taken as they come.
 *
 * The picture is ONAIR_BENCH_DAEMON_SIZE (default 1280x720, ultrafast, 8 Mb/s video in a 10 Mb/s
 * CBR mux): the daemon's cost follows the TS rate, not the picture. `tune: zerolatency`: without
 * it x264's frame threads hold ~3 frames of a live-paced source before the first packet, which
 * adds ~125 ms to every restart (profiles/README.md). The UDP receiver is a
 * separate Node process, so its cost is not counted; on loopback the kernel's delivery to it
 * is partly charged to the sender's system time, which a real NIC would not do.
 *
 * Where the daemon's CPU goes (perf, 20 s of this bench on a 2-core Firecracker VM where it
 * measured 2.8 %): dgram sends 33 % (the sendmsg syscalls alone 28 %, a tenth of it waking the
 * receiver), reading FFmpeg's pipes and the packet path (switcher, injector, TR 101 290
 * monitor, output) 37 %, sleeping and waking ~11 %, timers 3 %, GC 2 %; no JS function over
 * 3 %. A Node timer wakeup alone cost ~140 µs of CPU there (a C loop's: 40–50 µs), so the
 * same-run references below are what tell a slow machine from a slow daemon.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import v8 from "node:v8";
import { validateProfile } from "../src/config/profile.js";
import type { ChannelProfile } from "../src/config/profile-schema.js";
import { createLogger } from "../src/observe/logger.js";
import { Channel } from "../src/pipeline/channel.js";
import { buildFfmpegArgs, type FfmpegCommand } from "../src/pipeline/ffmpeg-args.js";
import { openStore, type Store } from "../src/store/db.js";

const CHANNEL = "bench";
const BREAK_EVERY_MS = 30_000;
const BREAK_MS = 10_000;
/** restart.stableAfterSeconds: each measured kill waits longer than this, so every restart gets the first backoff step */
const STABLE_AFTER_S = 3;
const SOAK_KILL_EVERY_MS = 10_000;

const line = (s: string): void => {
  process.stdout.write(`${s}\n`);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const mb = (b: number): string => (b / (1024 * 1024)).toFixed(1);
const ms = (x: number): string => x.toFixed(0).padStart(4);

function envNumber(name: string, def: number, min: number): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return v;
}

function quantile(xs: number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
}

function dist(xs: number[]): string {
  return `median ${ms(quantile(xs, 0.5))} ms, p90 ${ms(quantile(xs, 0.9))} ms, min ${ms(Math.min(...xs))}, max ${ms(Math.max(...xs))}`;
}

/**
 * The fields of /proc/PID/stat after the command name (state(0) ppid(1) … minflt(7) …
 * utime(11) stime(12)), or null when the process is gone.
 */
function procStat(pid: number | "self"): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** CPU seconds (user + system) of a process, or NaN when it is gone (clock ticks: 100 Hz on Linux). */
function procCpuSeconds(pid: number | undefined): number {
  const f = pid === undefined ? null : procStat(pid);
  return f ? (Number(f[11]) + Number(f[12])) / 100 : Number.NaN;
}

/** Minor page faults of this process so far. */
function minorFaults(): number {
  return Number(procStat("self")?.[7] ?? Number.NaN);
}

/** Live (non-zombie) children of this process. */
function childPids(): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const f = procStat(Number(d)); // null: gone meanwhile
    if (f && Number(f[1]) === process.pid && f[0] !== "Z") out.push(Number(d));
  }
  return out;
}

interface MemSample {
  rss: number;
  heap: number;
  buffers: number;
  /** V8's committed heap (all spaces) and, within it, the young generation */
  heapTotal: number;
  newSpace: number;
  /** resident bytes of this process's mappings by kind, from /proc/self/smaps */
  brk: number;
  anon: number;
  file: number;
}

/** Resident bytes by mapping kind: the brk heap (glibc's main arena), anonymous maps (V8 pages, other arenas, large mallocs), files. */
function smapsBreakdown(): { brk: number; anon: number; file: number } {
  const out = { brk: 0, anon: 0, file: 0 };
  let kind: keyof typeof out = "anon";
  let text = "";
  try {
    text = readFileSync("/proc/self/smaps", "utf8");
  } catch {
    return out;
  }
  for (const l of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(l);
    if (head) {
      const path = head[1];
      kind = path === "[heap]" ? "brk" : path === "" || path.startsWith("[") ? "anon" : "file";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(l);
    if (rss) out[kind] += Number(rss[1]) * 1024;
  }
  return out;
}

function rssSample(): MemSample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === "new_space");
  return {
    rss: m.rss,
    heap: m.heapUsed,
    buffers: m.arrayBuffers,
    heapTotal: m.heapTotal,
    newSpace: young?.space_size ?? 0,
    ...smapsBreakdown(),
  };
}

function benchProfile(port: number, size: string): ChannelProfile {
  const m = /^(\d+)x(\d+)$/.exec(size);
  if (!m) throw new Error("ONAIR_BENCH_DAEMON_SIZE must look like 1280x720");
  return validateProfile(
    {
      channel: { id: CHANNEL, name: "Bench" },
      service: { serviceId: 7, transportStreamId: 3, originalNetworkId: 0xff01, name: "Bench", provider: "onair bench" },
      input: { kind: "test", pattern: "testsrc2", toneHz: 440 },
      encoding: {
        mode: "transcode",
        video: {
          codec: "libx264",
          width: Number(m[1]),
          height: Number(m[2]),
          fps: 25,
          bitrate: "8M",
          gopSeconds: 2,
          preset: "ultrafast",
          tune: "zerolatency",
        },
        audio: { codec: "aac", bitrate: "128k" },
        muxRate: "10M",
      },
      outputs: [{ kind: "udp", host: "127.0.0.1", port }],
      scte35: { heartbeatSeconds: 0 },
      epg: { days: 2, language: "eng", timeZone: "Europe/Paris", country: "FRA" },
      restart: { backoffMinSeconds: 0.1, backoffMaxSeconds: 2, stallTimeoutSeconds: 3, stableAfterSeconds: STABLE_AFTER_S },
      slate: { kind: "generated", color: "navy" },
    },
    "bench-daemon",
  );
}

/** A day of 2-hour programmes from 10 min ago, and a 10 s break every 30 s for `spanMs`. */
function fillStore(store: Store, spanMs: number): { items: number; breaks: number } {
  const now = Date.now();
  const start = now - 600_000;
  const items = [];
  for (let i = 0; i < 12; i++) {
    items.push({
      startMs: start + i * 7_200_000,
      durationMs: 7_200_000,
      title: `Programme ${i + 1}`,
      description: `The ${i + 1}th programme of the bench day, with a description long enough to fill an EIT event.`,
      language: "eng",
      breaks: [],
    });
  }
  const breaks = [];
  for (let t = now + 20_000; t < now + spanMs; t += BREAK_EVERY_MS)
    breaks.push({ startMs: t, durationMs: BREAK_MS, breakId: `b${breaks.length + 1}` });
  store.replaceItems(CHANNEL, start, start + 12 * 7_200_000, items, breaks);
  return { items: items.length, breaks: breaks.length };
}

interface Receiver {
  port: number;
  /** bytes and datagrams received so far */
  count(): Promise<{ bytes: number; datagrams: number }>;
  close(): Promise<void>;
}

/** A UDP receiver in a separate Node process (its cost is not this process's). */
async function udpReceiver(): Promise<Receiver> {
  const script = `
    const s = require("node:dgram").createSocket("udp4");
    let bytes = 0, datagrams = 0;
    s.on("message", (m) => { bytes += m.length; datagrams++; });
    s.bind(0, "127.0.0.1", () => {
      try { s.setRecvBufferSize(16 * 1024 * 1024); } catch {}
      process.stdout.write(s.address().port + "\\n");
    });
    process.stdin.on("data", () => process.stdout.write(JSON.stringify({ bytes, datagrams }) + "\\n"));
    process.stdin.on("end", () => process.exit(0));
  `;
  const child: ChildProcess = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const first = await lines.next();
  const port = Number(first.value);
  if (first.done || !Number.isInteger(port)) throw new Error("the UDP receiver did not start");
  return {
    port,
    async count() {
      child.stdin!.write("\n");
      const r = await lines.next();
      return JSON.parse(String(r.value)) as { bytes: number; datagrams: number };
    },
    async close() {
      const closed = once(child, "close");
      child.stdin!.end();
      await closed;
    },
  };
}

/**
 * A same-run reference: a separate Node process that only sends datagrams of the same size
 * at the same rate (in 25 ms bursts, as pipe reads come) to its own receiver, for `seconds`;
 * its CPU % of one core. Sending each datagram is a syscall, and on loopback the kernel's
 * delivery is charged to the sender: on some machines this alone is over 2 %. It is not the
 * daemon's floor: a native sendmmsg sender (tried, not shipped) halved this figure and left
 * the daemon's unchanged.
 */
async function referenceSender(datagramsPerSecond: number, size: number, seconds: number): Promise<number> {
  const sink = await udpReceiver();
  const script = `
    const s = require("node:dgram").createSocket("udp4");
    const [port, rate, size, secs] = process.argv.slice(1).map(Number);
    const bufs = Array.from({ length: 64 }, () => Buffer.alloc(size, 0x47));
    let k = 0, owed = 0;
    const cb = () => {};
    s.bind(0, () => {
      const c0 = process.cpuUsage(), t0 = performance.now();
      const iv = setInterval(() => {
        owed += rate / 40;
        for (; owed >= 1; owed--) s.send(bufs[k++ & 63], port, "127.0.0.1", cb);
        const wall = (performance.now() - t0) / 1000;
        if (wall < secs) return;
        clearInterval(iv);
        const c = process.cpuUsage(c0);
        process.stdout.write(JSON.stringify({ cpu: (c.user + c.system) / 1e6 / wall * 100 }) + "\\n");
        s.close();
      }, 25);
    });
  `;
  try {
    const child = spawn(process.execPath, ["-e", script, String(sink.port), String(datagramsPerSecond), String(size), String(seconds)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const out = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const closed = once(child, "close");
    const r = await out.next();
    await closed;
    // NaN when the reference failed (its error is on stderr)
    return r.done ? Number.NaN : (JSON.parse(String(r.value)) as { cpu: number }).cpu;
  } finally {
    await sink.close();
  }
}

/** Spawns the channel's FFmpeg command alone; ms from spawn to its first stdout byte. */
async function ffmpegFirstByte(cmd: FfmpegCommand): Promise<number> {
  const stdio: Array<"ignore" | "pipe"> = ["ignore", "pipe", "pipe"];
  if (cmd.progressFd !== null) {
    while (stdio.length < cmd.progressFd) stdio.push("ignore");
    stdio.push("pipe");
  }
  const t0 = performance.now();
  const child = spawn(cmd.command, cmd.args, { stdio });
  const closed = once(child, "close");
  // drain stderr and progress so FFmpeg never blocks on them
  child.stderr!.resume();
  if (cmd.progressFd !== null) (child.stdio[cmd.progressFd] as NodeJS.ReadableStream).resume();
  try {
    const t = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("standalone FFmpeg sent nothing within 10 s")), 10_000);
      child.stdout!.once("data", () => {
        clearTimeout(timer);
        resolve(performance.now() - t0);
      });
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    return t;
  } finally {
    child.stdout!.resume();
    child.kill("SIGKILL");
    await closed;
  }
}

interface KillResult {
  /** kill → live back (slate off) */
  toLive: number;
  /** kill → new FFmpeg spawned */
  toStarted: number;
  /** new FFmpeg spawned → live back */
  startedToLive: number;
  /** the backoff delay the supervisor drew */
  backoff: number;
  /** false when the new FFmpeg was back before the output switched to slate */
  slate: boolean;
}

/** Kills the live FFmpeg (SIGKILL) and times the way back to live output. */
async function killAndTime(ch: Channel, timeoutMs = 15_000): Promise<KillResult> {
  const pid = ch.status().live.pid;
  if (pid === undefined) throw new Error("no live FFmpeg to kill");
  let tStarted = Number.NaN;
  let backoff = Number.NaN;
  let slateOn = false;
  let poll: NodeJS.Timeout | undefined;
  let noSlate: (t: number) => void = () => undefined;
  const onStarted = (): void => {
    tStarted = performance.now();
    // the new FFmpeg could in principle talk within the switcher's live timeout (300 ms after
    // the last live byte), leaving no slate switch to time: then its first byte (polled) counts
    poll ??= setInterval(() => {
      if (!slateOn && ch.status().live.state === "running") noSlate(performance.now());
    }, 5);
  };
  const onCrashed = (e: { nextRetryInMs: number | null }): void => {
    backoff = e.nextRetryInMs ?? Number.NaN;
  };
  let onSlate: (e: { on: boolean }) => void = () => undefined;
  const back = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`live not back ${timeoutMs} ms after the kill (slate ${slateOn ? "on" : "never switched on"})`)),
      timeoutMs,
    );
    noSlate = (t) => {
      clearTimeout(timer);
      resolve(t);
    };
    onSlate = (e) => {
      if (e.on) slateOn = true;
      else if (slateOn) {
        clearTimeout(timer);
        resolve(performance.now());
      }
    };
  });
  ch.on("started", onStarted);
  ch.on("crashed", onCrashed);
  ch.on("slate", onSlate);
  const t0 = performance.now();
  try {
    process.kill(pid, "SIGKILL");
    const tLive = await back;
    return { toLive: tLive - t0, toStarted: tStarted - t0, startedToLive: tLive - tStarted, backoff, slate: slateOn };
  } finally {
    clearInterval(poll);
    ch.off("started", onStarted);
    ch.off("crashed", onCrashed);
    ch.off("slate", onSlate);
  }
}

async function measureCpu(ch: Channel, rx: Receiver, seconds: number): Promise<void> {
  const st0 = ch.status();
  const rx0 = await rx.count();
  const ff0 = { live: procCpuSeconds(st0.live.pid), slate: procCpuSeconds(st0.slate?.pid) };
  const cues0 = st0.injector.cuesSent.splice_insert ?? 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const faults0 = minorFaults();
  await sleep(seconds * 1000);
  const cpu = process.cpuUsage(cpu0);
  const faults = minorFaults() - faults0;
  const wall = (performance.now() - t0) / 1000;
  const st1 = ch.status();
  const rx1 = await rx.count();
  const rate = (st1.bytesOut - st0.bytesOut) / wall; // bytes/s
  const rxRate = (rx1.bytes - rx0.bytes) / wall;
  const share = ((cpu.user + cpu.system) / 1e6 / wall) * 100;
  const per10 = share * (10e6 / 8 / rate);
  const ffLive = ((procCpuSeconds(st1.live.pid) - ff0.live) / wall) * 100;
  const ffSlate = ((procCpuSeconds(st1.slate?.pid) - ff0.slate) / wall) * 100;
  const si = st1.si;
  line(
    `run             ${wall.toFixed(1)} s on air, source ${st1.source}, ${(st1.injector.cuesSent.splice_insert ?? 0) - cues0} cue sends, ${st1.live.restarts} restarts${si ? ", EIT/SDT/TDT on" : ""}`,
  );
  line(
    `output rate     ${((rate * 8) / 1e6).toFixed(2)} Mb/s (${rate.toFixed(0)} B/s) from the channel; ${((rxRate * 8) / 1e6).toFixed(2)} Mb/s received (${rx1.datagrams - rx0.datagrams} datagrams)`,
  );
  line(
    `daemon CPU      ${share.toFixed(2)} % of one core  (user ${((cpu.user / 1e6 / wall) * 100).toFixed(2)} %, system ${((cpu.system / 1e6 / wall) * 100).toFixed(2)} %; FFmpeg excluded; ${(faults / wall).toFixed(0)} page faults/s)`,
  );
  line(`per 10 Mb/s     ${per10.toFixed(2)} % of one core  (target ≤ 2 %: ${per10 <= 2 ? "ok" : "MISSED"})`);
  // the same datagram rate from a process that does nothing else, right after (same load)
  const datagrams = rx1.datagrams - rx0.datagrams;
  const dgRate = datagrams / wall;
  const ref = await referenceSender(dgRate, Math.round((rx1.bytes - rx0.bytes) / datagrams), Math.min(seconds, 30));
  line(
    `reference       ${ref.toFixed(2)} % of one core: a bare Node process sending the same ${dgRate.toFixed(0)} datagrams/s with dgram (what the sends alone cost it, on this machine); daemon / reference ${(share / ref).toFixed(2)}`,
  );
  // the same process sending nothing: what its 40 timer wakeups/s alone cost on this machine
  const idle = await referenceSender(0, 188, Math.min(seconds, 15));
  line(
    `  of which      ${idle.toFixed(2)} % is the same process sending nothing (its 40 timer wakeups/s alone: ${((idle / 100 / 40) * 1e6).toFixed(0)} µs of CPU per wakeup)`,
  );
  line(
    `for reference   live FFmpeg ${ffLive.toFixed(1)} %, slate FFmpeg ${ffSlate.toFixed(1)} % of one core (children, not counted above)`,
  );
}

async function measureRestarts(ch: Channel, cmd: FfmpegCommand, kills: number): Promise<void> {
  const results: KillResult[] = [];
  const refs: number[] = [];
  for (let i = 0; i < kills; i++) {
    // reference first, with the channel on air as during the kill (same load), interleaved so
    // drifting machine load hits both alike
    refs.push(await ffmpegFirstByte(cmd));
    // the live FFmpeg has run longer than stableAfter: the restart gets the first backoff step
    await sleep(STABLE_AFTER_S * 1000 + 500);
    results.push(await killAndTime(ch));
  }
  const toLive = results.map((r) => r.toLive);
  const overhead = results.map((r, i) => r.toLive - refs[i]);
  const overheadNoBackoff = results.map((r, i) => r.toLive - r.backoff - refs[i]);
  const med = quantile(toLive, 0.5);
  line(
    `kills           ${kills} × kill -9 of the live FFmpeg, restart.backoffMinSeconds 0.1 (first step drawn in [100, 150] ms, decorrelated jitter)`,
  );
  const noSlate = results.filter((r) => !r.slate).length;
  if (noSlate > 0)
    line(`note            ${noSlate} of ${kills} restarts were back before the switch to slate (timed to the new FFmpeg's first byte)`);
  line(`kill → live     ${dist(toLive)}  (target ≤ 500 ms median: ${med <= 500 ? "ok" : "MISSED"})`);
  line(`  kill → spawn  ${dist(results.map((r) => r.toStarted))}`);
  line(`  backoff drawn ${dist(results.map((r) => r.backoff))}`);
  line(`  spawn → live  ${dist(results.map((r) => r.startedToLive))}`);
  line(`ffmpeg alone    ${dist(refs)}  (same command, spawn → first stdout byte, ${kills} runs interleaved)`);
  line(`onair overhead  ${dist(overhead)}  (kill → live minus FFmpeg start-up, per pair; backoff included)`);
  line(`  w/o backoff   ${dist(overheadNoBackoff)}  (exit detection + spawn + switch at the first PAT)`);
}

async function soak(ch: Channel, minutes: number): Promise<void> {
  const samples: Array<ReturnType<typeof rssSample>> = [];
  const toLive: number[] = [];
  let failures = 0;
  const kill = async (): Promise<void> => {
    try {
      toLive.push((await killAndTime(ch)).toLive);
    } catch (e) {
      failures++;
      line(`  soak kill failed: ${(e as Error).message}`);
    }
  };
  // ONAIR_BENCH_SOAK_TRACE=1: every sample as a JSON line on stderr, to find where memory moves
  const trace = process.env.ONAIR_BENCH_SOAK_TRACE === "1";
  const t0 = performance.now();
  const runFor = async (totalMs: number, sample: boolean): Promise<void> => {
    const end = performance.now() + totalMs;
    while (performance.now() < end) {
      const next = performance.now() + SOAK_KILL_EVERY_MS;
      await kill();
      await sleep(Math.max(0, Math.min(next, end) - performance.now()));
      if (sample) {
        const m = rssSample();
        samples.push(m);
        if (trace)
          process.stderr.write(
            `${JSON.stringify({ t: Math.round(performance.now() - t0) / 1000, restarts: ch.status().live.restarts, ...m })}\n`,
          );
      }
    }
  };
  const gc = typeof (globalThis as { gc?: unknown }).gc === "function";
  const arenas = process.env.MALLOC_ARENA_MAX;
  line(
    `soak            a kill every ${SOAK_KILL_EVERY_MS / 1000} s: 1 min warm-up, then ${minutes} min measured; RSS ${gc ? "after a forced GC" : "as sampled (run node --expose-gc for post-GC samples)"}; MALLOC_ARENA_MAX ${arenas ?? "unset (glibc's default; the systemd units set 2)"}`,
  );
  await runFor(60_000, false);
  const first = rssSample();
  const rest0 = ch.status().live.restarts;
  await runFor(minutes * 60_000, true);
  const last = samples.at(-1) ?? first;
  const rss = samples.map((s) => s.rss);
  const growth = last.rss - first.rss;
  line(
    `RSS             start ${mb(first.rss)} MB, end ${mb(last.rss)} MB, growth ${mb(growth)} MB, range ${mb(Math.min(first.rss, ...rss))}–${mb(Math.max(first.rss, ...rss))} MB  (target flat within 10 MB: ${Math.abs(growth) <= 10 * 1024 * 1024 ? "ok" : "MISSED"})`,
  );
  line(
    `heap used       start ${mb(first.heap)} MB, end ${mb(last.heap)} MB; Buffers (arrayBuffers) start ${mb(first.buffers)} MB, end ${mb(last.buffers)} MB`,
  );
  const perMinute = samples.filter((_, i) => (i + 1) % Math.round(60_000 / SOAK_KILL_EVERY_MS) === 0);
  line(
    `by minute       RSS ${perMinute.map((x) => mb(x.rss)).join(", ")} MB; Buffers ${perMinute.map((x) => mb(x.buffers)).join(", ")} MB`,
  );
  line(
    `  V8 committed  ${perMinute.map((x) => mb(x.heapTotal)).join(", ")} MB (young generation ${perMinute.map((x) => mb(x.newSpace)).join(", ")} MB)`,
  );
  line(`  brk heap      ${perMinute.map((x) => mb(x.brk)).join(", ")} MB (glibc's main arena)`);
  line(`  anonymous     ${perMinute.map((x) => mb(x.anon)).join(", ")} MB (V8 pages, other arenas, large mallocs)`);
  line(
    `soak restarts   ${ch.status().live.restarts - rest0} in the measured part, ${failures} not back within 15 s; kill → live ${toLive.length ? dist(toLive) : "n/a"}`,
  );
}

export async function run(): Promise<void> {
  const seconds = envNumber("ONAIR_BENCH_DAEMON_SECONDS", 60, 1);
  const kills = Math.round(envNumber("ONAIR_BENCH_DAEMON_KILLS", 15, 1));
  const soakMinutes = envNumber("ONAIR_BENCH_SOAK_MINUTES", 30, 0);
  const size = process.env.ONAIR_BENCH_DAEMON_SIZE ?? "1280x720";
  const dir = mkdtempSync(join(tmpdir(), "onair-bench-daemon-"));
  const store = openStore(join(dir, "onair.db"));
  const rx = await udpReceiver();
  let ch: Channel | undefined;
  try {
    const profile = benchProfile(rx.port, size);
    const spanMs = (seconds + kills * 10 + (soakMinutes + 1) * 60 + 600) * 1000;
    const filled = fillStore(store, spanMs);
    const cmd = buildFfmpegArgs(profile);
    line(
      `channel         ${size} testsrc2 25 fps, libx264 ultrafast zerolatency 8 Mb/s + AAC 128k, CBR mux 10 Mb/s, UDP to 127.0.0.1; EPG 2 days from ${filled.items} items, a ${BREAK_MS / 1000} s break every ${BREAK_EVERY_MS / 1000} s (${filled.breaks} in the store)`,
    );
    const channel = new Channel({ profile, store, logger: createLogger({ level: "silent" }), dataDir: dir });
    ch = channel;
    await channel.start();
    // on_air needs live data, which comes in a later I/O turn than start()'s resolution
    const onAir = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the channel did not go on air within 60 s")), 60_000);
      channel.on("state", (s) => {
        if (s !== "on_air") return;
        clearTimeout(timer);
        resolve();
      });
    });
    await onAir;
    await sleep(5000); // JIT, SI tables, first breaks scheduled

    line("-- CPU of the daemon (this process) per 10 Mb/s channel");
    await measureCpu(channel, rx, seconds);
    line("-- FFmpeg kill → live output resumed");
    await measureRestarts(channel, cmd, kills);
    if (soakMinutes > 0) {
      line(`-- RSS soak with repeated restarts`);
      await soak(channel, soakMinutes);
    } else line("-- RSS soak skipped (ONAIR_BENCH_SOAK_MINUTES=0)");
  } finally {
    await ch?.stop();
    store.close();
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const left = childPids();
  if (left.length > 0) line(`WARNING: child processes left: ${left.join(", ")}`);
}
