import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/observe/logger.js";
import {
  graphValue,
  keyframeArg,
  planPlaylist,
  playlistGraph,
  PlaylistSource,
  probeMedia,
  resolveMedia,
  type MediaInfo,
  type PlanOptions,
} from "../../src/pipeline/playlist.js";
import type { ScheduleItem, ScheduleItemInput } from "../../src/schedule/model.js";
import { testProfile } from "../helpers/channel.js";
import { ManualTimers } from "../helpers/manual-timers.js";
import { until } from "../helpers/pipeline.js";

const info = (durationS: number | null, audio = true): MediaInfo => ({ durationS, startS: 0, video: true, audio });
const T = Date.UTC(2025, 5, 1, 12, 0, 0);

function plan(over: Partial<PlanOptions>, files: Record<string, MediaInfo | "missing"> = {}): ReturnType<typeof planPlaylist> {
  return planPlaylist({
    items: [],
    nowMs: T,
    fps: 25,
    sampleRate: 48000,
    gopSeconds: 1,
    mediaDir: "/media",
    fallback: "slate",
    lookup: (p) => files[p],
    tailMs: 10_000,
    ...over,
  });
}

describe("planPlaylist", () => {
  it("joins the current item mid-way with an in-point, cuts an overrun, fills a gap, and ends with a tail", () => {
    const p = plan(
      {
        items: [
          { id: 1, title: "A", startMs: T - 12_500, durationMs: 20_000, media: "a.mp4" }, // on air since 12.5 s
          { id: 2, title: "B", startMs: T + 10_000, durationMs: 3000, media: "/abs/b.mp4" }, // file 6 s: overrun
        ],
      },
      { "/media/a.mp4": info(60), "/abs/b.mp4": info(6) },
    );
    expect(p.entries.map((e) => [e.kind, e.reason ?? e.title, e.startFrame, e.frames])).toEqual([
      ["item", "A", 0, 188], // 7.5 s left of A
      ["filler", "gap", 188, 62],
      ["item", "B", 250, 75], // cut to its 3 s slot
      ["filler", "tail", 325, 250],
    ]);
    expect(p.entries[0].inpointS).toBe(12.5);
    expect(p.entries[2].inpointS).toBe(0);
    expect(p.entries[2].wallStartMs).toBe(T + 10_000);
    // samples follow the frame boundaries exactly (48000 / 25 = 1920 per frame)
    expect(p.entries[1].startSample).toBe(188 * 1920);
    expect(p.entries[1].samples).toBe(62 * 1920);
    // key frames: every entry start and the 1 s grid from each start
    expect(p.keyframes.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 7.52, 8.52]);
    expect(p.keyframes).toContain(10);
    expect(p.keyframes).toContain(13);
    expect(keyframeArg(p).startsWith("0,1,2,3,4,5,6,7,7.52,8.52,")).toBe(true);
    expect(p.cut).toBe("schedule_end");
    expect(p.endMs).toBe(T + 23_000);
  });

  it("airs an item without media, or with a missing file, as filler and lists it", () => {
    const p = plan(
      {
        items: [
          { id: 1, title: "no media", startMs: T, durationMs: 2000 },
          { id: 2, title: "gone", startMs: T + 2000, durationMs: 2000, media: "gone.mp4" },
          { id: 3, title: "not probed yet", startMs: T + 4000, durationMs: 2000, media: "new.mp4" },
        ],
      },
      { "/media/gone.mp4": "missing" },
    );
    expect(p.entries.map((e) => [e.kind, e.reason])).toEqual([
      ["filler", "missing"],
      ["filler", "missing"],
      ["filler", "unprobed"],
      ["filler", "tail"],
    ]);
    expect(p.missing).toEqual([
      { itemId: 1, title: "no media", media: undefined },
      { itemId: 2, title: "gone", media: "/media/gone.mp4" },
    ]);
  });

  it("follows a file shorter than its slot with filler, but stretches one a frame or two short", () => {
    const p = plan(
      {
        items: [
          { id: 1, title: "short", startMs: T, durationMs: 5000, media: "s.mp4" },
          { id: 2, title: "almost", startMs: T + 5000, durationMs: 5000, media: "x.mp4" },
        ],
      },
      { "/media/s.mp4": info(3), "/media/x.mp4": info(4.96) },
    );
    expect(p.entries.map((e) => [e.kind, e.reason ?? e.title, e.frames])).toEqual([
      ["item", "short", 75],
      ["filler", "underrun", 50],
      ["item", "almost", 125],
      ["filler", "tail", 250],
    ]);
  });

  it("loops the previous item in gaps with fallback loop", () => {
    const p = plan(
      {
        fallback: "loop",
        items: [
          { id: 1, title: "A", startMs: T, durationMs: 2000, media: "a.mp4" },
          { id: 2, title: "B", startMs: T + 5000, durationMs: 2000, media: "b.mp4" },
        ],
      },
      { "/media/a.mp4": info(10), "/media/b.mp4": info(10, false) },
    );
    expect(p.entries[1]).toMatchObject({ kind: "filler", reason: "gap", loopMedia: "/media/a.mp4" });
    const g = playlistGraph(p, {
      width: 320,
      height: 240,
      pixFmt: "yuv420p",
      fps: "25",
      sampleRate: 48000,
      channels: 2,
      slate: { kind: "generated", color: "black" },
    });
    expect(g).toContain("movie=/media/a.mp4:s=dv+da:loop=0[m1v][m1a]");
    // B has no audio: silence of its exact length
    expect(g).toContain("movie=/media/b.mp4:s=dv[m2v]");
    expect(g).toContain("anullsrc=r=48000:cl=stereo,atrim=end_sample=96000,asetpts=N/SR/TB[a2]");
  });

  it("caps a run by key frames (argv limit) and by movie sources", () => {
    const items = Array.from({ length: 30 }, (_, k) => ({
      id: k + 1,
      title: `i${k}`,
      startMs: T + k * 60_000,
      durationMs: 60_000,
      media: `${k}.mp4`,
    }));
    const files = Object.fromEntries(items.map((i) => [`/media/${i.media}`, info(600)]));
    const byKf = plan({ items, maxKeyframes: 200 }, files);
    expect(byKf.cut).toBe("keyframes");
    expect(byKf.keyframes.length).toBeLessThanOrEqual(200);
    expect(byKf.entries.filter((e) => e.kind === "item")).toHaveLength(3); // 60 key frames each
    const byChars = plan({ items, maxKeyframeChars: 1000 }, files);
    expect(keyframeArg(byChars).length).toBeLessThanOrEqual(1000);
    const bySources = plan({ items }, files);
    expect(bySources.cut).toBe("sources");
    expect(bySources.entries.filter((e) => e.kind === "item")).toHaveLength(12);
    // the default cap keeps the argument far below one argv string's 128 KiB
    const long = Array.from({ length: 12 }, (_, k) => ({
      id: k + 1,
      title: `l${k}`,
      startMs: T + k * 3_600_000,
      durationMs: 3_600_000,
      media: `${k}.mp4`,
    }));
    const big = plan({ items: long, horizonMs: 48 * 3_600_000 }, Object.fromEntries(long.map((i) => [`/media/${i.media}`, info(3600)])));
    expect(big.keyframes.length).toBeLessThanOrEqual(9000);
    expect(keyframeArg(big).length).toBeLessThan(120_000);
  });

  it("keeps item starts on the nearest frame at 30000/1001", () => {
    const p = planPlaylist({
      items: [{ id: 1, title: "A", startMs: T + 10_000, durationMs: 1000, media: "/a.mp4" }],
      nowMs: T,
      fps: "30000/1001",
      sampleRate: 48000,
      gopSeconds: 2,
      fallback: "slate",
      lookup: () => info(100),
    });
    const a = p.entries.find((e) => e.kind === "item")!;
    expect(a.startFrame).toBe(300); // 10 s × 29.97 = 299.7
    expect(Math.abs(a.wallStartMs - (T + 10_000))).toBeLessThan(1000 / 29.97 / 2);
    expect(p.keyframes).toContain(10.01);
    // audio samples follow the frame lattice without drift
    expect(a.startSample).toBe(Math.round((300 * 1001 * 48000) / 30000));
  });
});

