/**
 * Soak (issue #23): `npm run bench -- soak [--minutes N]` (default 60).
 *
 * Starts a real daemon (`node bin/onair.js run` from dist/, a temp data directory, the
 * built-in config defaults plus `log.level: info`) with 4 channels of 320x180 testsrc2 sent
 * over UDP to 127.0.0.1 ports this process listens on. Every 20 s each channel's live FFmpeg
 * is killed with SIGKILL (the channels staggered by 5 s): its pid is the channel's latest
 * `ffmpeg.started` in the daemon's log (the slate's excluded), checked to be a child of the
 * daemon in /proc before it is killed.
 *
 * Prints, per channel: the longest gap between UDP datagrams received (the slate covers a
 * restart, so a gap is the output stopping), the kills, the restarts seen (a new live FFmpeg
 * in the log), the failed restarts (live output not back within 10 s: no new live FFmpeg,
 * or the API still showing the slate or the channel down) and the median and longest time
 * from a kill to live output back; and the daemon's RSS and open file descriptors
 * (/proc/PID/status, /proc/PID/fd) once every channel is live and at the end.
 *
 * Run by name only (`npm run bench` without a name skips it: it takes the hour).
 *
 * Choices: `restart.stableAfterSeconds: 15`, so each kill (20 s apart) meets the first backoff
 * step instead of a backoff grown by the kills before it; otherwise the profile defaults.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "./_common.js";

const CHANNELS = 4;
const KILL_EVERY_MS = 20_000;
const BACK_WITHIN_MS = 10_000;
const POLL_MS = 250;

interface ChannelSoak {
  id: string;
  sock: Socket;
  port: number;
  lastPacketMs: number;
  maxGapMs: number;
  /** live FFmpeg pids in start order, from the log */
  livePids: number[];
  kills: number;
  failed: number;
  backMs: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function minutesArg(): number {
  const i = process.argv.indexOf("--minutes");
  const n = i >= 0 ? Number(process.argv[i + 1]) : 60;
  if (!(n > 0)) throw new Error("--minutes takes a positive number");
  return n;
}

async function receiver(id: string): Promise<ChannelSoak> {
  const sock = createSocket("udp4");
  const c: ChannelSoak = { id, sock, port: 0, lastPacketMs: 0, maxGapMs: 0, livePids: [], kills: 0, failed: 0, backMs: [] };
  sock.on("message", () => {
    const now = performance.now();
    if (c.lastPacketMs > 0) c.maxGapMs = Math.max(c.maxGapMs, now - c.lastPacketMs);
    c.lastPacketMs = now;
  });
  sock.bind(0, "127.0.0.1");
  await once(sock, "listening");
  sock.setRecvBufferSize(8 * 1024 * 1024);
  c.port = sock.address().port;
  return c;
}

function profile(id: string, port: number, n: number): Record<string, unknown> {
  return {
    channel: { id, name: `Soak ${n}` },
    service: { serviceId: 100 + n, transportStreamId: 1, originalNetworkId: 0xff01, name: `Soak ${n}`, provider: "onair soak" },
    input: { kind: "test", pattern: "testsrc2", toneHz: 440 + 110 * n },
    encoding: {
      mode: "transcode",
      video: { codec: "libx264", width: 320, height: 180, fps: 25, bitrate: "400k", gopSeconds: 1, preset: "ultrafast" },
      audio: { codec: "aac", bitrate: "64k" },
      muxRate: "1000k",
    },
    outputs: [{ kind: "udp", host: "127.0.0.1", port }],
    scte35: { heartbeatSeconds: 0 },
    epg: { enabled: false },
    restart: { stableAfterSeconds: 15 },
    slate: { kind: "generated", color: "navy" },
  };
}

