/**
 * The channel profile: everything about one channel, validated with zod at the edge.
 * Keys are camelCase (the code uses the parsed object directly; DVB fields are the
 * camelCase of their EN 300 468 names). Documented in profiles/README.md; exported as
 * JSON Schema by `onair profile schema`.
 *
 * Secrets (marked `x-onair-secret` in the JSON Schema, listed in SECRET_PATHS) are
 * redacted by `redactProfile()` and never printed by `profile validate` or the logger.
 */
import * as z from "zod";

const SECRET_META = { "x-onair-secret": true, writeOnly: true } as const;

const u16 = z.number().int().min(0).max(0xffff);
/** Elementary stream / PMT PID: 0x0020–0x1FFE (0x00–0x1F are PSI/SI, 0x1FFF is null). */
const esPid = z.number().int().min(0x20).max(0x1ffe);
const port = z.number().int().min(1).max(65535);
const positiveSeconds = z.number().positive();

/** Bits per second: a number, or a string with a k/M/G suffix ("4M", "128k", "4.5M"). */
export const bitrate = z
  .union([
    z.number().int().positive(),
    z.string().regex(/^\d+(\.\d+)?[kKmMgG]?$/, 'expected bits per second, e.g. 4000000, "4M" or "128k"'),
  ])
  .transform((v) => {
    if (typeof v === "number") return v;
    const m = /^(\d+(?:\.\d+)?)([kKmMgG]?)$/.exec(v)!;
    const mult = { "": 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as "" | "k" | "m" | "g"];
    return Math.round(Number(m[1]) * mult);
  })
  .pipe(z.number().int().positive());

