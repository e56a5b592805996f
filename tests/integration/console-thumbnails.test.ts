/**
 * Confidence thumbnails with real FFmpeg: a channel on air (320x180 testsrc2, 1 s GOP) feeds
 * the pool through its output tap; with demand a thumbnail (a 320x180 JPEG) comes within a
 * few seconds and a later one differs (the picture moves); a killed thumbnail FFmpeg comes
 * back; demand off ends it (its pid is gone) and keeps the last picture; close() leaves no
 * process.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { validateProfile } from "../../src/config/profile.js";
import { ThumbnailPool, type ThumbnailEvent } from "../../src/console/thumbnails.js";
import { createLogger } from "../../src/observe/logger.js";
import { Channel } from "../../src/pipeline/channel.js";
import { openStore, type Store } from "../../src/store/db.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { haveFfmpeg, runFfprobeJson } from "../helpers/ffmpeg.js";
import { alive, childPids, until, waitEvent } from "../helpers/pipeline.js";

const quiet = createLogger({ level: "silent" });

/** The niceness of a process (field 19 of /proc/PID/stat). */
function niceness(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
}

describe.runIf(haveFfmpeg())("confidence thumbnails of a channel on air", () => {
  let dir = "";
  let store: Store;
  let cap: Capture;
  let ch: Channel;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-thumbs-"));
    store = openStore(join(dir, "onair.db"));
    cap = await udpCapture();
    const input = testProfileInput({ id: "thumbs", udpPort: cap.port });
    const encoding = input.encoding as { video: Record<string, unknown> };
    encoding.video = { ...encoding.video, width: 320, height: 180 };
    ch = new Channel({ profile: validateProfile(input, "thumbs"), store, logger: quiet, dataDir: dir });
    await ch.start();
    await waitEvent(ch, "state", 30_000, (s) => s === "on_air");
  });
  afterAll(async () => {
    await ch?.stop();
    await cap?.close();
    store?.close();
    rmSync(dir, { recursive: true, force: true });
    expect(childPids()).toEqual([]);
  });

  it("makes thumbnails only with demand, restarts a killed FFmpeg, stops it without demand and leaves nothing at close", async () => {
    const logs: string[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void logs.push(l) });
    const pool = new ThumbnailPool({ logger, everyMs: 1500 });
    const before = childPids();
    try {
      pool.attach(ch);
      expect(pool.status("thumbs")?.pid).toBeUndefined();
      expect(childPids()).toEqual(before);

      const first = waitEvent<ThumbnailEvent>(pool, "thumbnail", 10_000);
      pool.setDemand(true);
      const pid = pool.status("thumbs")?.pid;
      expect(pid).toBeGreaterThan(0);
      expect(niceness(pid!)).toBe(10);
      const e1 = await first;
      expect(e1).toMatchObject({ channel: "thumbs", seq: 1 });
      const t1 = pool.latest("thumbs")!;
      expect(t1.atMs).toBe(e1.atMs);
      const file = join(dir, "t1.jpg");
      writeFileSync(file, t1.jpeg);
      const probe = await runFfprobeJson<{ streams: { codec_name: string; width: number; height: number }[] }>([
        ...["-show_entries", "stream=codec_name,width,height", file],
      ]);
      expect(probe.streams[0]).toEqual({ codec_name: "mjpeg", width: 320, height: 180 });

      const e2 = await waitEvent<ThumbnailEvent>(pool, "thumbnail", 10_000);
      expect(e2.seq).toBe(2);
      const t2 = pool.latest("thumbs")!;
      expect(t2.jpeg.equals(t1.jpeg)).toBe(false); // testsrc2 moves

      // an FFmpeg that dies is started again, and thumbnails go on
      process.kill(pid!, "SIGKILL");
      const e3 = await waitEvent<ThumbnailEvent>(pool, "thumbnail", 15_000);
      const pid2 = pool.status("thumbs")?.pid;
      expect(pid2).not.toBe(pid);
      expect(e3.seq).toBe(3);
      expect(logs.some((l) => l.includes('"event":"thumbnail_exited"') && l.includes('"channel":"thumbs"'))).toBe(true);

      // demand off: the FFmpeg ends (its run is over once it exited and its pipes closed), the last thumbnail stays
      pool.setDemand(false);
      await until(() => pool.status("thumbs")?.pid === undefined, 5000, "the thumbnail FFmpeg to end");
      expect(alive(pid2!)).toBe(false);
      expect(pool.latest("thumbs")?.seq).toBeGreaterThanOrEqual(3);
      expect(logs.some((l) => l.includes('"event":"thumbnail_stopped"'))).toBe(true);

      // demand again, then close: no FFmpeg left
      pool.setDemand(true);
      const pid3 = pool.status("thumbs")?.pid;
      expect(pid3).toBeGreaterThan(0);
      await pool.close();
      expect(alive(pid3!)).toBe(false);
      expect(childPids()).toEqual(before);
    } finally {
      await pool.close();
    }
  });
});
