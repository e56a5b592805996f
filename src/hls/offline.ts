/**
 * `onair inject --hls DIR`: the offline injector's stage (same Injector, same break
 * requests, same outcome tracking as inject/offline.ts) with its output fed to the HLS
 * segmenter instead of a file, written as a VOD playlist with ENDLIST plus master.m3u8.
 *
 * Contract: the cuts and tags are the live ones (one Segmenter, one MediaPlaylist);
 * PROGRAM-DATE-TIME starts at `startWallMs` on the first segment's PTS. The read side waits
 * while more than MAX_BACKLOG segments are queued for writing. A write error fails the run
 * with ONAIR_HLS_WRITE_FAILED (the first error, with its path); reading stops at it.
 */
import { createReadStream } from "node:fs";
import { OnairError } from "../core/errors.js";
import { offlineInjector, type OfflineInjectOptions, type OfflineInjectResult } from "../inject/offline.js";
import { TsReader } from "../ts/index.js";
import { PtsWallClock, type MarkerStyle } from "./playlist.js";
import { Segmenter } from "./segmenter.js";
import { HlsWriter, MEDIA_PLAYLIST, type HlsWriterStats } from "./writer.js";

/** Segments queued for writing before reading pauses. */
export const MAX_BACKLOG = 3;
export { DEFAULT_SEGMENT_SECONDS } from "./options.js";

export interface HlsOfflineOptions {
  dir: string;
  segmentSeconds: number;
  markers: MarkerStyle;
}

export interface HlsOfflineSummary extends HlsWriterStats {
  dir: string;
  playlist: string;
  idrs: number;
  discontinuities: number;
}

export type HlsInjectResult = OfflineInjectResult & { hls: HlsOfflineSummary };

/** Runs the injector over `opts.input` into HLS (`opts.output` is not used). */
export async function injectToHls(opts: Omit<OfflineInjectOptions, "output">, hls: HlsOfflineOptions): Promise<HlsInjectResult> {
  const { injector, result } = offlineInjector(opts);
  const writer = new HlsWriter({
    dir: hls.dir,
    segmentSeconds: hls.segmentSeconds,
    markers: hls.markers,
    vod: true,
    clock: new PtsWallClock(opts.startWallMs ?? Date.now()),
  });
  const segmenter = new Segmenter({ segmentSeconds: hls.segmentSeconds, onSegment: (rec) => writer.add(rec, segmenter.info) });
  let bytesOut = 0;
  const toSegmenter = (b: Buffer): void => {
    bytesOut += b.length;
    segmenter.pushPackets(b, 0, b.length / 188);
  };
  // runs inside the chunk just read are ours to edit in place (see inject/offline.ts)
  let chunkNow: Uint8Array | undefined;
  const reader = new TsReader({ onPackets: (buf, start, count) => injector.process(buf, start, count, toSegmenter, buf === chunkNow) });
  const input = opts.input === "-" ? process.stdin : createReadStream(opts.input, { highWaterMark: 1 << 20 });
  try {
    for await (const chunk of input) {
      chunkNow = chunk as Buffer;
      reader.push(chunkNow);
      if (writer.backlog > MAX_BACKLOG) await writer.idle();
      if (writer.firstError) break; // the directory is unusable: stop reading
    }
  } catch (e) {
    if (input !== process.stdin) input.destroy();
    const err = e as NodeJS.ErrnoException;
    if (err.code === "ENOENT" || err.code === "EACCES" || err.code === "EISDIR") {
      throw new OnairError("ONAIR_INJECT_IO", `cannot read ${err.path ?? "the input"}: ${err.code}`, { path: err.path });
    }
    throw e;
  }
  if (input !== process.stdin) input.destroy();
  reader.end();
  injector.end();
  segmenter.end();
  await writer.end();
  if (writer.firstError) throw writer.firstError;
  const s = segmenter.stats;
  return {
    ...result(reader, bytesOut),
    hls: { ...writer.stats, dir: hls.dir, playlist: `${hls.dir}/${MEDIA_PLAYLIST}`, idrs: s.idrs, discontinuities: s.discontinuities },
  };
}
