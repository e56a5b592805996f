/**
 * sd_notify through systemd-notify: nothing is sent without $NOTIFY_SOCKET, the watchdog
 * only runs when systemd asked for it (and for our pid), a missing binary is logged and
 * never throws; and the real systemd-notify delivers READY=1, WATCHDOG=1 and STOPPING=1 to
 * an AF_UNIX datagram socket (a python3 listener standing in for systemd, which Node
 * cannot be: it has no unix datagram sockets).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, silentLogger } from "../../src/observe/logger.js";
import { DEFAULT_SYSTEMD_NOTIFY, SdNotifier } from "../../src/observe/sdnotify.js";
import { until } from "../helpers/pipeline.js";
import { emfileChild, throwingSpawn } from "../helpers/spawn-faults.js";

const havePython = spawnSync("python3", ["-c", "import socket; socket.AF_UNIX"], { stdio: "ignore" }).status === 0;
const haveNotify = existsSync(DEFAULT_SYSTEMD_NOTIFY);

/** Receives datagrams on a unix socket, prints each (newlines as |), closes passed fds (systemd-notify's barrier waits for that). */
const LISTENER = `
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    data, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
    for level, typ, d in anc:
        if level == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(d[: len(d) - (len(d) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    print(data.decode().replace("\\n", "|"), flush=True)
`;

let dir = "";
let listener: ChildProcess | undefined;

afterEach(async () => {
  const l = listener;
  listener = undefined;
  if (l && l.exitCode === null && l.signalCode === null) {
    const gone = new Promise((r) => l.once("exit", r));
    l.kill("SIGTERM");
    await gone;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = "";
});

describe("SdNotifier", () => {
  it("sends nothing without $NOTIFY_SOCKET", async () => {
    let spawned = 0;
    const n = new SdNotifier({
      env: { WATCHDOG_USEC: "1000000" },
      logger: silentLogger(),
      spawn: () => {
        spawned++;
        throw new Error("must not spawn");
      },
    });
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs).toBeUndefined();
    expect(await n.ready()).toBe(false);
    n.startWatchdog();
    expect(await n.stopping()).toBe(false);
    expect(spawned).toBe(0);
  });

  it("pings the watchdog every WATCHDOG_USEC/2, only when WATCHDOG_PID is unset or ours", () => {
    const base = { NOTIFY_SOCKET: "/run/systemd/notify", WATCHDOG_USEC: "30000000" };
    expect(new SdNotifier({ env: base, logger: silentLogger(), pid: 42 }).watchdogIntervalMs).toBe(15_000);
    expect(new SdNotifier({ env: { ...base, WATCHDOG_PID: "42" }, logger: silentLogger(), pid: 42 }).watchdogIntervalMs).toBe(15_000);
    expect(new SdNotifier({ env: { ...base, WATCHDOG_PID: "43" }, logger: silentLogger(), pid: 42 }).watchdogIntervalMs).toBeUndefined();
    expect(new SdNotifier({ env: { NOTIFY_SOCKET: "/run/systemd/notify" }, logger: silentLogger() }).watchdogIntervalMs).toBeUndefined();
  });

  it("runs the systemd-notify on $PATH (as the unit's PATH finds it), else /usr/bin/systemd-notify", async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-sdnotify-"));
    const bin = join(dir, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "systemd-notify"), `#!/bin/sh\necho "$*" >> "${join(dir, "args")}"\n`, { mode: 0o755 });
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: join(dir, "notify.sock"), PATH: `${bin}:/usr/bin:/bin` }, logger: silentLogger() });
    expect(await n.ready("1 channel")).toBe(true);
    expect(readFileSync(join(dir, "args"), "utf8")).toBe("--ready STATUS=1 channel\n");
    const spawned: string[] = [];
    const spawn = (cmd: string): never => {
      spawned.push(cmd);
      throw new Error("not run");
    };
    await new SdNotifier({
      env: { NOTIFY_SOCKET: "/run/systemd/notify", PATH: join(dir, "empty") },
      logger: silentLogger(),
      spawn,
    }).ready();
    expect(spawned).toEqual([DEFAULT_SYSTEMD_NOTIFY]);
  });

  it("logs a missing systemd-notify once and goes on", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(l) } });
    const n = new SdNotifier({ env: { NOTIFY_SOCKET: "/nonexistent/notify" }, logger, binary: "/nonexistent/systemd-notify" });
    expect(await n.ready()).toBe(false);
    expect(await n.ready()).toBe(false);
    expect(n.failures).toBe(2);
    await until(() => lines.some((l) => l.includes("systemd_notify_failed")), 2000, "the log line");
    expect(lines.filter((l) => l.includes("systemd_notify_failed"))).toHaveLength(1);
  });

  it("takes a systemd-notify that cannot be started (out of file descriptors, spawn throwing) as a failed message, never a throw", async () => {
    for (const spawn of [() => emfileChild(), throwingSpawn("EAGAIN")]) {
      const n = new SdNotifier({ env: { NOTIFY_SOCKET: "/run/systemd/notify" }, logger: silentLogger(), spawn });
      expect(await n.ready()).toBe(false);
      expect(n.failures).toBe(1);
    }
  });

  it.runIf(havePython && haveNotify)(
    "delivers READY=1, WATCHDOG=1 at the asked period and STOPPING=1 through the real systemd-notify",
    async () => {
      dir = mkdtempSync(join(tmpdir(), "onair-sdnotify-"));
      const sock = join(dir, "notify.sock");
      writeFileSync(join(dir, "listen.py"), LISTENER);
      const got: Array<{ text: string; at: number }> = [];
      let buf = "";
      listener = spawn("python3", [join(dir, "listen.py"), sock], { stdio: ["ignore", "pipe", "inherit"] });
      listener.stdout!.on("data", (c: Buffer) => {
        buf += c.toString();
        let i: number;
        while ((i = buf.indexOf("\n")) >= 0) {
          got.push({ text: buf.slice(0, i), at: performance.now() });
          buf = buf.slice(i + 1);
        }
      });
      await until(() => got.some((g) => g.text === "listening"), 10_000, "the listener");
      const usec = 300_000;
      const n = new SdNotifier({
        env: { ...process.env, NOTIFY_SOCKET: sock, WATCHDOG_USEC: String(usec) },
        logger: silentLogger(),
        binary: DEFAULT_SYSTEMD_NOTIFY,
      });
      expect(await n.ready("2 channels")).toBe(true);
      n.startWatchdog();
      await until(() => got.filter((g) => g.text === "WATCHDOG=1").length >= 6, 10_000, "six watchdog pings");
      expect(await n.stopping()).toBe(true);
      await until(() => got.some((g) => g.text.includes("STOPPING=1")), 5000, "STOPPING=1");
      const texts = got.map((g) => g.text).filter((t) => t !== "listening" && t !== "BARRIER=1");
      expect(texts[0]).toBe("READY=1|STATUS=2 channels");
      // STOPPING=1 is the last message: the watchdog stopped first
      expect(texts[texts.length - 1]).toBe("STOPPING=1");
      const pings = got.filter((g) => g.text === "WATCHDOG=1").map((g) => g.at);
      const gaps = pings.slice(1).map((t, i) => t - pings[i]);
      const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
      const period = usec / 2000;
      expect(mean).toBeGreaterThan(period * 0.8);
      expect(mean).toBeLessThan(period * 1.5);
      expect(n.sent).toBe(pings.length + 2);
    },
    30_000,
  );
});