/** The daemon's parent pid of `pid` from /proc/PID/stat, or undefined when it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}

function procFigures(pid: number): { rssMb: number; fds: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const rssKb = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN);
  return { rssMb: Math.round(rssKb / 102.4) / 10, fds: readdirSync(`/proc/${pid}/fd`).length };
}

interface Daemon {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

/** Starts `onair run` and follows its log: every live `ffmpeg.started` goes to its channel. */
async function startDaemon(dir: string, channels: Map<string, ChannelSoak>): Promise<Daemon> {
  const args = [
    "run",
    "--profiles-dir",
    join(dir, "profiles"),
    "--data-dir",
    join(dir, "data"),
    "--http",
    "127.0.0.1:0",
    "--allow-clear-profiles",
  ];
  const child = spawn(process.execPath, [join(repoRoot(), "bin", "onair.js"), ...args], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, ONAIR_CONFIG: join(dir, "onair.yaml"), ONAIR_API_TOKEN_FILE: join(dir, "api.token") },
  });
  const exited = once(child, "exit");
  let url = "";
  const listening = new Promise<void>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the daemon exited (${code}) before listening`)));
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = /listening on (http:\/\/\S+)/.exec(line);
      if (m && !url) {
        url = m[1];
        resolve();
      }
      if (!line.includes('"event":"ffmpeg.started"') || line.includes('"part":"slate"')) return;
      const rec = JSON.parse(line) as { channel?: string; pid?: number };
      const c = rec.channel !== undefined ? channels.get(rec.channel) : undefined;
      if (c && typeof rec.pid === "number") c.livePids.push(rec.pid);
    });
  });
  await listening;
  return { child, url, exited };
}

/** Whether the channel is live (up, not on the slate) by the daemon's API. */
async function live(url: string, id: string): Promise<boolean> {
  try {
    const v = (await (await fetch(`${url}/api/v1/channels/${id}`)).json()) as { up?: boolean; slateActive?: boolean };
    return v.up === true && v.slateActive === false;
  } catch {
    return false;
  }
}

/** Kills the channel's live FFmpeg and waits up to 10 s for live output from a new one. */
async function killAndWatch(d: Daemon, c: ChannelSoak): Promise<void> {
  const pid = c.livePids.at(-1);
  if (pid === undefined || parentOf(pid) !== d.child.pid) {
    c.failed++; // no live FFmpeg of the daemon to kill: the last restart did not come back
    return;
  }
  const t0 = performance.now();
  process.kill(pid, "SIGKILL");
  c.kills++;
  while (performance.now() - t0 < BACK_WITHIN_MS) {
    await sleep(POLL_MS);
    const newer = c.livePids.at(-1);
    if (newer !== undefined && newer !== pid && (await live(d.url, c.id))) {
      c.backMs.push(performance.now() - t0);
      return;
    }
  }
  c.failed++;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function soak(minutes: number, channels: ChannelSoak[], d: Daemon): Promise<void> {
  const deadline = performance.now() + 60_000;
  for (const c of channels) while (!(await live(d.url, c.id)) && performance.now() < deadline) await sleep(POLL_MS);
  for (const c of channels) c.maxGapMs = 0; // gaps count from here: start-up is not a gap
  const start = procFigures(d.child.pid!);
  process.stdout.write(`daemon at start: RSS ${start.rssMb} MB, ${start.fds} open fds; soaking ${minutes} min\n`);
  const end = performance.now() + minutes * 60_000;
  const loops = channels.map(async (c, i) => {
    await sleep(5000 * i);
    while (performance.now() + KILL_EVERY_MS <= end) {
      const next = performance.now() + KILL_EVERY_MS;
      await killAndWatch(d, c);
      await sleep(Math.max(0, next - performance.now()));
    }
  });
  await Promise.all(loops);
  await sleep(Math.max(0, end - performance.now()));
  const last = procFigures(d.child.pid!);
  for (const c of channels) {
    const back = c.backMs.length
      ? `kill → live median ${Math.round(median(c.backMs))} ms, max ${Math.round(Math.max(...c.backMs))} ms`
      : "no restart";
    const restarts = c.livePids.length - 1;
    process.stdout.write(
      `${c.id}: longest output gap ${Math.round(c.maxGapMs)} ms; ${c.kills} kills, ${restarts} restarts seen, ${c.failed} failed restarts; ${back}\n`,
    );
  }
  process.stdout.write(`daemon at end: RSS ${last.rssMb} MB, ${last.fds} open fds (start: ${start.rssMb} MB, ${start.fds})\n`);
}

export async function run(): Promise<void> {
  if (!process.argv[2]?.includes("soak")) {
    process.stdout.write("skipped: an hour long; run it by name: npm run bench -- soak [--minutes N]\n");
    return;
  }
  const minutes = minutesArg();
  const dir = mkdtempSync(join(tmpdir(), "onair-soak-"));
  const channels: ChannelSoak[] = [];
  let d: Daemon | undefined;
  try {
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    writeFileSync(join(dir, "api.token"), "soak:soak-token-0123456789abcdef\n", { mode: 0o600 });
    for (let n = 1; n <= CHANNELS; n++) {
      const c = await receiver(`soak${n}`);
      channels.push(c);
      writeFileSync(join(dir, "profiles", `${c.id}.json`), JSON.stringify(profile(c.id, c.port, n)));
    }
    d = await startDaemon(dir, new Map(channels.map((c) => [c.id, c])));
    await soak(minutes, channels, d);
  } finally {
    if (d && d.child.exitCode === null && d.child.signalCode === null) {
      d.child.kill("SIGTERM");
      const killer = setTimeout(() => d?.child.kill("SIGKILL"), 15_000);
      await d.exited;
      clearTimeout(killer);
    }
    for (const c of channels) c.sock.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
