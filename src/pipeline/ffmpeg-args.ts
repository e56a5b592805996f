/**
 * FFmpeg command lines from a typed channel profile. Every argument comes from the
 * validated profile; the result is an argument array for `spawn` (never a shell).
 *
 * Output: CBR MPEG-TS on stdout (`-f mpegts -muxrate R pipe:1`), progress as `key=value`
 * blocks on fd 3 (`-progress pipe:3`), warnings and errors on stderr prefixed with their
 * level (`-loglevel level+warning`) for the classifier in stderr.ts.
 *
 * Key frames: a closed GOP on a grid of a whole number of frames,
 * `-force_key_frames expr:gte(n,n_forced*N)` with N = round(gopSeconds × fps), plus
 * `-g N -keyint_min N -sc_threshold 0` so the encoder adds no key frame of its own.
 * A frame-count grid is exact at any rate: at 30000/1001 fps a 2 s time grid
 * (`gte(t,n_forced*2)`) would fall between frames and give GOPs of 59 or 60 frames,
 * while 60 frames is always 60 × 3003 ticks, so the injector's KeyframeGrid sees equal
 * spacings and predicts splice points to the frame. The period is N / fps (2.002 s here)
 * and is returned as `keyframes`.
 *
 * Secrets (profiles/README.md "Secrets and FFmpeg arguments"): no alert token ever reaches
 * FFmpeg. An http/hls URL with credentials or a query is replaced by a local proxy's
 * (`inputUrl`, input-proxy.ts). FFmpeg 5.1/6.x have no file form for protocol options, so an
 * SRT input's passphrase and stream id, and an rtmp/srt input URL's credentials, are
 * unavoidably in this command's argv (an SRT output's passphrase likewise in the argv of its
 * own FFmpeg child, src/pipeline/outputs/srt.ts); `secretsInArgv` names those profile paths so
 * the caller can warn, and argv must only ever be logged through the redacting logger.
 */
import { accessSync, constants as fsConstants } from "node:fs";
import { execFile, spawnSync } from "node:child_process";
import { delimiter, isAbsolute, join, resolve as resolvePath } from "node:path";
import type { ChannelProfile } from "../config/profile-schema.js";
import { OnairError } from "../core/errors.js";

export const INSTALL_HINT = "install it: sudo apt-get install -y ffmpeg (or point ONAIR_FFMPEG at a binary)";

/** File descriptor FFmpeg writes `-progress` blocks to. */
export const PROGRESS_FD = 3;

/**
 * Probing of live network inputs: FFmpeg's default analyzeduration (5 s) delays the first
 * output byte by ~5 s after (re)joining a stream, longer than the stall timeout. 2 s finds
 * H.264/AAC parameters on a 2 s GOP (measured: first output 2.3–2.4 s after joining).
 */
const LIVE_PROBE = ["-analyzeduration", "2000000", "-probesize", "2000000"];

export interface FfmpegArgsOptions {
  /** The FFmpeg binary; default resolveFfmpegBinary(). */
  ffmpegPath?: string;
  /** Run under `setpriv --pdeathsig KILL --`: true/false, or the setpriv path. Default: detected. */
  setpriv?: boolean | string;
  /** `-progress pipe:3` (default true). The spawner must then open fd 3 as a pipe. */
  progress?: boolean;
  /** FFmpeg log level (default "warning"). */
  loglevel?: "error" | "warning" | "info" | "verbose" | "debug";
  /**
   * For `playlist` inputs: the run's filter graph script (outputs `[vout]`, `[aout]`) and its
   * forced key-frame times (comma-separated seconds) — see playlist.ts.
   */
  playlist?: { script: string; keyframes: string };
  /** x264/x265 preset when the profile gives none (default "veryfast"). */
  defaultPreset?: string;
  /**
   * For `http`/`hls` inputs: the URL FFmpeg opens instead of `input.url` (the local proxy
   * holding the URL's credentials, input-proxy.ts).
   */
  inputUrl?: string | undefined;
}

