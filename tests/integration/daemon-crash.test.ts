/**
 * The daemon's own death, end to end through `onair run` and a local stand-in for
 * Telegram's API (issue 23):
 * - an uncaught exception (thrown by a preload from tests/, crash-preload.mjs) ends the
 *   daemon non-zero with no FFmpeg left, and the next start sends one "restarted after a
 *   crash" naming the error;
 * - a start that fails (its HTTP port taken) is a crash too: the next start names its error;
 * - a kill -9 followed by a start sends "restarted after an unclean exit".
 * Each case has its own data directory: two ends within 15 minutes in one store are one
 * crash window (a first message, then a summary), which the unit tests cover.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { crashEnv } from "../helpers/crash.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { alive, childPids, until } from "../helpers/pipeline.js";

const BOT_TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const CHANNEL = "crash";

/** Pids of live ffmpeg processes whose command line names `text`. */
function ffmpegNaming(text: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = readFileSync(`/proc/${d}/cmdline`, "utf8");
      if (cmd.includes("ffmpeg") && cmd.includes(text) && alive(Number(d))) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

describe.runIf(haveFfmpeg())("onair run: alerts about its own death", () => {
  let root = "";
  let tg: FakeTelegram;
  const caps: Capture[] = [];
  const daemons: Daemon[] = [];

  /** A directory with one channel whose alerts go to chat 77 of the fake Telegram. */
  async function setup(name: string): Promise<string> {
    const dir = join(root, name);
    mkdirSync(join(dir, "profiles"), { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, "onair.yaml"), `telegram:\n  apiRoot: ${tg.url}\n`);
    const cap = await udpCapture();
    caps.push(cap);
    const profile = {
      ...testProfileInput({ id: CHANNEL, udpPort: cap.port, epg: { enabled: false } }),
      alerts: { telegram: { chatIds: [77], botToken: BOT_TOKEN, events: ["channel_down"] } },
    };
    writeFileSync(join(dir, "profiles", `${CHANNEL}.json`), JSON.stringify(profile));
    writeFileSync(join(dir, "api.token"), "tests:daemon-crash-api-token-0123456789\n", { mode: 0o600 });
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    return dir;
  }

  async function start(dir: string, env: NodeJS.ProcessEnv = {}, extra: string[] = []): Promise<Daemon> {
    const d = await startDaemon(dir, extra, env);
    daemons.push(d);
    return d;
  }

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "onair-crash-"));
    tg = new FakeTelegram();
    await tg.start();
  });

  afterAll(async () => {
    for (const d of daemons) await stopDaemon(d);
    // FFmpeg of the kill -9'd daemon (they end on their own at the broken pipe)
    for (const d of daemons) for (const p of d.ffmpegPids()) if (alive(p)) process.kill(p, "SIGKILL");
    await tg?.stop();
    for (const c of caps) await c.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("an uncaught exception: exits non-zero, leaves no FFmpeg, and the next start says so naming the error", async () => {
    const dir = await setup("throw");
    const control = join(dir, "crash-now");
    const message = `boom-xyz-${process.pid}`;
    writeFileSync(control, message);
    const env = crashEnv(control);
    const d = await start(dir, env);
    const children = new Set<number>();
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    void d.exited.then((e) => (exit = e));
    await until(
      () => {
        if (d.child.pid !== undefined) for (const p of childPids(d.child.pid)) children.add(p);
        return exit !== undefined;
      },
      20_000,
      "the daemon to crash",
    );
    expect(exit).toEqual({ code: 1, signal: null });
    expect(d.log()).toContain('"event":"daemon_crash"');
    const ffmpeg = d.ffmpegPids();
    expect(ffmpeg.length).toBeGreaterThan(0);
    expect([...children].filter(alive)).toEqual([]);
    expect(ffmpeg.filter(alive)).toEqual([]);
    expect(ffmpegNaming(dir)).toEqual([]);
    expect(tg.count(/restarted after/)).toBe(0);

    await start(dir, env);
    await until(() => tg.count(/restarted after a crash/) >= 1, 15_000, "the restart alert");
    const sent = tg.sent.filter((s) => /restarted after/.test(s.text));
    expect(sent).toHaveLength(1);
    expect(sent[0].chatId).toBe("77");
    expect(sent[0].text).toContain(`onair restarted after a crash: <code>Error: ${message}</code>`);
    expect(sent[0].text).toContain(`channels then: ${CHANNEL}: `);
  }, 60_000);

  it("a start that fails (HTTP port taken): the next start reports it as a crash naming the error", async () => {
    const dir = await setup("portbusy");
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, "127.0.0.1", r));
    const port = (busy.address() as AddressInfo).port;
    try {
      await expect(start(dir, {}, ["--http", `127.0.0.1:${port}`])).rejects.toThrow(/ONAIR_HTTP_LISTEN_FAILED/);
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
    await start(dir);
    await until(() => tg.count(/ONAIR_HTTP_LISTEN_FAILED/) >= 1, 15_000, "the restart alert");
    expect(tg.sent.find((s) => /ONAIR_HTTP_LISTEN_FAILED/.test(s.text))?.text).toContain(
      `onair restarted after a crash: <code>ONAIR_HTTP_LISTEN_FAILED: cannot listen on 127.0.0.1:${port}`,
    );
  }, 45_000);

  it("a kill -9: the next start says it was an unclean exit", async () => {
    const dir = await setup("kill9");
    const before = tg.count(/unclean exit/);
    const d = await start(dir);
    await until(() => d.ffmpegPids().length > 0, 15_000, "FFmpeg on air");
    d.child.kill("SIGKILL");
    await d.exited;
    await start(dir);
    await until(() => tg.count(/unclean exit/) > before, 15_000, "the unclean exit alert");
    expect(tg.sent.filter((s) => /unclean exit/.test(s.text)).map((s) => s.text)[0]).toMatch(
      /onair restarted after an unclean exit: no crash record/,
    );
    expect(tg.count(/restarted after a crash/)).toBe(2);
  }, 45_000);
});