function urlWithScheme(schemes: string[]) {
  const re = new RegExp(`^(?:${schemes.join("|")})://\\S+$`, "i");
  return z.string().regex(re, `expected a URL starting with ${schemes.map((s) => `${s}://`).join(" or ")}`);
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

// ── channel and DVB service ─────────────────────────────────────────────────────

export const channelIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "expected lower-case letters, digits, '-' or '_' (max 63), e.g. news-hd")
  .describe("Stable channel id: used in logs, metrics, unit names (onair@ID) and the store");

const channelSchema = z.strictObject({
  id: channelIdSchema,
  name: z.string().min(1).max(200).describe("Human name of the channel"),
});

const serviceSchema = z
  .strictObject({
    serviceId: u16.min(1).default(1).describe("DVB service_id (= MPEG program_number); FFmpeg default 1"),
    transportStreamId: u16.default(1).describe("DVB transport_stream_id; FFmpeg default 1"),
    originalNetworkId: u16.default(0xff01).describe("DVB original_network_id; FFmpeg default 0xFF01"),
    name: z.string().min(1).max(255).optional().describe("service_name in the SDT; defaults to channel.name"),
    provider: z.string().min(1).max(255).default("onair").describe("service_provider_name in the SDT"),
    type: z
      .number()
      .int()
      .min(1)
      .max(0xff)
      .optional()
      .describe(
        "service_type (EN 300 468 table 87): 0x01 digital TV, 0x16 AVC SD, 0x19 AVC HD, 0x1F HEVC. " +
          "Default derived from the encoding (AVC ≥720 lines 0x19, AVC SD 0x16, HEVC 0x1F, else 0x01)",
      ),
  })
  .default({ serviceId: 1, transportStreamId: 1, originalNetworkId: 0xff01, provider: "onair" });

// ── input ──────────────────────────────────────────────────────────────────────

const liveCommon = {
  timeoutSeconds: positiveSeconds.default(5).describe("Input read/open timeout before the attempt is failed"),
};

const udpInput = z.strictObject({
  kind: z.literal("udp"),
  url: urlWithScheme(["udp", "rtp"]).describe("udp://@239.1.1.1:1234 or udp://0.0.0.0:5000; rtp:// also accepted"),
  interface: z.string().optional().describe("Local address to join multicast on (FFmpeg localaddr)"),
  ...liveCommon,
});

const srtInput = z.strictObject({
  kind: z.literal("srt"),
  url: urlWithScheme(["srt"]).describe("srt://host:port (no passphrase in the URL: use `passphrase`)").meta(SECRET_META),
  mode: z.enum(["caller", "listener", "rendezvous"]).default("caller"),
  passphrase: z.string().min(10).max(79).optional().describe("SRT passphrase (10–79 characters); secret").meta(SECRET_META),
  pbkeylen: z
    .union([z.literal(16), z.literal(24), z.literal(32)])
    .optional()
    .describe("AES key length in bytes"),
  latencyMs: z.number().int().min(20).max(8000).default(120),
  streamId: z.string().max(512).optional().describe("SRT stream id (may carry credentials: treated as secret)").meta(SECRET_META),
  ...liveCommon,
});

const rtmpInput = z.strictObject({
  kind: z.literal("rtmp"),
  url: urlWithScheme(["rtmp", "rtmps"]).describe("rtmp[s]://host/app/stream; credentials in the URL are secret").meta(SECRET_META),
  ...liveCommon,
});

const httpInput = z.strictObject({
  kind: z.literal("http"),
  url: urlWithScheme(["http", "https"]).describe("Progressive HTTP(S) TS/MP4; credentials in the URL are secret").meta(SECRET_META),
  reconnect: z.boolean().default(true).describe("FFmpeg -reconnect* options"),
  ...liveCommon,
});

const hlsInput = z.strictObject({
  kind: z.literal("hls"),
  url: urlWithScheme(["http", "https"]).describe("HLS playlist (.m3u8); credentials in the URL are secret").meta(SECRET_META),
  ...liveCommon,
});

const fileInput = z.strictObject({
  kind: z.literal("file"),
  path: z.string().min(1).describe("Media file, played in real time (-re)"),
  loop: z.boolean().default(true).describe("Loop the file (-stream_loop -1)"),
});

const playlistInput = z.strictObject({
  kind: z.literal("playlist"),
  mediaDir: z.string().min(1).optional().describe("Directory relative schedule items are resolved against"),
  fallback: z.enum(["slate", "loop"]).default("slate").describe("What to air when the schedule has a gap"),
});

const testInput = z.strictObject({
  kind: z.literal("test"),
  pattern: z.enum(["testsrc2", "testsrc", "smptebars", "smptehdbars", "color"]).default("testsrc2"),
  toneHz: z.number().positive().max(20000).default(1000).describe("Sine tone frequency (lavfi sine)"),
});

export const inputSchema = z.discriminatedUnion("kind", [
  udpInput,
  srtInput,
  rtmpInput,
  httpInput,
  hlsInput,
  fileInput,
  playlistInput,
  testInput,
]);

// ── encoding ───────────────────────────────────────────────────────────────────

const pidsSchema = z
  .strictObject({
    pmt: esPid.default(0x1000).describe("PMT PID (FFmpeg -mpegts_pmt_start_pid, default 0x1000)"),
    video: esPid.default(0x100).describe("Video PID (FFmpeg -mpegts_start_pid, default 0x100)"),
    audio: esPid.default(0x101).describe("Audio PID (default 0x101)"),
  })
  .default({ pmt: 0x1000, video: 0x100, audio: 0x101 });

/** A frame-rate ratio's value; NaN when a part is 0 (`1/0` would reach FFmpeg as infinity). */
function ratioValue(text: string): number {
  const [n, d = 1] = text.split("/").map(Number);
  return n > 0 && d > 0 ? n / d : Number.NaN;
}

const fps = z
  .union([
    z.number().positive().max(300),
    z
      .string()
      .regex(/^\d+(\/\d+)?$/, "expected a number or a ratio like 30000/1001")
      .refine(
        (t) => ratioValue(t) > 0 && ratioValue(t) <= 300,
        "expected a frame rate above 0 and at most 300 (no zero numerator or denominator)",
      ),
  ])
  .describe('Frame rate: 25, 50, "30000/1001"');

const videoSchema = z.strictObject({
  codec: z.enum(["libx264", "libx265", "mpeg2video", "h264_nvenc", "hevc_nvenc", "h264_vaapi", "h264_qsv"]).default("libx264"),
  width: z.number().int().min(16).max(7680),
  height: z.number().int().min(16).max(4320),
  fps,
  bitrate: bitrate.describe("Video bitrate (CBR-constrained: maxrate = bitrate)"),
  gopSeconds: z
    .number()
    .positive()
    .max(10)
    .default(2)
    .describe("Closed-GOP length: a forced IDR every N seconds (-force_key_frames) so splices land on IDR frames"),
  preset: z
    .string()
    .regex(/^[a-z0-9]+$/)
    .optional(),
  tune: z
    .string()
    .regex(/^[a-z0-9,]+$/)
    .optional()
    .describe(
      "x264/x265 -tune, e.g. zerolatency: no frame-thread and lookahead delay, so a restarted encoder answers ~3 frames sooner, " +
        "for some compression efficiency",
    ),
  profile: z
    .string()
    .regex(/^[a-z0-9]+$/)
    .optional(),
  pixFmt: z
    .string()
    .regex(/^[a-z0-9]+$/)
    .default("yuv420p"),
});

const audioSchema = z
  .strictObject({
    codec: z.enum(["aac", "mp2", "ac3", "eac3", "libfdk_aac"]).default("aac"),
    bitrate: bitrate.default(128000),
    sampleRate: z.union([z.literal(32000), z.literal(44100), z.literal(48000)]).default(48000),
    channels: z.number().int().min(1).max(8).default(2),
  })
  .default({ codec: "aac", bitrate: 128000, sampleRate: 48000, channels: 2 });

const passthroughEncoding = z.strictObject({
  mode: z.literal("passthrough"),
  muxRate: bitrate.optional().describe("CBR mux rate (-muxrate). Without it the TS is VBR and the injector must insert packets"),
  pids: pidsSchema,
});

const transcodeEncoding = z
  .strictObject({
    mode: z.literal("transcode"),
    video: videoSchema,
    audio: audioSchema,
    muxRate: bitrate.describe("CBR mux rate (-muxrate), required: the injector replaces null packets"),
    pids: pidsSchema,
  })
  .superRefine((e, ctx) => {
    const payload = e.video.bitrate + e.audio.bitrate;
    if (e.muxRate <= payload) {
      ctx.addIssue({
        code: "custom",
        path: ["muxRate"],
        message: `must exceed video + audio bitrate (${payload} bit/s); leave 10–15% headroom for PSI/SI and cues`,
      });
    }
  });

export const encodingSchema = z.discriminatedUnion("mode", [passthroughEncoding, transcodeEncoding]);

// ── outputs ────────────────────────────────────────────────────────────────────

const udpOutput = z.strictObject({
  kind: z.literal("udp"),
  host: z.string().min(1).describe("Unicast or multicast (224.0.0.0/4) address"),
  port,
  ttl: z.number().int().min(1).max(255).default(16).describe("Multicast TTL"),
  interface: z.string().optional().describe("Local address to send multicast from"),
  packetsPerDatagram: z.number().int().min(1).max(7).default(7).describe("188-byte packets per datagram (7 = 1316 bytes)"),
});

const srtOutput = z.strictObject({
  kind: z.literal("srt"),
  mode: z.enum(["caller", "listener"]),
  host: z.string().min(1).describe("Remote host (caller) or bind address (listener)"),
  port,
  passphrase: z.string().min(10).max(79).optional().describe("SRT passphrase (10–79 characters); secret").meta(SECRET_META),
  pbkeylen: z.union([z.literal(16), z.literal(24), z.literal(32)]).optional(),
  latencyMs: z.number().int().min(20).max(8000).default(120),
  streamId: z.string().max(512).optional().meta(SECRET_META),
});

const fileOutput = z.strictObject({
  kind: z.literal("file"),
  path: z.string().min(1).describe("Recording path; strftime-style %Y %m %d %H %M %S are expanded at each rotation"),
  rotateSeconds: z.number().int().min(60).default(3600).describe("Start a new file every N seconds"),
  keep: z
    .number()
    .int()
    .min(1)
    .default(24)
    .describe("Recordings kept, counting every file on disk that matches path, from any run; the oldest beyond are deleted"),
});

const stdoutOutput = z.strictObject({ kind: z.literal("stdout") });

const hlsOutput = z.strictObject({
  kind: z.literal("hls"),
  dir: z.string().min(1).optional().describe("Directory of index.m3u8, master.m3u8 and the segments; default <data dir>/hls/<channel id>/"),
  segmentSeconds: z
    .number()
    .positive()
    .max(60)
    .default(6)
    .describe("Target segment length: cut at the last IDR that keeps a segment at or below it"),
  window: z.number().int().min(3).max(1000).default(10).describe("Segments listed in the live playlist"),
  deleteAfterSeconds: z.number().min(1).max(86400).default(120).describe("Seconds a segment stays on disk after it left the playlist"),
  markers: z
    .enum(["cue", "daterange", "both", "none"])
    .default("cue")
    .describe("Ad-marker tags: cue (EXT-X-CUE-OUT/IN), daterange, both or none"),
  maxGopSeconds: z
    .number()
    .positive()
    .max(60)
    .optional()
    .describe("Passthrough encodings: the longest GOP the source sends, declared (required, at most segmentSeconds)"),
});

export const outputSchema = z.discriminatedUnion("kind", [udpOutput, srtOutput, fileOutput, stdoutOutput, hlsOutput]);

// ── SCTE-35, EPG, alerts, restart, slate ───────────────────────────────────────

const scte35Schema = z
  .strictObject({
    enabled: z.boolean().default(true),
    pid: esPid.default(0x1f4).describe("SCTE-35 PID, declared in the PMT with stream_type 0x86 (default 500 = 0x1F4)"),
    mode: z.enum(["splice_insert", "time_signal"]).default("splice_insert"),
    prerollSeconds: z.number().min(4).max(60).default(6).describe("Arm time before the splice (SCTE 35 §9.9.2.1: ≥ 4 s)"),
    repeats: z.number().int().min(1).max(10).default(3).describe("Copies of each cue, same splice_event_id"),
    heartbeatSeconds: z.number().min(0).max(600).default(300).describe("splice_null keep-alive period, 0 = off"),
    segmentationTypes: z
      .array(z.number().int().min(0).max(0xff))
      .default([0x34, 0x35])
      .describe("segmentation_type_id values used with time_signal (0x34/0x35 provider placement opportunity)"),
  })
  .default({
    enabled: true,
    pid: 0x1f4,
    mode: "splice_insert",
    prerollSeconds: 6,
    repeats: 3,
    heartbeatSeconds: 300,
    segmentationTypes: [0x34, 0x35],
  });

const epgSchema = z
  .strictObject({
    enabled: z.boolean().default(true),
    days: z.number().int().min(1).max(64).default(7).describe("Days of EIT schedule (max 64 = 16 table_ids)"),
    language: z
      .string()
      .regex(/^[a-z]{3}$/, "expected an ISO 639-2 code like eng, fra, deu")
      .default("eng"),
    charset: z
      .enum(["utf-8", "latin-1", "iso-6937"])
      .default("utf-8")
      .describe("Text encoding: utf-8 writes ASCII bare and 0x15 + UTF-8 otherwise"),
    timeZone: z.string().refine(validTimeZone, "expected an IANA time zone like Europe/Paris").default("UTC"),
    country: z
      .string()
      .regex(/^[A-Z]{3}$/, "expected an ISO 3166 alpha-3 code like FRA")
      .optional()
      .describe("TOT country_code"),
  })
  .default({ enabled: true, days: 7, language: "eng", charset: "utf-8", timeZone: "UTC" });

export const ALERT_EVENTS = [
  "channel_down",
  "channel_recovered",
  "restart_flapping",
  "input_lost",
  "input_restored",
  "stall",
  "slate_on",
  "slate_off",
  "cue_failed",
  "output_error",
  "epg_empty",
  "profile_refused",
] as const;

const DEFAULT_ALERT_EVENTS = ["channel_down", "channel_recovered", "restart_flapping", "input_lost", "cue_failed", "profile_refused"];

const telegramSchema = z.strictObject({
  chatIds: z
    .array(z.union([z.number().int(), z.string().regex(/^(@[A-Za-z0-9_]{5,}|-?\d+)$/, "expected a numeric chat id or @channel")]))
    .min(1),
  botToken: z
    .string()
    .regex(/^\d+:[A-Za-z0-9_-]{20,}$/, "expected a Telegram bot token (digits:characters)")
    .optional()
    .describe("Overrides the global default bot token; secret")
    .meta(SECRET_META),
  events: z.array(z.enum(ALERT_EVENTS)).default([...DEFAULT_ALERT_EVENTS] as (typeof ALERT_EVENTS)[number][]),
});

const alertsSchema = z
  .strictObject({
    telegram: telegramSchema.optional(),
  })
  .default({});

const restartSchema = z
  .strictObject({
    backoffMinSeconds: z.number().positive().default(0.5),
    backoffMaxSeconds: z.number().positive().default(30),
    maxRetries: z.number().int().min(0).nullable().default(null).describe("null = retry for ever"),
    stallTimeoutSeconds: z.number().positive().default(5).describe("No output for this long = stalled, restart"),
    stableAfterSeconds: z.number().positive().default(60).describe("Running this long resets the backoff"),
  })
  .refine((r) => r.backoffMinSeconds <= r.backoffMaxSeconds, {
    path: ["backoffMaxSeconds"],
    message: "must be ≥ backoffMinSeconds",
  })
  .default({ backoffMinSeconds: 0.5, backoffMaxSeconds: 30, maxRetries: null, stallTimeoutSeconds: 5, stableAfterSeconds: 60 });

const slateSchema = z
  .discriminatedUnion("kind", [
    z.strictObject({
      kind: z.literal("generated"),
      text: z.string().max(200).optional().describe("Text shown; default the channel name"),
      color: z
        .string()
        .regex(/^[#A-Za-z0-9]+$/)
        .default("black"),
    }),
    z.strictObject({ kind: z.literal("image"), path: z.string().min(1) }),
    z.strictObject({ kind: z.literal("clip"), path: z.string().min(1) }),
  ])
  .default({ kind: "generated", color: "black" });

// ── the profile ────────────────────────────────────────────────────────────────

const profileObject = z
  .strictObject({
    version: z.literal(1).default(1).describe("Profile schema version"),
    channel: channelSchema,
    service: serviceSchema,
    input: inputSchema,
    encoding: encodingSchema,
    outputs: z.array(outputSchema).min(1),
    scte35: scte35Schema,
    epg: epgSchema,
    alerts: alertsSchema,
    restart: restartSchema,
    slate: slateSchema,
  })
  .superRefine((p, ctx) => {
    // PIDs must not collide (PMT, video, audio, SCTE-35)
    const pids: [string[], number][] = [
      [["encoding", "pids", "pmt"], p.encoding.pids.pmt],
      [["encoding", "pids", "video"], p.encoding.pids.video],
      [["encoding", "pids", "audio"], p.encoding.pids.audio],
    ];
    if (p.scte35.enabled) pids.push([["scte35", "pid"], p.scte35.pid]);
    const seen = new Map<number, string>();
    for (const [path, pid] of pids) {
      const other = seen.get(pid);
      if (other) ctx.addIssue({ code: "custom", path, message: `PID 0x${pid.toString(16)} is already used by ${other}` });
      else seen.set(pid, path.join("."));
    }
    if (p.input.kind === "test" && p.encoding.mode !== "transcode") {
      ctx.addIssue({ code: "custom", path: ["encoding", "mode"], message: "a test source must be transcoded" });
    }
    if (p.input.kind === "playlist" && p.encoding.mode !== "transcode") {
      ctx.addIssue({ code: "custom", path: ["encoding", "mode"], message: "a playlist must be transcoded (items differ)" });
    }
  });

/** Derives the DVB service_type from the encoding when the profile does not set it. */
export function defaultServiceType(encoding: z.output<typeof encodingSchema>): number {
  if (encoding.mode !== "transcode") return 0x01;
  const { codec, height } = encoding.video;
  if (codec.includes("264")) return height >= 720 ? 0x19 : 0x16;
  if (codec.includes("265") || codec.includes("hevc")) return 0x1f;
  if (codec === "mpeg2video") return height >= 720 ? 0x11 : 0x01;
  return 0x01;
}

export const profileSchema = profileObject.transform((p) => ({
  ...p,
  service: {
    ...p.service,
    name: p.service.name ?? p.channel.name,
    type: p.service.type ?? defaultServiceType(p.encoding),
  },
}));

/** A validated channel profile, with defaults filled in. */
export type ChannelProfile = z.output<typeof profileSchema>;
/** What an author may write (defaults optional). */
export type ChannelProfileInput = z.input<typeof profileSchema>;
export type ProfileInput = ChannelProfile["input"];
export type ProfileEncoding = ChannelProfile["encoding"];
export type ProfileOutput = ChannelProfile["outputs"][number];
export type AlertEvent = (typeof ALERT_EVENTS)[number];

/**
 * Paths of secret fields, `*` standing for any array index. Values there are replaced by
 * `***` in redacted output; URL-valued ones keep their shape with the credentials masked.
 */
export const SECRET_PATHS: readonly string[] = [
  "input.url",
  "input.passphrase",
  "input.streamId",
  "outputs.*.passphrase",
  "outputs.*.streamId",
  "alerts.telegram.botToken",
];

/** The profile's JSON Schema (draft 2020-12), authoring view (defaults optional). */
export function profileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(profileObject, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  return {
    ...schema,
    $id: "https://onair.invalid/schemas/channel-profile-v1.json",
    title: "onair channel profile",
    description: "One channel: DVB service, input, encoding, outputs, SCTE-35, EPG, alerts, restart policy, slate",
  };
}
