/**
 * Console event-stream bench: what the Server-Sent Events of GET /api/v1/stream (docs/api.md)
 * cost the daemon, per channel and per connected console.
 *
 * A real daemon (`onair run`, as the systemd unit runs it) with ONAIR_BENCH_SSE_CHANNELS
 * (default 4) channels, each a 320x180 testsrc2 at 25 fps (libx264 ultrafast, 1 s GOP, CBR
 * 1 Mb/s) sent over UDP to a sink in this process; thumbnails off (`console.thumbnails:
 * false`: bench/thumbnails.ts measures those). Its CPU (utime + stime of the daemon process
 * from /proc/PID/stat, its FFmpeg children excluded) over ONAIR_BENCH_SSE_SECONDS (default 60,
 * in three interleaved rounds) each with:
 *   0 clients;  1 client (the feed's tick and counters start with the first stream);
 *   ONAIR_BENCH_SSE_CLIENTS (default 8) clients, each reading everything the stream sends.
 * The clients run in this process, so their reading is not counted. Printed: the daemon's CPU
 * in each case, and what the streams add per channel per client.
 *
 * The channels are quiet (no breaks, no restarts): the stream then carries the `counters`
 * events (one per channel every 2 s) and the heartbeat, which is the steady cost of an open
 * console.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { get, type ClientRequest, type IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "./_common.js";

/** Cases are measured in this many interleaved rounds (drift of the machine hits all alike). */
const ROUNDS = 3;
/** After start: channels settle (JIT, first GOPs, SI tables). */
const WARMUP_MS = 15_000;
/** After clients connect or leave: the connect burst is not measured. */
const SETTLE_MS = 2000;