describe("filter graph", () => {
  it("escapes file names for the option and the graph level", () => {
    expect(graphValue("/m/c, it's:[x];.mp4")).toBe("/m/c\\, it\\\\\\'s\\\\:\\[x\\]\\;.mp4");
    expect(resolveMedia("a.mp4", "/media")).toBe("/media/a.mp4");
    expect(resolveMedia("http://h/a.mp4", "/media")).toBe("http://h/a.mp4");
  });

  it("seeks and trims a joined item and normalises it to the channel's format", () => {
    const p = plan(
      { items: [{ id: 1, title: "A", startMs: T - 2500, durationMs: 10_000, media: "a.mp4" }] },
      { "/media/a.mp4": { durationS: 20, startS: 1.4, video: true, audio: true } },
    );
    const g = playlistGraph(p, {
      width: 640,
      height: 360,
      pixFmt: "yuv420p",
      fps: "25",
      sampleRate: 48000,
      channels: 2,
      slate: { kind: "generated", color: "navy" },
    });
    expect(g).toContain("movie=/media/a.mp4:s=dv+da:sp=2.5[m0v][m0a]");
    expect(g).toContain(
      "[m0v]trim=start=3.9,setpts=PTS-3.9/TB,scale=640:360:force_original_aspect_ratio=decrease,pad=640:360:-1:-1,setsar=1,fps=25:start_time=0",
    );
    expect(g).toContain("trim=end_frame=188,setpts=N/FRAME_RATE/TB[v0]");
    expect(g).toContain("atrim=end_sample=360960,asetpts=N/SR/TB[a0]");
    expect(g).toContain("color=c=navy:s=640x360:r=25");
    expect(g).toContain("[v0][a0][v1][a1]concat=n=2:v=1:a=1[pv][pa]");
    expect(g).toContain("[pv]realtime[vout]");
  });
});

