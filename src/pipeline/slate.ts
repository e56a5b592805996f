import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { ChannelProfile } from "../config/profile-schema.js";
import { OnairError } from "../core/errors.js";
import { realTimers, type Timers } from "../core/timers.js";
import { defaultSpawn, runChild, type SpawnFn } from "./child.js";
import { buildFfmpegArgs, detectSetpriv, keyframeGrid, parseFps, type FfmpegCommand } from "./ffmpeg-args.js";
import { findSlateFont, SLATE_FONT_FILES, slateTextFilter, writeSlateTextFile } from "./slate-text.js";
import type { CommandSpec } from "./supervisor-types.js";

/**
 * The slate: what the channel airs while its input is gone or FFmpeg restarts.
 *
 * Encoding a slate live would cost an encoder per channel all the time, so a short clip is
 * encoded once with the channel's own encoder settings, PIDs and service ids (a color or an
 * image, silent audio; a generated one with its text drawn, slate-text.ts; cached by its
 * arguments), and a hot-standby FFmpeg loops it with
 * `-stream_loop -1 -c copy` in real time, which costs next to nothing. Both commands are
 * derived from the channel's own argument list, so they cannot drift from it.
 */

/** The channel's encoder argv with the input replaced by the slate picture and silence. */
function slateEncodeArgs(profile: ChannelProfile, ffmpegPath?: string): FfmpegCommand {
  if (profile.encoding.mode !== "transcode") {
    throw new OnairError("ONAIR_SLATE_PASSTHROUGH", "a passthrough channel has no encoder settings for a slate", {
      channel: profile.channel.id,
    });
  }
  const encoding = { ...profile.encoding, video: { ...profile.encoding.video, gopSeconds: slateGopSeconds(profile) } };
  const asTest: ChannelProfile = { ...profile, encoding, input: { kind: "test", pattern: "color", toneHz: 1000 } };
  return buildFfmpegArgs(asTest, { ffmpegPath, setpriv: false, progress: false });
}

/**
 * The slate's GOP: an IDR at least every second, so that a slate period makes HLS segments
 * too (issue #21). It is the channel's GOP divided by the smallest whole number that brings it
 * to one second or less, so the slate's IDRs stay on the channel's grid (and its segment grid).
 */
export function slateGopSeconds(profile: ChannelProfile): number {
  if (profile.encoding.mode !== "transcode") return 1;
  const fps = profile.encoding.video.fps;
  const value = parseFps(fps).value;
  const frames = keyframeGrid(profile.encoding.video.gopSeconds, fps).frames;
  const perSecond = Math.max(1, Math.floor(value));
  for (let k = 1; k <= frames; k++) {
    if (frames % k === 0 && frames / k <= perSecond) return frames / k / value;
  }
  return 1 / value;
}

function indexOfPair(args: readonly string[], a: string, b: string): number {
  for (let i = 0; i + 1 < args.length; i++) if (args[i] === a && args[i + 1] === b) return i;
  return -1;
}

/** The generated slate's text drawing: the font and the file holding the text (slate-text.ts). */
export interface SlateText {
  fontFile: string;
  textFile: string;
  /** The text itself (its length sizes the font). */
  text: string;
}

/** Arguments that encode `seconds` of slate into `clipPath` (with `text` drawn on a generated one). */
export function slateClipCommand(
  profile: ChannelProfile,
  clipPath: string,
  seconds: number,
  ffmpegPath?: string,
  text?: SlateText | null,
): CommandSpec {
  const base = slateEncodeArgs(profile, ffmpegPath);
  const args = base.ffmpegArgs.filter((a) => a !== "-re");
  const tc = profile.encoding.mode === "transcode" ? profile.encoding : undefined;
  const slate = profile.slate;
  // video: color (generated), a still image, or a clip
  const vi = args.findIndex((a) => a.startsWith("color=c="));
  if (vi < 2) throw new OnairError("ONAIR_SLATE_ARGS", "cannot find the picture input in the encoder arguments");
  const size = args[vi].slice(args[vi].indexOf(":") + 1);
  if (slate.kind === "generated") {
    args[vi] = `color=c=${slate.color}:${size}`;
    if (text && tc) args.splice(args.indexOf("-c:v"), 0, "-vf", slateTextFilter(text.fontFile, text.textFile, tc.video, text.text));
  } else {
    const rate = /rate=([^:]+)/.exec(size)?.[1] ?? "25";
    // replace `-f lavfi -i color=…` with the file input
    const extra = slate.kind === "image" ? ["-loop", "1", "-framerate", rate, "-i", slate.path] : ["-i", slate.path];
    args.splice(vi - 3, 4, ...extra);
  }
  const ai = args.findIndex((a) => a.startsWith("sine=frequency="));
  if (ai < 0) throw new OnairError("ONAIR_SLATE_ARGS", "cannot find the audio input in the encoder arguments");
  const channels = tc?.audio.channels ?? 2;
  args[ai] = `anullsrc=r=${tc?.audio.sampleRate ?? 48000}:cl=${channels === 1 ? "mono" : "stereo"}`;
  const fi = indexOfPair(args, "-f", "mpegts");
  args.splice(fi, 0, "-t", String(seconds));
  args[args.length - 1] = clipPath;
  args.splice(args.length - 1, 0, "-y");
  return { command: base.ffmpeg, args, progressFd: null };
}

