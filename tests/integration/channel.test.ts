/**
 * A channel on air with real FFmpeg and real UDP on 127.0.0.1: the output carries the
 * injected SCTE-35 and SI, survives FFmpeg being killed and the input going silent (slate),
 * and one failing output does not stop the others.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observe/logger.js";
import { Channel } from "../../src/pipeline/channel.js";
import type { SpawnFn } from "../../src/pipeline/child.js";
import { decodeSpliceInfoSection, type SpliceInsert } from "../../src/scte35/index.js";
import { PmtSection } from "../../src/ts/pmt.js";
import { ptsDiff } from "../../src/ts/timestamps.js";
import { openStore, type Store } from "../../src/store/db.js";
import { testProfile, udpCapture, type Capture } from "../helpers/channel.js";
import { haveFfmpeg, runFfprobeJson } from "../helpers/ffmpeg.js";
import { childPids, freeUdpPort, openFds, until, waitEvent } from "../helpers/pipeline.js";
import { emfileChild } from "../helpers/spawn-faults.js";
import { pcrAtPacket, scanTs } from "../helpers/tsscan.js";

const quiet = createLogger({ level: "silent" });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.runIf(haveFfmpeg())("a channel on air", () => {
  let dir = "";
  let store: Store;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-channel-"));
    store = openStore(join(dir, "onair.db"));
  });
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    expect(childPids()).toEqual([]);
  });

  it("puts a valid TS on UDP with the SCTE-35 PID, a cue on an IDR at the scheduled break, EIT and SDT", async () => {
    const cap = await udpCapture();
    const now = Date.now();
    store.replaceItems(
      "t1",
      now - 600_000,
      now + 3_600_000,
      [
        { startMs: now - 600_000, durationMs: 615_000, title: "Morning news", breaks: [] },
        { startMs: now + 15_000, durationMs: 3_000_000, title: "Afternoon film", breaks: [] },
      ] as never,
      [{ channel: "t1", startMs: now + 11_000, durationMs: 5000, breakId: "b1" }] as never,
    );
    const ch = new Channel({ profile: testProfile({ udpPort: cap.port }), store, logger: quiet, dataDir: dir });
    try {
      await ch.start();
      await until(() => ch.status().injector.cuesSent.splice_insert === 3, 25_000, "three cue sends");
      await sleep(6000); // past the splice point, so the IDR it names is in the capture
    } finally {
      await ch.stop();
      await cap.close();
    }
    for (const d of cap.datagrams) expect(d.length % 188).toBe(0);
    const file = join(dir, "capture.ts");
    writeFileSync(file, cap.bytes());
    const scan = scanTs(file, [500, 0x1000, 0x11, 0x12]);
    expect(scan.resyncs).toBe(0);
    expect([...scan.ccErrors]).toEqual([]);
    const pmt = PmtSection.decode(scan.sections.find((s) => s.pid === 0x1000)!.bytes);
    expect(pmt.streams.find((s) => s.elementaryPid === 500)?.streamType).toBe(0x86);
    const cues = scan.sections.filter((s) => s.pid === 500).map((s) => ({ s, c: decodeSpliceInfoSection(s.bytes) }));
    expect(cues).toHaveLength(3);
    const first = cues[0].c;
    if (first.encryptedPacket) throw new Error("encrypted");
    const cmd = first.spliceCommand as SpliceInsert;
    const splice = cmd.spliceTime!.ptsTime!;
    expect(ptsDiff(splice, pcrAtPacket(scan, cues[0].s.packet))).toBeGreaterThanOrEqual(4 * 90000);
    expect(cmd.breakDuration?.duration).toBe(5 * 90000);
    const v = await runFfprobeJson<{ packets: Array<{ pts: number; flags: string }> }>([
      "-select_streams",
      "v",
      "-show_entries",
      "packet=pts,flags",
      file,
    ]);
    expect(v.packets.filter((p) => p.flags.startsWith("K")).map((p) => p.pts)).toContain(splice);
    // SI from the schedule: our SDT (both EIT flags), EIT p/f and schedule sections
    expect(scan.sections.some((s) => s.pid === 0x11 && s.bytes[0] === 0x42)).toBe(true);
    expect(scan.sections.some((s) => s.pid === 0x12 && s.bytes[0] === 0x4e)).toBe(true);
    expect(scan.sections.some((s) => s.pid === 0x12 && s.bytes[0] === 0x50)).toBe(true);
    const probe = await runFfprobeJson<{ programs: Array<{ tags?: Record<string, string> }> }>(["-show_programs", file]);
    expect(probe.programs[0].tags).toMatchObject({ service_name: "Test One", service_provider: "onair tests" });
  }, 60_000);

  it("keeps the output going through 20 kills of FFmpeg: slate fills, live is back within 1 s, nothing leaks", async () => {
    const cap = await udpCapture();
    const ch = new Channel({
      profile: testProfile({ id: "t2", udpPort: cap.port, epg: { enabled: false } }),
      store,
      logger: quiet,
      dataDir: dir,
    });
    const backAfterStart: number[] = [];
    let startedAt = 0;
    ch.on("slate", (e) => {
      if (!e.on && startedAt) backAfterStart.push(performance.now() - startedAt);
    });
    let fdsBefore = 0;
    let rssAfterFirst = 0;
    try {
      await ch.start();
      await waitEvent(ch, "state", 10_000, (s) => s === "on_air");
      await sleep(1000);
      fdsBefore = openFds();
      const t0 = performance.now();
      for (let k = 0; k < 20; k++) {
        const pid = ch.status().live.pid!;
        const recovered = waitEvent<{ on: boolean }>(ch, "slate", 10_000, (e) => !e.on);
        startedAt = 0;
        process.kill(pid, "SIGKILL");
        ch.once("started", () => (startedAt = performance.now()));
        await recovered;
        await sleep(700);
        if (k === 0) rssAfterFirst = process.memoryUsage().rss;
      }
      const s = ch.status();
      expect(s.live.restartsByReason.signal).toBe(20);
      expect(s.source).toBe("live");
      expect(cap.maxGap(t0)).toBeLessThan(1000);
      expect(backAfterStart.length).toBe(20);
      for (const ms of backAfterStart) expect(ms).toBeLessThan(1000);
      // one live and one slate FFmpeg, whatever happened
      expect(childPids()).toHaveLength(2);
      expect(openFds()).toBeLessThanOrEqual(fdsBefore + 2);
      expect(process.memoryUsage().rss - rssAfterFirst).toBeLessThan(30 * 1024 * 1024);
    } finally {
      await ch.stop();
      await cap.close();
    }
    const scan = scanTs(cap.bytes(), []);
    expect(scan.resyncs).toBe(0);
    expect([...scan.ccErrors]).toEqual([]);
    expect(childPids()).toEqual([]);
  }, 120_000);

  it("airs the slate within 1 s of a network input going silent, and goes back when it returns", async () => {
    const cap = await udpCapture();
    const inPort = await freeUdpPort();
    const sender = (): ChildProcess =>
      spawn(
        "ffmpeg",
        [
          "-hide_banner",
          "-nostdin",
          "-loglevel",
          "error",
          "-re",
          "-f",
          "lavfi",
          "-i",
          "testsrc2=size=320x240:rate=25",
          "-f",
          "lavfi",
          "-i",
          "sine=frequency=500:sample_rate=48000",
          "-c:v",
          "libx264",
          "-preset",
          "ultrafast",
          "-g",
          "25",
          "-c:a",
          "aac",
          "-f",
          "mpegts",
          `udp://127.0.0.1:${inPort}?pkt_size=1316`,
        ],
        { stdio: "ignore" },
      );
    const profile = testProfile({
      id: "t3",
      udpPort: cap.port,
      input: { kind: "udp", url: `udp://127.0.0.1:${inPort}`, timeoutSeconds: 2 },
      epg: { enabled: false },
      restart: { backoffMinSeconds: 0.1, backoffMaxSeconds: 1, stallTimeoutSeconds: 5 },
    });
    const ch = new Channel({ profile, store, logger: quiet, dataDir: dir });
    const inputEvents: string[] = [];
    const crashReasons: string[] = [];
    ch.on("input_lost", (e) => inputEvents.push(`lost:${e.reason}`));
    ch.on("input_restored", (e) => inputEvents.push(`restored:${e.downMs > 3000 ? "ok" : e.downMs}`));
    ch.on("crashed", (e) => crashReasons.push(e.reason));
    let src = sender();
    try {
      await ch.start();
      await waitEvent(ch, "state", 15_000, (s) => s === "on_air");
      await sleep(2000);
      const slateOn = waitEvent<{ on: boolean }>(ch, "slate", 5000, (e) => e.on);
      const killedAt = performance.now();
      src.kill("SIGKILL");
      await slateOn;
      expect(performance.now() - killedAt).toBeLessThan(1000);
      expect(ch.status().source).toBe("slate");
      await sleep(3000);
      const back = waitEvent<{ on: boolean }>(ch, "slate", 20_000, (e) => !e.on);
      src = sender();
      await back;
      expect(ch.status().source).toBe("live");
      await sleep(1000);
      expect(cap.maxGap(killedAt - 2000)).toBeLessThan(1000);
      expect(ch.status().outputs[0].droppedChunks).toBe(0);
      // one input_lost for the outage (however many restarts it took), one input_restored
      expect(inputEvents.length, `crashes: ${crashReasons.join(", ")}`).toBe(2);
      expect(inputEvents[0]).toMatch(/^lost:(input_unreachable|silent)$/);
      expect(inputEvents[1]).toBe("restored:ok");
    } finally {
      src.kill("SIGKILL");
      await ch.stop();
      await cap.close();
    }
    expect([...scanTs(cap.bytes(), []).ccErrors]).toEqual([]);
  }, 90_000);

  it("restart() (the API's) starts the new FFmpeg beside the old one and takes over at its first packet: no slate, no gap", async () => {
    const cap = await udpCapture();
    const ch = new Channel({
      profile: testProfile({ id: "t5", udpPort: cap.port, epg: { enabled: false } }),
      store,
      logger: quiet,
      dataDir: dir,
    });
    const sw = (ch as unknown as { switcher: { slatePackets: number; handovers: number } }).switcher;
    const slates: unknown[] = [];
    const crashes: unknown[] = [];
    try {
      await ch.start();
      await waitEvent(ch, "state", 10_000, (s) => s === "on_air");
      await sleep(1000);
      ch.on("slate", (e) => slates.push(e));
      ch.on("crashed", (e) => crashes.push(e));
      const oldPid = ch.status().live.pid!;
      const slateBefore = sw.slatePackets;
      const t0 = performance.now();
      expect(ch.restart()).toBe(true);
      await until(() => sw.handovers === 1 && ch.status().live.replacements.manual === 1, 10_000, "the handover");
      await sleep(500);
      const s = ch.status();
      expect(s.live.pid).not.toBe(oldPid);
      expect(s.source).toBe("live");
      expect(s.live.restarts).toBe(0);
      expect(sw.slatePackets).toBe(slateBefore);
      expect(slates).toEqual([]);
      expect(crashes).toEqual([]);
      const gap = cap.maxGap(t0);
      console.log(`[measure] manual restart with overlap: largest gap between output datagrams ${gap.toFixed(0)} ms`);
      expect(gap).toBeLessThan(500);
      await until(() => childPids().length === 2, 5000, "the old FFmpeg to end"); // one live, one slate
    } finally {
      await ch.stop();
      await cap.close();
    }
    const scan = scanTs(cap.bytes(), []);
    expect([...scan.ccErrors]).toEqual([]);
    expect(scan.resyncs).toBe(0);
  }, 60_000);

  it("holds live, not the slate, when the old FFmpeg goes quiet for 420 ms while its overlapped replacement starts", async () => {
    const cap = await udpCapture();
    const ch = new Channel({
      profile: testProfile({ id: "t5b", udpPort: cap.port, epg: { enabled: false } }),
      store,
      logger: quiet,
      dataDir: dir,
    });
    const sw = (ch as unknown as { switcher: { slatePackets: number; handovers: number } }).switcher;
    const slates: unknown[] = [];
    const stopped: number[] = [];
    try {
      await ch.start();
      await waitEvent(ch, "state", 10_000, (s) => s === "on_air");
      await sleep(1000);
      ch.on("slate", (e) => slates.push(e));
      const oldPid = ch.status().live.pid!;
      const slateBefore = sw.slatePackets;
      const t0 = performance.now();
      // a loaded box: the running FFmpeg gets no CPU while its successor starts (and the
      // successor is slow to start): live is silent for longer than the 300 ms live timeout
      process.kill(oldPid, "SIGSTOP");
      stopped.push(oldPid);
      expect(ch.restart()).toBe(true);
      const newPid = ch.status().live.pid!;
      expect(newPid).not.toBe(oldPid);
      process.kill(newPid, "SIGSTOP");
      stopped.push(newPid);
      await sleep(420);
      for (const pid of stopped.splice(0)) process.kill(pid, "SIGCONT");
      await until(() => sw.handovers === 1, 10_000, "the handover");
      await sleep(500);
      expect(slates).toEqual([]);
      expect(sw.slatePackets).toBe(slateBefore);
      expect(ch.status().source).toBe("live");
      const gap = cap.maxGap(t0);
      console.log(
        `[measure] overlapped replacement with both FFmpegs stopped 420 ms: largest gap between output datagrams ${gap.toFixed(0)} ms`,
      );
      expect(gap).toBeGreaterThan(300); // the hold did happen
      expect(gap).toBeLessThan(1000);
    } finally {
      for (const pid of stopped) process.kill(pid, "SIGCONT");
      await ch.stop();
      await cap.close();
    }
    expect([...scanTs(cap.bytes(), []).ccErrors]).toEqual([]);
  }, 60_000);

  it("keeps the UDP output flowing while a recording output cannot write", async () => {
    const cap = await udpCapture();
    const blocker = join(dir, "not-a-dir");
    writeFileSync(blocker, "x");
    const profile = testProfile({
      id: "t4",
      udpPort: cap.port,
      extraOutputs: [{ kind: "file", path: join(blocker, "rec-%H%M%S.ts"), rotateSeconds: 60, keep: 2 }],
      epg: { enabled: false },
    });
    const ch = new Channel({ profile, store, logger: quiet, dataDir: dir });
    const outputErrors: Array<{ output: string; error: string }> = [];
    ch.on("output_error", (e) => outputErrors.push(e));
    try {
      await ch.start();
      await waitEvent(ch, "state", 10_000, (s) => s === "on_air");
      const t0 = performance.now();
      await sleep(4000);
      // one output_error for the episode, naming the output (the recording keeps retrying)
      expect(outputErrors).toEqual([{ output: `file:${join(blocker, "rec-%H%M%S.ts")}`, error: expect.stringMatching(/^E[A-Z]+$/) }]);
      const outs = ch.status().outputs;
      const file = outs.find((o) => o.name.startsWith("file:"))!;
      expect(file.errors).toBeGreaterThan(0);
      expect(cap.maxGap(t0)).toBeLessThan(1000);
      expect(cap.datagrams.length).toBeGreaterThan(400);
    } finally {
      await ch.stop();
      await cap.close();
    }
  }, 60_000);

  it("refuses to start without FFmpeg, naming ONAIR_FFMPEG_NOT_FOUND and the install command", async () => {
    const cap: Capture = await udpCapture();
    const ch = new Channel({
      profile: testProfile({ id: "t5", udpPort: cap.port }),
      store,
      logger: quiet,
      dataDir: dir,
      ffmpegPath: "/nonexistent/ffmpeg",
    });
    await expect(ch.start()).rejects.toMatchObject({
      code: "ONAIR_FFMPEG_NOT_FOUND",
      message: expect.stringContaining("apt-get install -y ffmpeg"),
    });
    await ch.stop();
    await cap.close();
  });

  it("goes on air without a slate when the slate encoder cannot start (EMFILE), and makes the slate on a retry", async () => {
    const cap = await udpCapture();
    const dataDir = mkdtempSync(join(tmpdir(), "onair-channel-slate-")); // no slate clip made yet
    let failed = 0;
    const spawnFn: SpawnFn = (command, args, options) => {
      // the slate encoder (`-t SECONDS … OUT.part.ts`), once
      if (failed === 0 && args.some((a) => a.endsWith(".part.ts"))) {
        failed++;
        return emfileChild();
      }
      return spawn(command, args, options);
    };
    const lines: string[] = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => void lines.push(l) } });
    const ch = new Channel({
      profile: testProfile({ id: "t6", udpPort: cap.port, epg: { enabled: false } }),
      store,
      logger,
      dataDir,
      spawn: spawnFn,
    });
    try {
      await ch.start();
      expect(ch.status().slate).toBeUndefined();
      await until(() => ch.status().live.state === "running", 20_000, "live on air");
      await until(() => ch.status().slate?.state === "running", 20_000, "the slate made on a retry");
    } finally {
      await ch.stop();
      await cap.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    expect(failed).toBe(1);
    expect(lines.find((l) => l.includes('"event":"slate_deferred"'))).toMatch(
      /ONAIR_SPAWN_FAILED[\s\S]*EMFILE|EMFILE[\s\S]*ONAIR_SPAWN_FAILED/,
    );
  }, 60_000);
});
