/**
 * Probing a playlist's media: ffprobe for duration, start and streams, and the cache of what
 * was found (`MediaProbes`), keyed by path and the file's size and mtime, so a file that
 * changes is probed again.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { MediaInfo } from "./playlist-plan.js";

/** ffprobe next to the FFmpeg binary (same directory and naming), else on PATH. */
export function ffprobeFor(ffmpegPath: string): string {
  const b = basename(ffmpegPath);
  if (b.startsWith("ffmpeg")) {
    const p = join(dirname(ffmpegPath), `ffprobe${b.slice("ffmpeg".length)}`);
    if (ffmpegPath.includes("/")) {
      try {
        statSync(p);
        return p;
      } catch {
        /* not there */
      }
    }
  }
  return "ffprobe";
}

/**
 * Probes a media file: duration, start, streams. "missing" when it cannot be opened or has
 * no video; null when ffprobe itself could not be started (EMFILE, EAGAIN, ENOENT): that
 * says nothing about the file, so it is not remembered and is probed again next round.
 */
export function probeMedia(ffprobe: string, path: string, timeoutMs = 15_000): Promise<MediaInfo | "missing" | null> {
  return new Promise((resolve) => {
    execFile(
      ffprobe,
      ["-v", "error", "-show_entries", "format=duration,start_time:stream=codec_type", "-of", "json", path],
      { timeout: timeoutMs, maxBuffer: 1 << 20 },
      (err, stdout) => {
        if (err) return resolve(/^E[A-Z0-9]+$/.test(String((err as NodeJS.ErrnoException).code)) ? null : "missing");
        try {
          const j = JSON.parse(String(stdout)) as {
            format?: { duration?: string; start_time?: string };
            streams?: { codec_type?: string }[];
          };
          const types = new Set((j.streams ?? []).map((s) => s.codec_type));
          if (!types.has("video")) return resolve("missing");
          const d = Number(j.format?.duration);
          const st = Number(j.format?.start_time);
          resolve({
            durationS: Number.isFinite(d) && d > 0 ? d : null,
            startS: Number.isFinite(st) ? st : 0,
            video: true,
            audio: types.has("audio"),
          });
        } catch {
          resolve("missing");
        }
      },
    );
  });
}

/** A file's identity for the caches: "url", "absent", or a hash of its size and mtime. */
export function statKey(path: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return "url";
  try {
    const s = statSync(path);
    if (!s.isFile()) return "absent";
    return createHash("sha1").update(`${s.size}:${s.mtimeMs}`).digest("hex").slice(0, 12);
  } catch {
    return "absent";
  }
}