const line = (s: string): void => void process.stdout.write(`${s}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function envNumber(name: string, def: number, min: number): number {
  const v = Number(process.env[name] ?? def);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return v;
}

/** utime + stime of a process in seconds (NaN when gone). */
function procCpu(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

function profile(id: string, port: number): Record<string, unknown> {
  return {
    channel: { id, name: `SSE bench ${id}` },
    service: { serviceId: 1, transportStreamId: 1, originalNetworkId: 0xff01, name: id, provider: "onair bench" },
    input: { kind: "test", pattern: "testsrc2", toneHz: 440 },
    encoding: {
      mode: "transcode",
      video: { codec: "libx264", width: 320, height: 180, fps: 25, bitrate: "700k", gopSeconds: 1, preset: "ultrafast" },
      audio: { codec: "aac", bitrate: "64k" },
      muxRate: "1M",
    },
    outputs: [{ kind: "udp", host: "127.0.0.1", port }],
    scte35: { heartbeatSeconds: 0 },
    epg: { enabled: false },
    slate: { kind: "generated", color: "navy" },
  };
}

interface Daemon {
  child: ChildProcess;
  url: string;
  log: () => string;
}

async function runCli(args: string[]): Promise<void> {
  const child = spawn(process.execPath, [join(repoRoot(), "bin", "onair.js"), ...args], { stdio: "ignore" });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`onair ${args.join(" ")} exited ${code}`);
}

async function startDaemon(dir: string): Promise<Daemon> {
  const child = spawn(
    process.execPath,
    [
      "--max-semi-space-size=1",
      join(repoRoot(), "bin", "onair.js"),
      ...["run", "--profiles-dir", join(dir, "profiles"), "--data-dir", join(dir, "data"), "--http", "127.0.0.1:0"],
      ...["--allow-clear-profiles", "--key-file", join(dir, "key"), "--api-token-file", join(dir, "api.token")],
    ],
    { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ONAIR_CONFIG: join(dir, "onair.yaml"), MALLOC_ARENA_MAX: "2" } },
  );
  let out = "";
  const keep = (c: Buffer): void => {
    out = (out + c.toString("utf8")).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  const end = Date.now() + 30_000;
  for (;;) {
    const m = /listening on (http:\/\/\S+)/.exec(out);
    if (m) return { child, url: m[1], log: () => out };
    if (child.exitCode !== null || Date.now() > end) {
      child.kill("SIGKILL");
      throw new Error(`the daemon did not start: ${out.slice(-2000)}`);
    }
    await sleep(50);
  }
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.child.exitCode !== null || d.child.signalCode !== null) return;
  const exited = once(d.child, "exit");
  d.child.kill("SIGTERM");
  const timer = setTimeout(() => d.child.kill("SIGKILL"), 20_000);
  await exited;
  clearTimeout(timer);
}

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: text };
  }
}

/** One console: GET /api/v1/stream, reading everything; counts bytes and events. */
class Client {
  bytes = 0;
  events = 0;
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;

  open(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.req = get(`${url}/api/v1/stream`, { headers: { accept: "text/event-stream" } }, (res) => {
        this.res = res;
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`GET /api/v1/stream: ${res.statusCode}`));
          return;
        }
        res.on("data", (c: Buffer) => {
          this.bytes += c.length;
          for (let i = c.indexOf("\nevent: "); i >= 0; i = c.indexOf("\nevent: ", i + 1)) this.events++;
          if (c.subarray(0, 7).toString() === "event: ") this.events++;
        });
        res.on("error", () => undefined);
        resolve();
      });
      this.req.on("error", reject);
    });
  }

  close(): void {
    this.res?.destroy();
    this.req?.destroy();
  }
}

interface Phase {
  cpu: number;
  bytesPerSecond: number;
  eventsPerSecond: number;
}

async function measure(pid: number, clients: Client[], seconds: number): Promise<Phase> {
  const b0 = clients.reduce((n, c) => n + c.bytes, 0);
  const e0 = clients.reduce((n, c) => n + c.events, 0);
  const c0 = procCpu(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const wall = (performance.now() - t0) / 1000;
  const cpu = ((procCpu(pid) - c0) / wall) * 100;
  const bytes = clients.reduce((n, c) => n + c.bytes, 0) - b0;
  const events = clients.reduce((n, c) => n + c.events, 0) - e0;
  return { cpu, bytesPerSecond: bytes / wall, eventsPerSecond: events / wall };
}

export async function run(): Promise<void> {
  const n = Math.round(envNumber("ONAIR_BENCH_SSE_CHANNELS", 4, 1));
  const clientsWanted = Math.round(envNumber("ONAIR_BENCH_SSE_CLIENTS", 8, 1));
  const seconds = envNumber("ONAIR_BENCH_SSE_SECONDS", 60, 6);
  const dir = mkdtempSync(join(tmpdir(), "onair-bench-sse-"));
  const sink: Socket = createSocket("udp4");
  sink.on("message", () => undefined);
  await new Promise<void>((r) => sink.bind(0, "127.0.0.1", r));
  const port = sink.address().port;
  let d: Daemon | undefined;
  const clients: Client[] = [];
  try {
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    mkdirSync(join(dir, "data"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `bench:sse-bench-token-0123456789abcdef\n`, { mode: 0o600 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: warn\nconsole:\n  thumbnails: false\n");
    await runCli(["profile", "keygen", "--out", join(dir, "key")]);
    const ids = Array.from({ length: n }, (_, i) => `sse${i + 1}`);
    for (const id of ids) writeFileSync(join(dir, "profiles", `${id}.json`), JSON.stringify(profile(id, port)));
    d = await startDaemon(dir);
    const daemon = d;
    const pid = daemon.child.pid!;
    // every channel on air
    const end = Date.now() + 60_000;
    for (;;) {
      const r = await getJson(`${daemon.url}/api/v1/channels`);
      const list = (r.body as { channels?: { state: string }[] }).channels ?? [];
      if (r.status === 200 && list.length === n && list.every((c) => c.state === "on_air")) break;
      if (Date.now() > end) throw new Error(`channels not on air within 60 s: ${JSON.stringify(r.body).slice(0, 500)}`);
      await sleep(500);
    }
    const probe = new Client();
    try {
      await probe.open(daemon.url);
    } catch (e) {
      line(`SSE bench written but unmeasured: ${(e as Error).message} (the stream route does not answer yet)`);
      return;
    } finally {
      probe.close();
    }
    line(
      `daemon          ${n} channels (320x180 testsrc2 25 fps, libx264 ultrafast, CBR 1 Mb/s, UDP out), thumbnails off; its CPU (FFmpeg children excluded), % of one core, ${ROUNDS} rounds of the three cases interleaved, ${(seconds / ROUNDS).toFixed(0)} s each`,
    );
    await sleep(WARMUP_MS);
    const cases = [0, 1, clientsWanted];
    const results = cases.map(() => [] as Phase[]);
    for (let r = 0; r < ROUNDS; r++) {
      for (let k = 0; k < cases.length; k++) {
        while (clients.length > cases[k]) clients.pop()!.close();
        while (clients.length < cases[k]) {
          const c = new Client();
          clients.push(c);
          await c.open(daemon.url);
        }
        await sleep(SETTLE_MS);
        results[k].push(await measure(pid, clients, seconds / ROUNDS));
      }
    }
    const mean = (ps: Phase[], f: (p: Phase) => number): number => ps.reduce((a, p) => a + f(p), 0) / ps.length;
    const spread = (ps: Phase[]): string =>
      `${Math.min(...ps.map((p) => p.cpu)).toFixed(2)}–${Math.max(...ps.map((p) => p.cpu)).toFixed(2)}`;
    const [none, one, many] = results.map((ps) => ({
      cpu: mean(ps, (p) => p.cpu),
      bytesPerSecond: mean(ps, (p) => p.bytesPerSecond),
      eventsPerSecond: mean(ps, (p) => p.eventsPerSecond),
      spread: spread(ps),
    }));
    const f = (x: number): string => x.toFixed(2);
    line(`0 clients       ${f(none.cpu)} %  (rounds ${none.spread})`);
    line(
      `1 client        ${f(one.cpu)} %  (rounds ${one.spread}; ${one.eventsPerSecond.toFixed(1)} events/s, ${one.bytesPerSecond.toFixed(0)} B/s; the feed's tick and counters run from the first stream on)`,
    );
    line(
      `${clientsWanted} clients       ${f(many.cpu)} %  (rounds ${many.spread}; ${many.eventsPerSecond.toFixed(1)} events/s, ${(many.bytesPerSecond / 1024).toFixed(1)} KiB/s to all of them)`,
    );
    const perChannelClient = (many.cpu - none.cpu) / (n * clientsWanted);
    const perExtra = clientsWanted > 1 ? (many.cpu - one.cpu) / (n * (clientsWanted - 1)) : Number.NaN;
    line(
      `SSE per channel per client  ${perChannelClient.toFixed(3)} % of one core (${clientsWanted} clients vs none, /${n} channels /${clientsWanted} clients); each client after the first ${perExtra.toFixed(3)} %; differences under the rounds' spread are noise`,
    );
  } finally {
    for (const c of clients) c.close();
    if (d) await stopDaemon(d);
    sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