describe("PlaylistSource.restartDueAt", () => {
  /** A source over a mutable schedule, media probed as 60 s files, the clock at `now`. */
  async function source(
    items: ScheduleItemInput[],
    o: { failedRetryMs?: number; startupMs?: number; probe?: (path: string) => Promise<MediaInfo>; timers?: ManualTimers } = {},
  ) {
    const dir = mkdtempSync(join(tmpdir(), "onair-pl-due-"));
    for (const f of ["a.mp4", "b.mp4", "c.mp4"]) writeFileSync(join(dir, f), f);
    const state = { now: T, items: items.map((it, k) => ({ ...it, id: k + 1, eventId: k + 1, breaks: [] }) as unknown as ScheduleItem) };
    const src = new PlaylistSource({
      profile: testProfile({ id: "due", udpPort: 9, input: { kind: "playlist", mediaDir: dir } }),
      items: (from, to) => state.items.filter((i) => i.startMs < to && i.startMs + i.durationMs > from),
      dir,
      ffmpegPath: "ffmpeg",
      logger: createLogger({ level: "silent" }),
      now: () => state.now,
      startupMs: o.startupMs ?? 50,
      probe: o.probe ?? (() => Promise.resolve(info(60))),
      ...(o.failedRetryMs !== undefined ? { failedRetryMs: o.failedRetryMs } : {}),
      ...(o.timers ? { timers: o.timers } : {}),
    });
    await src.prepare();
    src.command(); // the running plan, from T (+ the start-up estimate)
    const set = (next: ScheduleItemInput[]): void => {
      state.items = next.map((it, k) => ({ ...it, id: k + 10, eventId: k + 10, breaks: [] }) as unknown as ScheduleItem);
    };
    return { src, state, set, done: () => rmSync(dir, { recursive: true, force: true }) };
  }
  /** Boundaries of the running plan sit on its frame lattice (from T + 50 ms): within half a frame. */
  const near = (due: { atMs: number; reason: string } | null, atMs: number, reason: string): void => {
    expect(due?.reason).toBe(reason);
    expect(Math.abs(due!.atMs - atMs)).toBeLessThanOrEqual(20);
  };
  const A = { title: "A", startMs: T - 10_000, durationMs: 70_000, media: "a.mp4" };
  const B = { title: "B", startMs: T + 60_000, durationMs: 30_000, media: "b.mp4" };

  it("watches on the injected timers: asks once for the replacement when it is due, and stops on unwatch", async () => {
    const timers = new ManualTimers();
    const s = await source([A, B], { timers });
    const asked: string[] = [];
    s.src.watch((why) => asked.push(why), 1000, 30_000);
    expect(timers.delays()).toEqual([1000, 30_000]);
    timers.advance(1000);
    expect(asked).toEqual([]);
    s.state.now = s.src.plan!.endMs - 1550; // plan_end's due time
    timers.advance(3000);
    expect(asked).toEqual(["plan_end"]);
    s.src.unwatch();
    expect(timers.size).toBe(0);
    s.done();
  });

  it("says plan_end, lead before the end, when nothing changed", async () => {
    const s = await source([A, B]);
    const end = s.src.plan!.endMs;
    expect(s.src.restartDueAt(T + 5000)).toEqual({ atMs: end - 1550, reason: "plan_end" });
    s.done();
  });

  it("does not take a run still starting (now before its t0) for a changed schedule", async () => {
    const s = await source([A, B]);
    const t0 = s.src.plan!.t0Ms;
    expect(t0).toBe(T + 50);
    const end = s.src.plan!.endMs;
    // checked 250 ms before the run's first frame (a start-up estimate over 250 ms): nothing changed
    expect(s.src.restartDueAt(t0 - 250)).toEqual({ atMs: end - 1550, reason: "plan_end" });
    // a real change is still seen from there
    s.set([A, { ...B, media: "c.mp4" }]);
    near(s.src.restartDueAt(t0 - 250), T + 58_450, "schedule_changed");
    s.done();
  });

  it("does not take a check within a frame before an item's start for a change (the fresh plan starts at the check with what airs then)", async () => {
    const s = await source([A, B]);
    const end = s.src.plan!.endMs;
    // B starts at T + 60 s (on the running plan's lattice: T + 60 010 ms); a plan made from a
    // moment up to a frame before that begins with A's last frame there, B a frame later
    const wrong: number[] = [];
    for (let now = T + 59_940; now <= T + 60_010; now++) {
      const due = s.src.restartDueAt(now);
      if (due?.reason !== "plan_end" || due.atMs !== end - 1550) wrong.push(now - T);
    }
    expect(wrong).toEqual([]);
    // B really changed: still seen from there
    s.set([A, { ...B, media: "c.mp4" }]);
    expect(s.src.restartDueAt(T + 59_975)?.reason).toBe("schedule_changed");
    s.done();
  });

  it("replaces a run with a slow start-up by its start-up estimate plus 1.5 s ahead, so the new run's first frame is not after the change", async () => {
    const s = await source([A, B], { startupMs: 2000 });
    s.set([A, { ...B, media: "c.mp4" }]);
    // B (T + 60 s) less 2 s of start-up and 1.5 s (not the fixed 1.5 s)
    const due = s.src.restartDueAt(T + 5000);
    near(due, T + 56_500, "schedule_changed");
    // spawned at the first look after that (up to a second late), its plan starts before B
    s.state.now = due!.atMs + 999;
    await s.src.prepare(); // c.mp4 probed, as watch() does before such a replacement
    s.src.command();
    expect(s.src.plan!.t0Ms).toBeLessThan(T + 60_000);
    expect(s.src.plan!.entries.find((e) => e.title === "B")).toMatchObject({ kind: "item", media: expect.stringMatching(/c\.mp4$/) });
    s.done();
  });

  it("probes a coming change's new media as soon as it sees the change, not when the replacement is due", async () => {
    const probed: string[] = [];
    let cProbed = (): void => undefined;
    const seen = new Promise<void>((resolve) => (cProbed = resolve));
    const s = await source([A, B], {
      probe: (p) => {
        probed.push(p);
        if (p.endsWith("/c.mp4")) cProbed();
        return Promise.resolve(info(60));
      },
    });
    // counts the watch's looks at the schedule
    let looks = 0;
    const due = s.src.restartDueAt.bind(s.src);
    s.src.restartDueAt = (now) => (looks++, due(now));
    const asked: string[] = [];
    s.src.watch((why) => asked.push(why), 5);
    try {
      // the replacement is due at T + 58.5 s; the clock stays at T + 5 s
      s.state.now = T + 5000;
      s.set([A, { ...B, media: "c.mp4" }]);
      await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error("c.mp4 not probed within 2 s")), 2000))]);
      expect(asked).toEqual([]);
      // ten more looks: no other probe round for the same change (at most one each 5 s)
      const from = looks;
      await until(() => looks >= from + 10, 2000, "ten more looks");
      expect(probed.filter((p) => p.endsWith("/c.mp4"))).toHaveLength(1);
    } finally {
      s.src.unwatch();
      s.done();
    }
  });

  it("sees the item on air cut short for an inserted one, lead before it, and at once when it is due within the lead", async () => {
    const s = await source([A, B]);
    s.set([{ ...A, durationMs: 30_000 }, { title: "C", startMs: T + 20_000, durationMs: 40_000, media: "c.mp4" }, B]);
    expect(s.src.restartDueAt(T + 5000)).toEqual({ atMs: T + 18_450, reason: "schedule_changed" });
    expect(s.src.restartDueAt(T + 19_500)).toEqual({ atMs: T + 19_500, reason: "schedule_changed" });
    s.done();
  });

  it("sees the item on air lengthened (the next one moved later)", async () => {
    const s = await source([A, B]);
    s.set([
      { ...A, durationMs: 100_000 },
      { ...B, startMs: T + 90_000 },
    ]);
    near(s.src.restartDueAt(T + 5000), T + 58_450, "schedule_changed");
    s.done();
  });

  it("sees another file for a coming item, and ignores a change among plain filler", async () => {
    const s = await source([A, B]);
    s.set([A, { ...B, media: "c.mp4" }]);
    near(s.src.restartDueAt(T + 5000), T + 58_450, "schedule_changed");
    // B removed: from its start the new plan has filler where B was
    s.set([A]);
    expect(s.src.restartDueAt(T + 5000)?.reason).toBe("schedule_changed");
    s.done();
  });

  it("sets aside a file a failed run named (as given or as escaped in the graph) until it changes or the retry time passed", async () => {
    const s = await source([A, B], { failedRetryMs: 20_000 });
    const dir = s.src.plan!.entries[0].media!.replace(/\/a\.mp4$/, "");
    // a name the graph escapes
    const b = join(dir, "b: it's.mp4");
    expect(graphValue(b)).not.toBe(b);
    writeFileSync(b, "b");
    s.set([A, { ...B, media: "b: it's.mp4" }]);
    await s.src.prepare();
    s.src.command();
    expect(s.src.plan!.entries.find((e) => e.title === "B")?.kind).toBe("item");
    // lines that name no file of the plan set nothing aside
    expect(
      s.src.noteRunFailed([
        "[error] [h264 @ 0x1] error while decoding MB 3 4",
        `[error] [Parsed_movie_3 @ 0x2] Failed to avformat_open_input '${join(dir, "zz.mp4")}'`,
      ]),
    ).toEqual([]);
    expect(s.src.noteRunFailed([`[error] [Parsed_movie_3 @ 0x2] Failed to avformat_open_input '${b}'`])).toEqual([b]);
    expect(s.src.counters.mediaFailed).toBe(1);
    // the next run plans B as filler (listed as missing), and the running one is not replaced for it
    near(s.src.restartDueAt(T + 5000), T + 58_450, "schedule_changed");
    s.src.command();
    const bEntry = s.src.plan!.entries.find((e) => Math.abs(e.wallStartMs - (T + 60_000)) <= 20);
    expect(bEntry).toMatchObject({ kind: "filler", reason: "missing" });
    expect(s.src.plan!.missing.map((m) => m.title)).toEqual(["B"]);
    expect(s.src.restartDueAt(T + 5000)?.reason).toBe("plan_end");
    // named again: not counted twice
    expect(s.src.noteRunFailed([`[error] Failed to avformat_open_input '${b}'`])).toEqual([]);
    // the file changes (size): B plays again once probed (the 30 s probe round)
    writeFileSync(b, "a new file");
    expect(s.src.restartDueAt(T + 5000)?.reason).toBe("plan_end");
    await s.src.prepare();
    near(s.src.restartDueAt(T + 5000), T + 58_450, "schedule_changed");
    s.src.command();
    expect(s.src.plan!.entries.find((e) => e.title === "B")?.kind).toBe("item");
    // set aside again (escaped form), unchanged: tried again after failedRetryMs (default 10 min)
    s.src.noteRunFailed([
      `[error] [AVFilterGraph @ 0x3] Error initializing filter 'movie' with args 'filename=${graphValue(b)}:streams=dv'`,
    ]);
    s.src.command();
    expect(s.src.plan!.missing.map((m) => m.title)).toEqual(["B"]);
    s.state.now = T + 19_000;
    s.src.command();
    expect(s.src.plan!.missing.map((m) => m.title)).toEqual(["B"]);
    s.state.now = T + 20_000;
    s.src.command();
    expect(s.src.plan!.entries.find((e) => e.title === "B")?.kind).toBe("item");
    expect(s.src.counters.mediaFailed).toBe(2);
    s.done();
  });
});