/** Arguments that loop the clip in real time to stdout with the channel's mpegts options. */
export function slateLoopCommand(profile: ChannelProfile, clipPath: string, ffmpegPath?: string): CommandSpec {
  const base = slateEncodeArgs(profile, ffmpegPath);
  const fi = indexOfPair(base.ffmpegArgs, "-f", "mpegts");
  const muxOptions = base.ffmpegArgs.slice(fi, base.ffmpegArgs.length - 1);
  const ffArgs = [
    ...["-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+warning"],
    ...["-re", "-stream_loop", "-1", "-i", clipPath, "-map", "0", "-c", "copy", "-flush_packets", "1"],
    ...muxOptions,
    "pipe:1",
  ];
  // same wrapper as the live FFmpeg (setpriv --pdeathsig KILL), so the slate dies with us too
  const setpriv = detectSetpriv();
  if (setpriv) return { command: setpriv, args: ["--pdeathsig", "KILL", "--", base.ffmpeg, ...ffArgs], progressFd: null };
  return { command: base.ffmpeg, args: ffArgs, progressFd: null };
}

/** Runs the encoder to its end (SIGKILL after `timeoutMs`); rejects when it cannot start or fails. */
async function run(cmd: CommandSpec, timeoutMs: number, spawnFn: SpawnFn, timers: Timers): Promise<void> {
  // a child that could not start (EMFILE…) ends the run with its spawnError (child.ts)
  const encoder = runChild(spawnFn, cmd.command, cmd.args, { stdio: ["ignore", "ignore", "pipe"] }, { timers });
  let err = "";
  encoder.child.stderr?.on("data", (c: Buffer) => {
    err = (err + c.toString("utf8")).slice(-2000);
  });
  const timer = timers.setTimeout(() => encoder.kill("SIGKILL"), timeoutMs);
  const { code, spawnError } = await encoder.closed;
  timers.clearTimeout(timer);
  if (spawnError) throw spawnError;
  const stderr = err.trim().split("\n").slice(-5);
  if (code !== 0) throw new OnairError("ONAIR_SLATE_ENCODE", `encoding the slate failed (exit ${code})`, { stderr });
}

/** Length of the slate clip: two GOPs, at least 2 s. */
export function slateClipSeconds(profile: ChannelProfile): number {
  const gop = profile.encoding.mode === "transcode" ? profile.encoding.video.gopSeconds : 2;
  return Math.max(2, 2 * gop);
}

export interface SlateClipOptions {
  ffmpegPath?: string | undefined;
  /** Fonts to try for the text (default SLATE_FONT_FILES). */
  fontFiles?: readonly string[];
  /** Where the missing-font warning goes (the channel's logger: it carries the channel id). */
  log?: { warn(o: Record<string, unknown>): void };
  /** How the encoder is started (tests inject failures). */
  spawn?: SpawnFn;
  /** Timers for the encoder's time limit (default realTimers). */
  timers?: Timers;
}

/**
 * The text of a generated slate (`slate.text`, default the channel name) written to a file
 * in `dir`, with a font to draw it; null when there is no text, or no font (warned).
 */
function prepareSlateText(profile: ChannelProfile, dir: string, o: SlateClipOptions): SlateText | null {
  const slate = profile.slate;
  if (slate.kind !== "generated") return null;
  const text = slate.text ?? profile.channel.name;
  if (text.trim() === "") return null;
  const fontFile = findSlateFont(o.fontFiles);
  if (!fontFile) {
    o.log?.warn({
      event: "slate_no_font",
      fonts: o.fontFiles ?? SLATE_FONT_FILES,
      message: "no font for the slate text: the slate is made without it (install fonts-dejavu-core)",
    });
    return null;
  }
  return { fontFile, textFile: writeSlateTextFile(dir, text), text };
}

/**
 * Encodes the slate clip into `dir` unless one with the same arguments exists; returns its
 * path. Two GOPs long, so the loop point falls on a key frame. Rejects when the encoder
 * cannot start (ONAIR_SPAWN_FAILED) or fails (ONAIR_SLATE_ENCODE).
 */
export async function ensureSlateClip(profile: ChannelProfile, dir: string, o: SlateClipOptions = {}): Promise<string> {
  const seconds = slateClipSeconds(profile);
  mkdirSync(dir, { recursive: true });
  const text = prepareSlateText(profile, dir, o);
  const probe = slateClipCommand(profile, "OUT", seconds, o.ffmpegPath, text);
  const key = createHash("sha256")
    .update(JSON.stringify([probe.command, probe.args]))
    .digest("hex")
    .slice(0, 16);
  const clip = join(dir, `slate-${profile.channel.id}-${key}.ts`);
  if (existsSync(clip)) return clip;
  const tmp = `${clip}.part.ts`;
  try {
    await run(slateClipCommand(profile, tmp, seconds, o.ffmpegPath, text), 120_000, o.spawn ?? defaultSpawn, o.timers ?? realTimers);
    renameSync(tmp, clip);
  } finally {
    rmSync(tmp, { force: true });
  }
  return clip;
}
