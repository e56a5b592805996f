/**
 * A playlist channel with real FFmpeg and UDP on 127.0.0.1: three items from the schedule
 * (differing in size, frame rate, track time base, sample rate and B-frames), a gap, an
 * overrun cut at its scheduled end; one FFmpeg run for all of it, an IDR at each item start.
 *
 * Items are plain colours (A red, B green, C blue; the slate is white) with a tone each
 * (440, 880, 1320 Hz), so the output's frames can be told apart by their mean U/V and the
 * audio by its zero crossings. Frame k of the run is PTS P0 + k·3600 (25 fps), P0 being the
 * first video PTS of the live FFmpeg's own stdout.
 */
import type { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observe/logger.js";
import { Channel } from "../../src/pipeline/channel.js";
import type { PlaylistPlan } from "../../src/pipeline/playlist.js";
import { openStore, type Store } from "../../src/store/db.js";
import { testProfile, udpCapture } from "../helpers/channel.js";
import { haveFfmpeg, runFfprobeJson, runTool } from "../helpers/ffmpeg.js";
import { childPids, until } from "../helpers/pipeline.js";
import { scanTs } from "../helpers/tsscan.js";

const quiet = createLogger({ level: process.env.DBG ? "info" : "silent" });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FRAME = 3600; // 90 kHz ticks per frame at 25 fps

/** A colour clip with a tone (H.264 + AAC in MP4). */
async function clip(
  out: string,
  o: { color: string; size: string; rate: number; tone: number; sr: number; seconds: number; extra?: string[] },
): Promise<void> {
  await runTool("ffmpeg", [
    "-hide_banner",
    "-loglevel",
    "error",
    "-y",
    "-f",
    "lavfi",
    "-i",
    `color=c=${o.color}:size=${o.size}:rate=${o.rate}`,
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=${o.tone}:sample_rate=${o.sr}`,
    "-t",
    String(o.seconds),
    "-c:v",
    "libx264",
    "-preset",
    "ultrafast",
    "-pix_fmt",
    "yuv420p",
    ...(o.extra ?? []),
    "-c:a",
    "aac",
    "-b:a",
    "64k",
    out,
  ]);
}

type Colour = "red" | "green" | "blue" | "white" | "?";
function colourOf(y: number, u: number, v: number): Colour {
  if (y > 150 && Math.abs(u - 128) < 20 && Math.abs(v - 128) < 20) return "white";
  if (v > 170) return "red";
  if (u > 170) return "blue";
  if (u < 110 && v < 110) return "green";
  return "?";
}

describe.runIf(haveFfmpeg())("a playlist channel", () => {
  let dir = "";
  let store: Store;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-playlist-"));
    store = openStore(join(dir, "onair.db"));
    await Promise.all([
      clip(join(dir, "a.mp4"), { color: "red", size: "320x180", rate: 25, tone: 440, sr: 48000, seconds: 5 }),
      // another track time base (1/15360), 44.1 kHz, B-frames: what broke the concat demuxer
      clip(join(dir, "b.mp4"), {
        color: "green",
        size: "320x180",
        rate: 30,
        tone: 880,
        sr: 44100,
        seconds: 6,
        extra: ["-bf", "3", "-x264-params", "b-adapt=0"],
      }),
      // a bigger picture, and a name that needs filter-graph escaping
      clip(join(dir, "c, it's.mp4"), { color: "blue", size: "640x360", rate: 25, tone: 1320, sr: 48000, seconds: 5 }),
    ]);
  }, 30_000);
  afterAll(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
    expect(childPids()).toEqual([]);
  });

  // a failure names the replans' differing entries (playlist_replan's `change`)
  it(
    "plays items back to back at their times in one FFmpeg run: filler in the gap, the overrun cut, an IDR at each start",
    { timeout: 45_000 },
    async () => {
      const cap = await udpCapture();
      const T = Math.ceil((Date.now() + 5000) / 1000) * 1000;
      store.replaceItems("pl", T, T + 15_000, [
        { startMs: T, durationMs: 5000, title: "A", media: "a.mp4" },
        // gap T+5 … T+7
        { startMs: T + 7000, durationMs: 3000, title: "B (6 s file, 3 s slot)", media: "b.mp4" },
        { startMs: T + 10_000, durationMs: 5000, title: "C", media: "c, it's.mp4" },
      ]);
      const base = testProfile({ id: "pl", udpPort: cap.port, input: { kind: "playlist", mediaDir: dir }, epg: { enabled: false } });
      const profile = { ...base, slate: { kind: "generated" as const, color: "white" } };
      const logLines: string[] = [];
      const logger = createLogger({ level: "info", destination: { write: (l: string) => logLines.push(l) } });
      const ch = new Channel({ profile, store, logger, dataDir: dir });
      const internals = ch as unknown as { live: EventEmitter & { stderrTail(): string[] }; playlist: { plan: PlaylistPlan | undefined } };
      const tap: Buffer[] = [];
      let firstLiveByteAt = 0;
      internals.live.on("data", (b: Buffer) => {
        firstLiveByteAt ||= Date.now();
        tap.push(b);
      });
      let liveFrom = 0;
      let spawns = 0;
      ch.on("started", () => spawns++);
      ch.on("slate", (e) => {
        if (!e.on && liveFrom === 0) liveFrom = cap.datagrams.length;
      });
      let stderr: string[] = [];
      try {
        await ch.start();
        await until(() => liveFrom > 0, 10_000, "live output");
        const t0 = performance.now();
        await sleep(T + 17_000 - Date.now());
        expect(cap.maxGap(t0)).toBeLessThan(1000);
        stderr = internals.live.stderrTail();
      } finally {
        await ch.stop();
        await cap.close();
      }
      // (1) one FFmpeg run for the whole schedule, the output never paused
      const live = ch.status().live;
      const why = logLines.filter((l) => /playlist_replan|ffmpeg\.(stalled|exited)|playlist_planned/.test(l));
      expect(spawns, JSON.stringify({ restarts: live.restartsByReason, replacements: live.replacements, log: why })).toBe(1);
      expect(live.spawns).toBe(1);
      expect(cap.maxGap()).toBeLessThan(1000);
      // (5) no DTS/PTS complaints from FFmpeg
      expect(stderr.filter((l) => /out of order|non.?monoton/i.test(l))).toEqual([]);

      const plan = internals.playlist.plan!;
      const itemEntries = plan.entries.filter((e) => e.kind === "item");
      expect(itemEntries.map((e) => e.title)).toEqual(["A", "B (6 s file, 3 s slot)", "C"]);
      // the plan puts each item on the frame nearest its scheduled time
      for (const [k, at] of [T, T + 7000, T + 10_000].entries()) expect(Math.abs(itemEntries[k].wallStartMs - at)).toBeLessThanOrEqual(20);
      expect(itemEntries[1].frames).toBe(75); // 3 s of a 6 s file

      const tapFile = join(dir, "live.ts");
      writeFileSync(tapFile, Buffer.concat(tap));
      const first = await runFfprobeJson<{ packets: Array<{ pts: number }> }>([
        "-select_streams",
        "v",
        "-read_intervals",
        "%+#1",
        "-show_entries",
        "packet=pts",
        tapFile,
      ]);
      const p0 = Math.min(...first.packets.map((p) => p.pts));

      // the channel's output (after the injector) from the switch to live on
      const outFile = join(dir, "out.ts");
      writeFileSync(outFile, Buffer.concat(cap.datagrams.slice(liveFrom + 5)));
      const frames = await runFfprobeJson<{
        frames: Array<{ pts: number; key_frame: number; pict_type: string; tags?: Record<string, string> }>;
      }>([
        "-f",
        "lavfi",
        "-i",
        `movie=${outFile.replace(/[\\':,]/g, "\\$&")},signalstats`,
        "-show_entries",
        "frame=pts,key_frame,pict_type:frame_tags=lavfi.signalstats.YAVG,lavfi.signalstats.UAVG,lavfi.signalstats.VAVG",
      ]);
      const pk = await runFfprobeJson<{
        packets: Array<{ pts: number; dts: number; codec_type?: string; stream_index: number; flags: string }>;
      }>(["-show_entries", "packet=pts,dts,stream_index,flags", outFile]);
      // (5) monotonic timestamps on the output, both streams
      for (const idx of [0, 1]) {
        const dts = pk.packets.filter((p) => p.stream_index === idx).map((p) => p.dts);
        let back = 0;
        for (let i = 1; i < dts.length; i++) if (dts[i] <= dts[i - 1]) back++;
        expect(back).toBe(0);
        expect(dts.length).toBeGreaterThan(100);
      }
      // movie= reports PTS in seconds of the 90 kHz stream time base
      const byFrame = new Map<number, { key: boolean; colour: Colour }>();
      for (const f of frames.frames) {
        const t = f.tags ?? {};
        const k = Math.round((Math.round(f.pts) - p0) / FRAME);
        byFrame.set(k, {
          key: f.key_frame === 1,
          colour: colourOf(Number(t["lavfi.signalstats.YAVG"]), Number(t["lavfi.signalstats.UAVG"]), Number(t["lavfi.signalstats.VAVG"])),
        });
      }
      const idrPts = pk.packets.filter((p) => p.stream_index === 0 && p.flags.startsWith("K")).map((p) => Math.round((p.pts - p0) / FRAME));
      const report: string[] = [`first live byte ${firstLiveByteAt - plan.t0Ms} ms after the run's t0 (start-up planned ahead)`];
      // frame 0 is planned for the measured start-up time ahead: items air near their wall times
      expect(Math.abs(firstLiveByteAt - plan.t0Ms)).toBeLessThan(400);
      const colours: Colour[] = ["red", "green", "blue"];
      itemEntries.forEach((e, n) => {
        const s = e.startFrame;
        // (2) an IDR on the item's first frame (±1 frame)
        const near = idrPts.filter((k) => Math.abs(k - s) <= 1);
        report.push(
          `${e.title}: start frame ${s}, IDR at ${near.join("/")}, colour ${byFrame.get(s)?.colour}, before ${byFrame.get(s - 1)?.colour}`,
        );
        expect(near.length).toBeGreaterThan(0);
        expect(byFrame.get(s)?.key).toBe(true);
        // the first frame is the item's, the one before is not
        expect(byFrame.get(s)?.colour).toBe(colours[n]);
        expect(byFrame.get(s - 1)?.colour).not.toBe(colours[n]);
        // the item fills its slot
        for (let k = s; k < s + e.frames; k++) expect(byFrame.get(k)?.colour, `frame ${k} of ${e.title}`).toBe(colours[n]);
      });
      // (3) B cut at its scheduled end: the frame after B's 75 is C's first
      expect(itemEntries[1].startFrame + itemEntries[1].frames).toBe(itemEntries[2].startFrame);
      // (4) the gap (A end … B start) is slate
      const gap = plan.entries.find(
        (e) => e.kind === "filler" && e.reason === "gap" && e.startFrame === itemEntries[0].startFrame + itemEntries[0].frames,
      )!;
      expect(gap.frames).toBe(50);
      for (let k = gap.startFrame; k < gap.startFrame + gap.frames; k++) expect(byFrame.get(k)?.colour, `gap frame ${k}`).toBe("white");

      // audio: each item's tone in its middle, silence in the gap (zero crossings per second)
      const pcm = (
        await runTool("ffmpeg", [
          "-hide_banner",
          "-loglevel",
          "error",
          "-copyts",
          "-i",
          outFile,
          "-map",
          "0:a:0",
          "-ac",
          "1",
          "-ar",
          "48000",
          "-f",
          "s16le",
          "-",
        ])
      ).stdout;
      const a0 = Math.min(...pk.packets.filter((p) => p.stream_index === 1).map((p) => p.pts));
      const samples = new Int16Array(pcm.buffer, pcm.byteOffset, Math.floor(pcm.length / 2));
      const zcAt = (frame: number): { hz: number; rms: number } => {
        const t = (p0 + frame * FRAME - a0) / 90000;
        const i0 = Math.round(t * 48000);
        let zc = 0;
        let sq = 0;
        const n = 9600; // 200 ms
        for (let i = i0 + 1; i < i0 + n; i++) {
          if (samples[i - 1] < 0 !== samples[i] < 0) zc++;
          sq += samples[i] * samples[i];
        }
        return { hz: zc / 2 / (n / 48000), rms: Math.sqrt(sq / n) };
      };
      const mid = (e: { startFrame: number; frames: number }): number => e.startFrame + Math.floor(e.frames / 2) - 2;
      const tones = itemEntries.map((e) => zcAt(mid(e)));
      report.push(
        `tones ${tones.map((t) => `${t.hz.toFixed(0)} Hz rms ${t.rms.toFixed(0)}`).join(", ")}; gap rms ${zcAt(mid(gap)).rms.toFixed(1)}`,
      );
      [440, 880, 1320].forEach((hz, n) => expect(Math.abs(tones[n].hz - hz)).toBeLessThan(30));
      expect(zcAt(mid(gap)).rms).toBeLessThan(5);
      console.log(report.join("\n"));
    },
  );

  it("joins the current item mid-way after FFmpeg is killed (in-point), with the slate in between", { timeout: 50_000 }, async () => {
    const cap = await udpCapture();
    const now = Date.now();
    store.replaceItems("pl2", now - 2000, now + 60_000, [{ startMs: now - 2000, durationMs: 62_000, title: "long", media: "long.mp4" }]);
    await clip(join(dir, "long.mp4"), { color: "red", size: "320x180", rate: 25, tone: 440, sr: 48000, seconds: 30 });
    const logLines: string[] = [];
    const logger = createLogger({ level: "info", destination: { write: (l: string) => logLines.push(l) } });
    const ch = new Channel({
      profile: testProfile({ id: "pl2", udpPort: cap.port, input: { kind: "playlist", mediaDir: dir }, epg: { enabled: false } }),
      store,
      logger,
      dataDir: dir,
    });
    const internals = ch as unknown as { playlist: { plan: PlaylistPlan | undefined } };
    try {
      await ch.start();
      await until(() => ch.status().source === "live", 10_000, "live");
      const first = internals.playlist.plan!.entries[0];
      expect(first.kind).toBe("item");
      await sleep(1500);
      const killedAt = Date.now();
      process.kill(ch.status().live.pid!, "SIGKILL");
      await until(() => ch.status().live.spawns === 2 && ch.status().source === "live", 10_000, "live again");
      const second = internals.playlist.plan!;
      const e = second.entries[0];
      expect(e).toMatchObject({ kind: "item", title: "long" });
      // planned from the respawn (plus the start-up estimate): the in-point is the item's elapsed time then
      const expected = (second.t0Ms - (now - 2000)) / 1000;
      expect(Math.abs(e.inpointS! - expected)).toBeLessThan(0.05);
      expect(e.inpointS!).toBeGreaterThan((killedAt - (now - 2000)) / 1000);
      await sleep(1000);
      expect(cap.maxGap()).toBeLessThan(1000);
      expect(ch.status().live.restartsByReason.signal).toBe(1);

      // a schedule change ahead: the run is replaced on purpose (its start-up + 1.5 s before it), not crashed, without a gap
      const crashes: unknown[] = [];
      const slates: unknown[] = [];
      ch.on("crashed", (x) => crashes.push(x));
      ch.on("slate", (x) => slates.push(x));
      const sw = (ch as unknown as { switcher: { slatePackets: number; handovers: number } }).switcher;
      const slateBefore = sw.slatePackets;
      const tB = Math.ceil((Date.now() + 4000) / 1000) * 1000;
      store.replaceItems("pl2", now - 2000, now + 60_000, [
        { startMs: now - 2000, durationMs: tB - (now - 2000), title: "long", media: "long.mp4" },
        { startMs: tB, durationMs: now + 60_000 - tB, title: "next", media: "a.mp4" },
      ]);
      const gapFrom = performance.now();
      await until(
        () => ch.status().live.replacements.planned === 1 && ch.status().live.spawns === 3 && ch.status().source === "live",
        10_000,
        "the replaced run live",
      );
      const replanned = internals.playlist.plan!.entries.find((x) => x.title === "next");
      // a failure names when the replacement was asked for, planned and spawned
      const why = logLines.filter((l) => /playlist_replan|playlist_planned|ffmpeg\.(started|replacing)/.test(l));
      expect(Math.abs(replanned!.wallStartMs - tB), JSON.stringify({ tB: new Date(tB).toISOString(), log: why })).toBeLessThanOrEqual(20);
      await sleep(Math.max(0, tB + 500 - Date.now()));
      expect(crashes).toEqual([]); // no crash alert, no slate alert for a planned replacement
      expect(slates).toEqual([]);
      // the new run started beside the old one and took over at its first packet: not one slate packet aired
      expect(sw.handovers).toBe(1);
      expect(sw.slatePackets).toBe(slateBefore);
      expect(ch.status().state).toBe("on_air");
      expect(ch.status().live.restarts).toBe(1);
      const gap = cap.maxGap(gapFrom);
      console.log(`[measure] planned replacement with overlap: largest gap between output datagrams ${gap.toFixed(0)} ms`);
      expect(gap).toBeLessThan(1000);
    } finally {
      await ch.stop();
      await cap.close();
    }
    // the kill, the slate and the handover: counters continuous throughout
    expect([...scanTs(cap.bytes(), []).ccErrors]).toEqual([]);
  });

  it("sets aside a file that probed fine but fails in FFmpeg: the replacement fails beside the airing run, then plays without it", async () => {
    const cap = await udpCapture();
    const now = Date.now();
    const y = join(dir, "y.mp4");
    const z = join(dir, "z.mp4");
    await Promise.all([
      clip(join(dir, "x.mp4"), { color: "red", size: "320x180", rate: 25, tone: 440, sr: 48000, seconds: 25 }),
      clip(y, { color: "green", size: "320x180", rate: 25, tone: 880, sr: 48000, seconds: 3 }),
      clip(z, { color: "blue", size: "320x180", rate: 25, tone: 1320, sr: 48000, seconds: 3 }),
    ]);
    // whole-second mtimes, so the files can be rewritten in place with the same size and mtime:
    // the probe cache (keyed by size and mtime) still takes them for the files it probed
    for (const f of [y, z]) utimesSync(f, 1_700_000_000, 1_700_000_000);
    const corrupt = (f: string): void => {
      writeFileSync(f, randomBytes(statSync(f).size));
      utimesSync(f, 1_700_000_000, 1_700_000_000);
    };
    store.replaceItems("pl3", now - 1000, now + 60_000, [
      { startMs: now - 1000, durationMs: 31_000, title: "X", media: "x.mp4" },
      { startMs: now + 30_000, durationMs: 10_000, title: "Y", media: "y.mp4" },
      { startMs: now + 40_000, durationMs: 20_000, title: "Z", media: "z.mp4" },
    ]);
    const ch = new Channel({
      profile: testProfile({ id: "pl3", udpPort: cap.port, input: { kind: "playlist", mediaDir: dir }, epg: { enabled: false } }),
      store,
      logger: quiet,
      dataDir: dir,
    });
    const internals = ch as unknown as { playlist: { plan: PlaylistPlan | undefined } };
    const entryAt = (t: number) => internals.playlist.plan!.entries.find((e) => Math.abs(e.wallStartMs - t) <= 40);
    const sw = (ch as unknown as { switcher: { slatePackets: number; handovers: number } }).switcher;
    try {
      await ch.start();
      await until(() => ch.status().source === "live", 10_000, "live");
      expect(entryAt(now + 30_000)).toMatchObject({ kind: "item", title: "Y" });
      await sleep(500);

      // Y rewritten: an operator's restart (overlapped) spawns a run that fails on it at start-up;
      // the old run airs on, Y is set aside and the retry takes over: not one slate packet
      corrupt(y);
      const slateBefore = sw.slatePackets;
      expect(ch.restart()).toBe(true);
      await until(() => sw.handovers === 1 && ch.status().source === "live", 10_000, "the retried replacement on air");
      expect(ch.status().playlist!.mediaFailed).toBe(1);
      expect(ch.status().live.restartsByReason.codec_error + ch.status().live.restartsByReason.exit_code).toBe(1);
      expect(entryAt(now + 30_000)).toMatchObject({ kind: "filler", reason: "missing" });
      expect(entryAt(now + 40_000)).toMatchObject({ kind: "item", title: "Z" });
      expect(sw.slatePackets).toBe(slateBefore);

      // Z rewritten, FFmpeg killed: the respawn fails on Z (slate meanwhile), the next plays without it
      corrupt(z);
      const spawns = ch.status().live.spawns;
      process.kill(ch.status().live.pid!, "SIGKILL");
      await until(() => ch.status().live.spawns === spawns + 2 && ch.status().source === "live", 10_000, "live again without Z");
      expect(ch.status().playlist!.mediaFailed).toBe(2);
      expect(entryAt(now + 40_000)).toMatchObject({ kind: "filler", reason: "missing" });
      expect(internals.playlist.plan!.missing.map((m) => m.title)).toEqual(["Y", "Z"]);
      // and it stays on air
      await sleep(1500);
      expect(ch.status().live.spawns).toBe(spawns + 2);
      expect(ch.status().source).toBe("live");
      expect(cap.maxGap()).toBeLessThan(1000);
    } finally {
      await ch.stop();
      await cap.close();
    }
  }, 40_000);
});
