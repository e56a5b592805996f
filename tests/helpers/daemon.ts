/** Spawns `onair run` as a real process for tests and follows its log. */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { delimiter, dirname, join } from "node:path";
import { onairBin } from "./cli.js";
import { alive, until } from "./pipeline.js";

export interface Daemon {
  child: ChildProcessWithoutNullStreams;
  url: string;
  log: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** pids of every FFmpeg the daemon started, from its logs */
  ffmpegPids: () => number[];
}

/**
 * `dir` holds profiles/, data/, key, api.token and onair.yaml (the global config, so nothing
 * from /etc/onair is read). `env` is added to the daemon's environment.
 */
export async function startDaemon(dir: string, extra: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
  // executed as the systemd units do (its shebang runs the `node` on PATH, with its flags)
  const child = spawn(
    onairBin,
    [
      "run",
      "--profiles-dir",
      join(dir, "profiles"),
      "--data-dir",
      join(dir, "data"),
      "--http",
      "127.0.0.1:0",
      "--allow-clear-profiles",
      "--key-file",
      join(dir, "key"),
      "--api-token-file",
      join(dir, "api.token"),
      ...extra,
    ],
    {
      stdio: ["pipe", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
        ONAIR_CONFIG: join(dir, "onair.yaml"),
        ...env,
      },
    },
  );
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("exit", (code, signal) => r({ code, signal })),
  );
  await until(() => /listening on (http:\/\/\S+)/.test(out) || child.exitCode !== null, 30_000, "the daemon to listen");
  const m = /listening on (http:\/\/\S+)/.exec(out);
  if (!m) throw new Error(`daemon did not start: ${out}`);
  return {
    child,
    url: m[1],
    log: () => out,
    exited,
    ffmpegPids: () => [...out.matchAll(/"event":"ffmpeg\.started","pid":(\d+)/g)].map((x) => Number(x[1])),
  };
}

/**
 * SIGTERM to a daemon still running, then waits for it and for every FFmpeg it started to
 * be gone (test teardown; a daemon already ended or never started is left alone).
 */
export async function stopDaemon(d: Daemon | undefined): Promise<void> {
  if (!d || d.child.exitCode !== null || d.child.signalCode !== null) return;
  const pids = d.ffmpegPids();
  d.child.kill("SIGTERM");
  await d.exited;
  await until(() => pids.every((p) => !alive(p)), 10_000, "FFmpeg children to end");
}

/** Pids of a channel's live FFmpeg (not the slate's) in start order, from the daemon's log. */
export function livePids(log: string, channel: string): number[] {
  const out: number[] = [];
  for (const line of log.split("\n")) {
    if (!line.includes('"event":"ffmpeg.started"') || line.includes('"part":"slate"') || !line.includes(`"channel":"${channel}"`)) continue;
    const m = /"pid":(\d+)/.exec(line);
    if (m) out.push(Number(m[1]));
  }
  return out;
}
