/**
 * Injector benchmark: the injector stage (PMT rewrite with the SCTE-35 PID, IDR grid, a
 * break every 60 s with 3 sends each) over the ≥ 1 GB CBR TS, file to /dev/null, against
 * `ffmpeg -i same.ts -c copy -f mpegts -y /dev/null` in the same run. Prints both MB/s and
 * the ratio (target ≥ 1.2×), the share of one core a 10 Mb/s channel costs (target ≤ 0.5 %),
 * and RSS after 1 GB and after 5 GB through one injector (target: within 5 MB).
 */
import { createReadStream, statSync } from "node:fs";
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { Injector } from "../src/inject/injector.js";
import { injectFile } from "../src/inject/offline.js";
import { TICKS, defaultCuePlanConfig } from "../src/inject/planner.js";
import { TsReader } from "../src/ts/reader.js";
import { benchFileMb, ensureBenchFile, timeFfmpegCopy } from "./_common.js";

const line = (s: string): void => {
  process.stdout.write(`${s}\n`);
};

function breaksEveryMinute(seconds: number): Array<{ startSeconds: number; durationSeconds: number }> {
  const out = [];
  for (let t = 30; t < seconds - 30; t += 60) out.push({ startSeconds: t, durationSeconds: 30 });
  return out;
}

/** Several passes over the file through ONE injector; RSS after each pass. */
async function soak(path: string, passes: number): Promise<number[]> {
  let id = 0;
  const injector = new Injector({ cue: defaultCuePlanConfig(), allocateEventId: () => ++id, startWall: 0 });
  const sink = createWriteStream("/dev/null");
  const pending: Buffer[] = [];
  const reader = new TsReader({ onPackets: (b, s, c) => injector.process(b, s, c, (o) => pending.push(o)) });
  const rss: number[] = [];
  for (let p = 0; p < passes; p++) {
    for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
      reader.push(chunk as Buffer);
      for (const b of pending) if (!sink.write(b)) await once(sink, "drain");
      pending.length = 0;
      // keep cues coming on every pass (each pass restarts the file's time base)
      if (injector.planner.upcoming.length === 0) injector.addImmediateBreak(30 * TICKS);
    }
    (globalThis as { gc?: () => void }).gc?.();
    rss.push(process.memoryUsage().rss);
  }
  sink.end();
  return rss;
}

export async function run(): Promise<void> {
  const path = await ensureBenchFile(benchFileMb());
  const mb = statSync(path).size / (1024 * 1024);
  const seconds = (statSync(path).size * 8) / 20e6;
  let id = 0;
  const opts = {
    input: path,
    output: "/dev/null",
    breaks: breaksEveryMinute(seconds),
    cue: defaultCuePlanConfig(),
    allocateEventId: () => ++id,
    startWallMs: 0,
  };
  await injectFile(opts); // warm the page cache and the JIT
  const ffSeconds = await timeFfmpegCopy(path);
  id = 0;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const r = await injectFile(opts);
  const oursSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const oursRate = mb / oursSeconds;
  const ffRate = mb / ffSeconds;
  // a 10 Mb/s channel moves 1.25 MB/s; CPU seconds per MB × that = share of one core
  const coreShare = (cpuSeconds / mb) * (10e6 / 8 / (1024 * 1024)) * 100;
  const s = r.injector;
  line(`file            ${path} (${mb.toFixed(0)} MB, ${s.packetsIn} packets, ${seconds.toFixed(0)} s of 20 Mb/s)`);
  line(
    `onair inject    ${oursRate.toFixed(0)} MB/s  (${oursSeconds.toFixed(2)} s; PMT rewrite, ${s.breaksPlanned} breaks, ${s.cuesSent.splice_insert ?? 0} cues, ${s.nullsReplaced} nulls replaced, ${s.inserted} inserted)`,
  );
  line(`ffmpeg -c copy  ${ffRate.toFixed(0)} MB/s  (${ffSeconds.toFixed(2)} s)`);
  line(`ratio           ${(oursRate / ffRate).toFixed(2)}x  (target ≥ 1.2x)`);
  line(`10 Mb/s channel ${coreShare.toFixed(3)} % of one core  (target ≤ 0.5 %; ${cpuSeconds.toFixed(2)} CPU s for ${mb.toFixed(0)} MB)`);
  const rss = await soak(path, 5);
  const mbOf = (b: number): string => (b / (1024 * 1024)).toFixed(1);
  line(
    `RSS             after 1 GB ${mbOf(rss[0])} MB, after 5 GB ${mbOf(rss[4])} MB, growth ${mbOf(rss[4] - rss[0])} MB  (target within 5 MB)`,
  );
}