export interface KeyframeGridSpec {
  /** Frames between forced IDRs. */
  frames: number;
  /** The frame rate as FFmpeg gets it ("25", "30000/1001"). */
  fps: string;
  /** Exact period in seconds (frames / fps). */
  seconds: number;
}

export interface FfmpegCommand {
  /** What to spawn: setpriv, or FFmpeg itself. */
  command: string;
  /** Its arguments (for setpriv: its options, `--`, the FFmpeg path and FFmpeg's arguments). */
  args: string[];
  /** The FFmpeg binary. */
  ffmpeg: string;
  /** FFmpeg's own arguments (without the setpriv prefix). */
  ffmpegArgs: string[];
  /** True when prefixed by `setpriv --pdeathsig KILL`. */
  setpriv: boolean;
  /** The fd `-progress` writes to, or null. */
  progressFd: number | null;
  /** The forced key-frame grid (transcode only). */
  keyframes: KeyframeGridSpec | null;
  /** Profile paths whose secret values are in argv (unavoidable on FFmpeg < 7). */
  secretsInArgv: string[];
  /** Profile values FFmpeg cannot take and that were left out (e.g. ONID 0). */
  warnings: string[];
}

// ── binary resolution ─────────────────────────────────────────────────────────

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds `name` on PATH; a name with a slash is resolved against the cwd. */
export function whichSync(name: string, envPath = process.env.PATH ?? ""): string | undefined {
  if (name.includes("/")) {
    const p = isAbsolute(name) ? name : resolvePath(name);
    return isExecutable(p) ? p : undefined;
  }
  for (const dir of envPath.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

export interface ResolveFfmpegOptions {
  env?: NodeJS.ProcessEnv;
  /** A binary named by the profile or the global config. */
  configured?: string;
}

/**
 * The FFmpeg binary: `ONAIR_FFMPEG`, else the configured one, else `ffmpeg` on PATH.
 * Returns an absolute path when it can be found, else the name as given (checkFfmpeg
 * then reports it missing).
 */
export function resolveFfmpegBinary(opts: ResolveFfmpegOptions = {}): string {
  const env = opts.env ?? process.env;
  const wanted = env.ONAIR_FFMPEG?.trim() || opts.configured?.trim() || "ffmpeg";
  return whichSync(wanted, env.PATH ?? "") ?? wanted;
}

export interface FfmpegVersion {
  path: string;
  /** e.g. "5.1.9-0+deb12u1" */
  version: string;
  major: number;
  minor: number;
}

const versionCache = new Map<string, Promise<FfmpegVersion>>();

/**
 * Runs `ffmpeg -version` once per binary and parses the version. Throws
 * ONAIR_FFMPEG_NOT_FOUND (with the install command) when the binary is missing,
 * not executable, or does not answer like FFmpeg.
 */
export function checkFfmpeg(binary: string = resolveFfmpegBinary(), timeoutMs = 10_000): Promise<FfmpegVersion> {
  let p = versionCache.get(binary);
  if (!p) {
    p = new Promise<FfmpegVersion>((resolve, reject) => {
      execFile(binary, ["-hide_banner", "-version"], { timeout: timeoutMs, maxBuffer: 1 << 20 }, (err, stdout) => {
        const m = /ffmpeg version n?(\S*?(\d+)\.(\d+)\S*)/.exec(String(stdout));
        if (err || !m) {
          const code = (err as NodeJS.ErrnoException | null)?.code;
          reject(
            new OnairError("ONAIR_FFMPEG_NOT_FOUND", `FFmpeg not found or unusable (${binary}): ${INSTALL_HINT}`, {
              binary,
              cause: code ?? (err ? err.message : "no 'ffmpeg version' in its output"),
            }),
          );
          return;
        }
        resolve({ path: binary, version: m[1], major: Number(m[2]), minor: Number(m[3]) });
      });
    });
    versionCache.set(binary, p);
    // a failed check is not cached: FFmpeg may be installed later
    p.catch(() => versionCache.delete(binary));
  }
  return p;
}

let setprivDetected: string | null | undefined;

/**
 * `setpriv` with `--pdeathsig` support (util-linux ≥ 2.33), detected once per process:
 * its path, or null. Under it FFmpeg gets SIGKILL when the daemon dies, even while it
 * is stuck on a silent input.
 */
export function detectSetpriv(): string | null {
  if (setprivDetected === undefined) {
    const path = whichSync("setpriv");
    const t = whichSync("true");
    if (path && t) {
      const r = spawnSync(path, ["--pdeathsig", "KILL", "--", t], { stdio: "ignore", timeout: 5000 });
      setprivDetected = r.status === 0 ? path : null;
    } else {
      setprivDetected = null;
    }
  }
  return setprivDetected;
}

// ── argument building ─────────────────────────────────────────────────────────

type Input = ChannelProfile["input"];
type Transcode = Extract<ChannelProfile["encoding"], { mode: "transcode" }>;

/** Frame rate as a string FFmpeg parses, and its numeric value. */
export function parseFps(fps: number | string): { text: string; value: number } {
  if (typeof fps === "number") return { text: String(fps), value: fps };
  const [n, d] = fps.split("/").map(Number);
  return { text: fps, value: d ? n / d : n };
}

/** The forced key-frame grid for a GOP length in seconds: a whole number of frames. */
export function keyframeGrid(gopSeconds: number, fps: number | string): KeyframeGridSpec {
  const f = parseFps(fps);
  const frames = Math.max(1, Math.round(gopSeconds * f.value));
  return { frames, fps: f.text, seconds: frames / f.value };
}

function withQuery(url: string, params: [string, string | number | undefined][]): string {
  const add = params.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  if (add.length === 0) return url;
  return url + (url.includes("?") ? "&" : "?") + add.join("&");
}

/** Live network inputs: probe little, give up on a read after the input's timeout. */
function liveInput(timeoutSeconds: number): string[] {
  return [...LIVE_PROBE, "-rw_timeout", String(Math.round(timeoutSeconds * 1e6))];
}

function testInputArgs(input: Extract<Input, { kind: "test" }>, tc: Transcode | null): string[] {
  if (!tc) throw new OnairError("ONAIR_FFMPEG_ARGS", "a test source must be transcoded", { path: "encoding.mode" });
  const { width, height } = tc.video;
  const rate = parseFps(tc.video.fps).text;
  const size = `size=${width}x${height}:rate=${rate}`;
  const video = input.pattern === "color" ? `color=c=black:${size}` : `${input.pattern}=${size}`;
  return [
    "-re",
    "-f",
    "lavfi",
    "-i",
    video,
    "-re",
    "-f",
    "lavfi",
    "-i",
    `sine=frequency=${input.toneHz}:sample_rate=${tc.audio.sampleRate}`,
  ];
}

function srtInputArgs(input: Extract<Input, { kind: "srt" }>, secrets: string[]): string[] {
  // the passphrase as an AVOption (not in the URL): still in argv on FFmpeg 5.1/6.x,
  // but FFmpeg does not echo it back in its error lines as it does the URL
  secrets.push("input.url");
  const args = liveInput(input.timeoutSeconds);
  if (input.passphrase) {
    secrets.push("input.passphrase");
    args.push("-passphrase", input.passphrase);
    if (input.pbkeylen) args.push("-pbkeylen", String(input.pbkeylen));
  }
  // `-streamid` is FFmpeg's own output option, so the SRT stream id goes in the URL
  if (input.streamId) secrets.push("input.streamId");
  const url = withQuery(input.url, [
    ["mode", input.mode],
    ["latency", input.latencyMs * 1000],
    ["streamid", input.streamId],
  ]);
  return [...args, "-i", url];
}

function httpInputArgs(input: Extract<Input, { kind: "http" | "hls" }>, opts: FfmpegArgsOptions, secrets: string[]): string[] {
  if (!opts.inputUrl) secrets.push("input.url");
  const args = liveInput(input.timeoutSeconds);
  if (input.kind === "hls" || input.reconnect) {
    args.push(
      "-reconnect",
      "1",
      "-reconnect_streamed",
      "1",
      "-reconnect_on_network_error",
      "1",
      "-reconnect_on_http_error",
      "5xx",
      "-reconnect_delay_max",
      String(Math.max(1, Math.round(input.timeoutSeconds))),
    );
  }
  if (input.kind === "http" && input.reconnect) args.push("-reconnect_at_eof", "1");
  return [...args, "-i", opts.inputUrl ?? input.url];
}

function inputArgs(input: Input, opts: FfmpegArgsOptions, tc: Transcode | null, secrets: string[]): string[] {
  switch (input.kind) {
    case "test":
      return testInputArgs(input, tc);
    case "file":
      return ["-re", ...(input.loop ? ["-stream_loop", "-1"] : []), "-i", input.path];
    case "playlist": {
      if (!opts.playlist) {
        throw new OnairError("ONAIR_FFMPEG_ARGS", "a playlist input needs its run's filter graph (playlist.ts)", { path: "input" });
      }
      if (!tc) throw new OnairError("ONAIR_FFMPEG_ARGS", "a playlist must be transcoded", { path: "encoding.mode" });
      // the sources are movie filters in the graph, paced by realtime/arealtime (no -re)
      return ["-filter_complex_script", opts.playlist.script];
    }
    case "udp": {
      const url = withQuery(input.url, [
        ["overrun_nonfatal", 1],
        ["localaddr", input.interface],
      ]);
      return [...liveInput(input.timeoutSeconds), "-i", url];
    }
    case "srt":
      return srtInputArgs(input, secrets);
    case "rtmp":
      secrets.push("input.url");
      return [...liveInput(input.timeoutSeconds), "-rtmp_live", "live", "-i", input.url];
    case "http":
    case "hls":
      return httpInputArgs(input, opts, secrets);
  }
}

function videoArgs(tc: Transcode, input: Input, grid: KeyframeGridSpec, opts: FfmpegArgsOptions): string[] {
  const v = tc.video;
  const rate = String(v.bitrate);
  const args: string[] = [];
  if (input.kind !== "test" && input.kind !== "playlist") {
    // any source size and rate → the profile's, letterboxed, square pixels
    args.push(
      "-vf",
      `scale=${v.width}:${v.height}:force_original_aspect_ratio=decrease,pad=${v.width}:${v.height}:-1:-1,setsar=1,fps=${grid.fps}`,
    );
  }
  args.push("-c:v", v.codec, "-b:v", rate, "-maxrate", rate, "-bufsize", rate, "-pix_fmt", v.pixFmt);
  const n = String(grid.frames);
  // a playlist forces its own list: every item start and the grid from there (playlist.ts)
  const forced = input.kind === "playlist" && opts.playlist ? opts.playlist.keyframes : `expr:gte(n,n_forced*${n})`;
  args.push("-g", n, "-keyint_min", n, "-sc_threshold", "0", "-force_key_frames", forced);
  switch (v.codec) {
    case "libx264":
      args.push("-preset", v.preset ?? opts.defaultPreset ?? "veryfast", "-forced-idr", "1", "-flags", "+cgop");
      break;
    case "libx265":
      args.push(
        "-preset",
        v.preset ?? opts.defaultPreset ?? "veryfast",
        "-forced-idr",
        "1",
        "-x265-params",
        `keyint=${n}:min-keyint=${n}:scenecut=0:open-gop=0:log-level=error`,
      );
      break;
    case "mpeg2video":
      args.push("-flags", "+cgop");
      break;
    case "h264_nvenc":
    case "hevc_nvenc":
      if (v.preset) args.push("-preset", v.preset);
      args.push("-forced-idr", "1", "-no-scenecut", "1", "-strict_gop", "1");
      break;
    case "h264_vaapi":
    case "h264_qsv":
      // hardware upload and device selection are not generated here (see report)
      if (v.preset) args.push("-preset", v.preset);
      break;
  }
  if (v.tune && (v.codec === "libx264" || v.codec === "libx265")) args.push("-tune", v.tune);
  if (v.profile) args.push("-profile:v", v.profile);
  return args;
}

function audioArgs(tc: Transcode): string[] {
  const a = tc.audio;
  return ["-c:a", a.codec, "-b:a", String(a.bitrate), "-ar", String(a.sampleRate), "-ac", String(a.channels)];
}

/** MPEG-TS: PIDs, DVB ids, CBR; the ids FFmpeg does not accept are left to the injector (`warnings`). */
function muxArgs(profile: ChannelProfile, warnings: string[]): string[] {
  const enc = profile.encoding;
  const { pids } = enc;
  const args: string[] = [];
  // flush after every frame: a pipe otherwise gets 32 KB blocks, i.e. bursts with gaps of
  // ~200 ms at a few Mb/s, which downstream sees as jitter and the slate switch as silence
  args.push("-flush_packets", "1", "-f", "mpegts");
  if (enc.muxRate !== undefined) args.push("-muxrate", String(enc.muxRate));
  args.push(
    "-mpegts_pmt_start_pid",
    String(pids.pmt),
    "-mpegts_start_pid",
    String(Math.min(pids.video, pids.audio)),
    "-streamid",
    `0:${pids.video}`,
    "-streamid",
    `1:${pids.audio}`,
    "-mpegts_service_id",
    String(profile.service.serviceId),
  );
  // FFmpeg accepts 1–65535 for these; 0 is left to the injector's tables
  if (profile.service.transportStreamId >= 1) {
    args.push("-mpegts_transport_stream_id", String(profile.service.transportStreamId));
  } else warnings.push("service.transportStreamId 0 is not accepted by FFmpeg: left at its default");
  if (profile.service.originalNetworkId >= 1) {
    args.push("-mpegts_original_network_id", String(profile.service.originalNetworkId));
  } else warnings.push("service.originalNetworkId 0 is not accepted by FFmpeg: left at its default");
  args.push(
    "-mpegts_service_type",
    String(profile.service.type),
    "-metadata",
    `service_name=${profile.service.name}`,
    "-metadata",
    `service_provider=${profile.service.provider}`,
  );
  return args;
}

/**
 * The FFmpeg command for a channel profile: input (with `-re` for files and test sources,
 * timeouts and reconnects for network inputs), transcode or passthrough, CBR MPEG-TS on
 * stdout with the profile's PIDs and DVB ids.
 */
export function buildFfmpegArgs(profile: ChannelProfile, opts: FfmpegArgsOptions = {}): FfmpegCommand {
  const ffmpeg = opts.ffmpegPath ?? resolveFfmpegBinary();
  const enc = profile.encoding;
  const tc = enc.mode === "transcode" ? enc : null;
  const secretsInArgv: string[] = [];
  const warnings: string[] = [];
  const progress = opts.progress ?? true;

  const args = ["-hide_banner", "-nostdin", "-nostats", "-loglevel", `level+${opts.loglevel ?? "warning"}`];
  if (progress) args.push("-progress", `pipe:${PROGRESS_FD}`);

  args.push(...inputArgs(profile.input, opts, tc, secretsInArgv));

  let grid: KeyframeGridSpec | null = null;
  if (tc) {
    grid = keyframeGrid(tc.video.gopSeconds, tc.video.fps);
    if (profile.input.kind === "test") args.push("-map", "0:v:0", "-map", "1:a:0");
    else if (profile.input.kind === "playlist") args.push("-map", "[vout]", "-map", "[aout]");
    else args.push("-map", "0:v:0", "-map", "0:a:0?");
    args.push(...videoArgs(tc, profile.input, grid, opts), ...audioArgs(tc));
  } else {
    args.push("-map", "0:v:0?", "-map", "0:a:0?", "-c", "copy");
  }

  args.push(...muxArgs(profile, warnings), "pipe:1");

  const setprivPath = opts.setpriv === undefined || opts.setpriv === true ? detectSetpriv() : opts.setpriv || null;
  const command = setprivPath ? setprivPath : ffmpeg;
  const full = setprivPath ? ["--pdeathsig", "KILL", "--", ffmpeg, ...args] : args;
  return {
    command,
    args: full,
    ffmpeg,
    ffmpegArgs: args,
    setpriv: setprivPath !== null,
    progressFd: progress ? PROGRESS_FD : null,
    keyframes: grid,
    secretsInArgv,
    warnings,
  };
}
