/**
 * Issue 18, defect 1: a local user floods the HTTP port while the daemon runs under a low
 * open-files limit (`prlimit --nofile=256:256` on the running daemon, so the connection cap
 * stays at its default 256 and the flood does exhaust the descriptors). 300 idle
 * connections and an FFmpeg kill: the respawn fails with EMFILE, which is a failed attempt
 * (backoff, retry) and not the end of the daemon; the slate keeps the output going; the
 * server closes the idle connections after 10 s, FFmpeg comes back, /healthz answers.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { livePids, startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { until } from "../helpers/pipeline.js";

const CHANNEL = "flood";
const FLOOD = 300;
const NOFILE = 256;

const fdCount = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;
const logged = (d: Daemon, event: string): string[] =>
  d
    .log()
    .split("\n")
    .filter((l) => l.includes(`"event":"${event}"`));
const ended = (d: Daemon): boolean => d.child.exitCode !== null || d.child.signalCode !== null;
/** Fails with the daemon's last words when it has ended. */
const expectAlive = (d: Daemon): void => expect(ended(d), `the daemon ended:\n${d.log().split("\n").slice(-12).join("\n")}`).toBe(false);

describe.runIf(haveFfmpeg())("onair run under a flood of idle connections and out of file descriptors", () => {
  let dir = "";
  let cap: Capture;
  let d: Daemon | undefined;
  const flood: (Socket & { closedAt?: number })[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-fd-flood-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), "tests:fd-flood-token-0123456789\n", { mode: 0o600 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    cap = await udpCapture();
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    const profile = testProfileInput({
      id: CHANNEL,
      udpPort: cap.port,
      epg: { enabled: false },
      restart: { backoffMinSeconds: 0.2, backoffMaxSeconds: 1, stallTimeoutSeconds: 3 },
    });
    Object.assign((profile.encoding as { video: Record<string, unknown> }).video, { width: 320, height: 180 });
    writeFileSync(join(dir, "profiles", `${CHANNEL}.json`), JSON.stringify(profile));
  });

  afterAll(async () => {
    for (const s of flood) s.destroy();
    await stopDaemon(d);
    await cap.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stays up, keeps the channel on air through a failed respawn (EMFILE) and answers /healthz once the idle connections are closed", async () => {
    d = await startDaemon(dir);
    const pid = d.child.pid!;
    await until(
      () => livePids(d!.log(), CHANNEL).length === 1 && logged(d!, "ffmpeg.started").length === 2,
      20_000,
      "live and slate FFmpeg",
    );
    await until(() => cap.datagrams.length > 100, 20_000, "the channel on UDP");
    const idleFds = fdCount(pid);
    execFileSync("prlimit", ["--pid", String(pid), `--nofile=${NOFILE}:${NOFILE}`]);

    const port = Number(new URL(d.url).port);
    const t0 = performance.now();
    for (let i = 0; i < FLOOD; i++) {
      const s: Socket & { closedAt?: number } = connect(port, "127.0.0.1");
      s.on("error", () => undefined);
      s.on("close", () => (s.closedAt = performance.now()));
      flood.push(s);
    }
    // the daemon holds every descriptor it may: the next spawn cannot have its pipes
    await until(() => fdCount(pid) >= NOFILE - 1, 10_000, "the daemon out of file descriptors");
    const floodFds = fdCount(pid);

    const killedAt = performance.now();
    process.kill(livePids(d.log(), CHANNEL)[0], "SIGKILL");
    await until(
      () => ended(d!) || logged(d!, "ffmpeg.exited").some((l) => l.includes('"reason":"spawn_error"')),
      10_000,
      "a respawn failing",
    );
    expectAlive(d);
    const failed = logged(d, "ffmpeg.exited").find((l) => l.includes('"reason":"spawn_error"'))!;
    expect(failed).toContain("ONAIR_SPAWN_FAILED");
    expect(failed).toContain("EMFILE");

    // the server closes the idle connections; FFmpeg is back; the daemon answers
    await until(() => ended(d!) || flood.every((s) => s.closedAt !== undefined), 15_000, "the idle connections closed by the daemon");
    expectAlive(d);
    const lastClosedMs = Math.max(...flood.map((s) => s.closedAt! - t0));
    await until(() => livePids(d!.log(), CHANNEL).length >= 2 && logged(d!, "ffmpeg.recovered").length >= 1, 10_000, "FFmpeg back on air");
    const backMs = performance.now() - killedAt;
    const health = await fetch(`${d.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    expect(health.status).toBe(200);
    expectAlive(d);

    // the slate covered the failed respawns: the output never stopped
    const gap = cap.maxGap(killedAt);
    const spawnFailures = logged(d, "ffmpeg.exited").filter((l) => l.includes('"reason":"spawn_error"')).length;
    console.log(
      `[measure] fds: ${idleFds} at idle, ${floodFds} in the flood (limit ${NOFILE}); ${spawnFailures} failed respawn(s); idle connections closed by ${(lastClosedMs / 1000).toFixed(1)} s; live back ${(backMs / 1000).toFixed(1)} s after the kill; largest UDP gap ${gap.toFixed(0)} ms`,
    );
    expect(gap).toBeLessThan(1000);
    expect(lastClosedMs).toBeLessThan(12_000);
  }, 60_000);
});