describe("PlaylistSource.prepare when ffprobe cannot be started", () => {
  it("probeMedia says null (not 'missing') when ffprobe does not start", async () => {
    const dir = mkdtempSync(join(tmpdir(), "onair-pl-probe-"));
    writeFileSync(join(dir, "a.mp4"), "a");
    expect(await probeMedia("/nonexistent/ffprobe", join(dir, "a.mp4"))).toBeNull();
    rmSync(dir, { recursive: true, force: true });
  });

  it("does not remember it: the item airs as filler, is probed again next round, and the run is replaced for it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "onair-pl-probe-"));
    for (const f of ["a.mp4", "b.mp4"]) writeFileSync(join(dir, f), f);
    const items = [
      { title: "A", startMs: T - 10_000, durationMs: 70_000, media: "a.mp4" },
      { title: "B", startMs: T + 60_000, durationMs: 30_000, media: "b.mp4" },
    ].map((it, k) => ({ ...it, id: k + 1, eventId: k + 1, breaks: [] }) as unknown as ScheduleItem);
    let outOfFds = true; // EMFILE while the first round probes B
    const src = new PlaylistSource({
      profile: testProfile({ id: "probe", udpPort: 9, input: { kind: "playlist", mediaDir: dir } }),
      items: (from, to) => items.filter((i) => i.startMs < to && i.startMs + i.durationMs > from),
      dir,
      ffmpegPath: "ffmpeg",
      logger: createLogger({ level: "silent" }),
      now: () => T,
      startupMs: 50,
      probe: (p) => Promise.resolve(p.endsWith("b.mp4") && outOfFds ? null : info(60)),
    });
    await src.prepare();
    src.command();
    expect(src.plan!.entries.find((e) => e.wallStartMs >= T + 59_000)).toMatchObject({ kind: "filler", reason: "unprobed" });
    expect(src.plan!.missing).toEqual([]);
    expect(src.restartDueAt(T + 5000)?.reason).toBe("plan_end");
    outOfFds = false;
    await src.prepare();
    expect(src.restartDueAt(T + 5000)?.reason).toBe("schedule_changed");
    rmSync(dir, { recursive: true, force: true });
  });
});
