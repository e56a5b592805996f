import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { profileSchema, type ChannelProfileInput } from "../../src/config/profile-schema.js";
import { isOnairError } from "../../src/core/errors.js";
import { buildFfmpegArgs, checkFfmpeg, detectSetpriv, keyframeGrid, resolveFfmpegBinary } from "../../src/pipeline/ffmpeg-args.js";
import { needsInputProxy } from "../../src/pipeline/input-proxy.js";

const base: ChannelProfileInput = {
  channel: { id: "demo", name: "onair demo" },
  service: { serviceId: 7, transportStreamId: 9, originalNetworkId: 0x20fa, name: "Demo One", provider: "onair" },
  input: { kind: "test", pattern: "testsrc2", toneHz: 1000 },
  encoding: {
    mode: "transcode",
    video: { codec: "libx264", width: 1280, height: 720, fps: 25, bitrate: "2500k", gopSeconds: 2, preset: "veryfast" },
    audio: { codec: "aac", bitrate: "128k" },
    muxRate: "3500k",
    pids: { pmt: 0x1000, video: 0x100, audio: 0x101 },
  },
  outputs: [{ kind: "udp", host: "127.0.0.1", port: 5000 }],
};

function profile(over: Partial<ChannelProfileInput> = {}) {
  return profileSchema.parse({ ...base, ...over });
}

/** The value following `flag` (first occurrence). */
function opt(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}
function all(args: string[], flag: string): string[] {
  return args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
}

const tmp = mkdtempSync(join(tmpdir(), "onair-args-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("buildFfmpegArgs", () => {
  it("builds the demo's transcode: lavfi test source in real time, CBR TS on stdout", () => {
    const c = buildFfmpegArgs(profile(), { ffmpegPath: "/usr/bin/ffmpeg", setpriv: false });
    const a = c.args;
    expect(c.command).toBe("/usr/bin/ffmpeg");
    expect(a.slice(0, 5)).toEqual(["-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+warning"]);
    expect(opt(a, "-progress")).toBe("pipe:3");
    expect(c.progressFd).toBe(3);
    expect(all(a, "-i")).toEqual(["testsrc2=size=1280x720:rate=25", "sine=frequency=1000:sample_rate=48000"]);
    expect(a.filter((x) => x === "-re")).toHaveLength(2);
    expect(all(a, "-f")).toEqual(["lavfi", "lavfi", "mpegts"]);
    expect(a.at(-1)).toBe("pipe:1");
    expect(opt(a, "-muxrate")).toBe("3500000");
    expect(opt(a, "-c:v")).toBe("libx264");
    expect(opt(a, "-b:v")).toBe("2500000");
    expect(opt(a, "-maxrate")).toBe("2500000");
    expect(opt(a, "-c:a")).toBe("aac");
    expect(opt(a, "-b:a")).toBe("128000");
    expect(all(a, "-map")).toEqual(["0:v:0", "1:a:0"]);
    expect(a).not.toContain("-vf"); // the test source is generated at the right size and rate
  });

  it("puts a closed GOP on a whole-frame grid", () => {
    const a = buildFfmpegArgs(profile(), { ffmpegPath: "ffmpeg", setpriv: false }).args;
    expect(opt(a, "-force_key_frames")).toBe("expr:gte(n,n_forced*50)");
    expect(opt(a, "-g")).toBe("50");
    expect(opt(a, "-keyint_min")).toBe("50");
    expect(opt(a, "-sc_threshold")).toBe("0");
    expect(opt(a, "-forced-idr")).toBe("1");
    expect(opt(a, "-flags")).toBe("+cgop");
    expect(opt(a, "-preset")).toBe("veryfast");
  });

  it("passes the profile's tune to x264 and x265 only, after the preset", () => {
    const withVideo = (video: object): ReturnType<typeof profile> =>
      profile({
        encoding: {
          ...(base.encoding as object),
          video: { width: 1280, height: 720, fps: 25, bitrate: "2500k", tune: "zerolatency", ...video },
        } as never,
      });
    const a = buildFfmpegArgs(withVideo({ codec: "libx264", preset: "ultrafast" }), { ffmpegPath: "ffmpeg", setpriv: false }).args;
    expect(opt(a, "-tune")).toBe("zerolatency");
    expect(a.indexOf("-tune")).toBeGreaterThan(a.indexOf("-preset"));
    expect(opt(buildFfmpegArgs(withVideo({ codec: "libx265" }), { ffmpegPath: "ffmpeg", setpriv: false }).args, "-tune")).toBe(
      "zerolatency",
    );
    expect(buildFfmpegArgs(withVideo({ codec: "mpeg2video" }), { ffmpegPath: "ffmpeg", setpriv: false }).args).not.toContain("-tune");
    expect(buildFfmpegArgs(profile(), { ffmpegPath: "ffmpeg", setpriv: false }).args).not.toContain("-tune");
  });

  it("rounds a GOP to whole frames at 30000/1001 and reports the exact period", () => {
    const g = keyframeGrid(2, "30000/1001");
    expect(g.frames).toBe(60);
    expect(g.seconds).toBeCloseTo(2.002, 6);
    const p = profile({
      encoding: {
        ...(base.encoding as object),
        video: { codec: "libx264", width: 320, height: 240, fps: "30000/1001", bitrate: "300k" },
      } as never,
    });
    const c = buildFfmpegArgs(p, { ffmpegPath: "ffmpeg", setpriv: false });
    expect(opt(c.args, "-force_key_frames")).toBe("expr:gte(n,n_forced*60)");
    expect(c.keyframes).toEqual({ frames: 60, fps: "30000/1001", seconds: 60 / (30000 / 1001) });
    expect(all(c.args, "-i")[0]).toBe("testsrc2=size=320x240:rate=30000/1001");
  });

  it("takes PIDs and DVB ids from the profile", () => {
    const p = profile({
      encoding: { ...(base.encoding as object), pids: { pmt: 0x1100, video: 0x200, audio: 0x210 } } as never,
    });
    const a = buildFfmpegArgs(p, { ffmpegPath: "ffmpeg", setpriv: false }).args;
    expect(opt(a, "-mpegts_pmt_start_pid")).toBe(String(0x1100));
    expect(opt(a, "-mpegts_start_pid")).toBe(String(0x200));
    expect(all(a, "-streamid")).toEqual([`0:${0x200}`, `1:${0x210}`]);
    expect(opt(a, "-mpegts_service_id")).toBe("7");
    expect(opt(a, "-mpegts_transport_stream_id")).toBe("9");
    expect(opt(a, "-mpegts_original_network_id")).toBe(String(0x20fa));
    expect(opt(a, "-mpegts_service_type")).toBe(String(0x19)); // derived: AVC HD
    expect(all(a, "-metadata")).toEqual(["service_name=Demo One", "service_provider=onair"]);
  });

  it("leaves an ONID of 0 to the injector with a warning (FFmpeg accepts 1–65535)", () => {
    const c = buildFfmpegArgs(profile({ service: { ...(base.service as object), originalNetworkId: 0 } }), { setpriv: false });
    expect(c.args).not.toContain("-mpegts_original_network_id");
    expect(c.warnings.join()).toMatch(/originalNetworkId/);
  });

  it("copies streams in passthrough, with -muxrate only when the profile has one", () => {
    const pass = (muxRate?: string) =>
      buildFfmpegArgs(
        profile({
          input: { kind: "udp", url: "udp://@239.1.1.1:1234", interface: "10.0.0.5", timeoutSeconds: 3 },
          encoding: { mode: "passthrough", ...(muxRate ? { muxRate } : {}) } as never,
        }),
        { ffmpegPath: "ffmpeg", setpriv: false },
      ).args;
    const vbr = pass();
    expect(opt(vbr, "-c")).toBe("copy");
    expect(vbr).not.toContain("-c:v");
    expect(vbr).not.toContain("-force_key_frames");
    expect(vbr).not.toContain("-muxrate");
    expect(all(vbr, "-map")).toEqual(["0:v:0?", "0:a:0?"]);
    expect(opt(vbr, "-i")).toBe("udp://@239.1.1.1:1234?overrun_nonfatal=1&localaddr=10.0.0.5");
    expect(opt(vbr, "-rw_timeout")).toBe("3000000");
    expect(vbr).not.toContain("-re");
    expect(opt(pass("8M"), "-muxrate")).toBe("8000000");
  });

  it("adds reconnect options for http and hls, not for udp", () => {
    const http = buildFfmpegArgs(
      profile({ input: { kind: "http", url: "https://cdn.example/live.ts" }, encoding: { mode: "passthrough", muxRate: "5M" } as never }),
      { setpriv: false },
    ).args;
    for (const f of ["-reconnect", "-reconnect_streamed", "-reconnect_on_network_error", "-reconnect_at_eof"])
      expect(opt(http, f)).toBe("1");
    expect(opt(http, "-reconnect_on_http_error")).toBe("5xx");
    expect(http.indexOf("-reconnect")).toBeLessThan(http.indexOf("-i")); // input options come before -i
    const hls = buildFfmpegArgs(
      profile({ input: { kind: "hls", url: "https://cdn.example/live.m3u8" }, encoding: { mode: "passthrough" } as never }),
      { setpriv: false },
    ).args;
    expect(opt(hls, "-reconnect")).toBe("1");
    expect(hls).not.toContain("-reconnect_at_eof");
    const noRe = buildFfmpegArgs(
      profile({ input: { kind: "http", url: "http://x.example/a.ts", reconnect: false }, encoding: { mode: "passthrough" } as never }),
      { setpriv: false },
    ).args;
    expect(noRe).not.toContain("-reconnect");
  });

  it("gives FFmpeg the input proxy's URL instead of an http/hls URL with credentials or a query", () => {
    expect(needsInputProxy("https://user:pw@cdn.example/live.ts")).toBe(true);
    expect(needsInputProxy("https://cdn.example/live.m3u8?token=abc")).toBe(true);
    expect(needsInputProxy("https://cdn.example/live.m3u8")).toBe(false);
    const p = profile({
      input: { kind: "hls", url: "https://user:pw@cdn.example/live.m3u8?token=abc" },
      encoding: { mode: "passthrough" } as never,
    });
    const local = "http://onair:t0ken@127.0.0.1:40000/live.m3u8";
    const c = buildFfmpegArgs(p, { setpriv: false, inputUrl: local });
    expect(opt(c.args, "-i")).toBe(local);
    expect(c.args.join(" ")).not.toMatch(/pw|cdn\.example|token=abc/);
    expect(c.secretsInArgv).toEqual([]);
    expect(buildFfmpegArgs(p, { setpriv: false }).secretsInArgv).toEqual(["input.url"]);
  });

  it("plays files in real time, looped, scaled to the profile", () => {
    const a = buildFfmpegArgs(profile({ input: { kind: "file", path: "/media/loop.mp4" } }), { setpriv: false }).args;
    expect(a.slice(a.indexOf("-re"), a.indexOf("-i") + 2)).toEqual(["-re", "-stream_loop", "-1", "-i", "/media/loop.mp4"]);
    expect(opt(a, "-vf")).toBe("scale=1280:720:force_original_aspect_ratio=decrease,pad=1280:720:-1:-1,setsar=1,fps=25");
    expect(all(a, "-map")).toEqual(["0:v:0", "0:a:0?"]);
  });

  it("runs a playlist from its filter graph script and key-frame list", () => {
    const p = profile({ input: { kind: "playlist" } });
    expect(() => buildFfmpegArgs(p, { setpriv: false })).toThrow(/filter graph/);
    const args = buildFfmpegArgs(p, { setpriv: false, playlist: { script: "/d/g.txt", keyframes: "0,2,3.5" } }).args;
    expect(opt(args, "-filter_complex_script")).toBe("/d/g.txt");
    expect(opt(args, "-force_key_frames")).toBe("0,2,3.5");
    expect(args).not.toContain("-re");
    expect(args.join(" ")).toContain("-map [vout] -map [aout]");
  });

  it("uses codec-specific closed-GOP options for x265", () => {
    const a = buildFfmpegArgs(
      profile({
        encoding: {
          ...(base.encoding as object),
          video: { codec: "libx265", width: 1920, height: 1080, fps: 50, bitrate: "6M", gopSeconds: 1 },
          muxRate: "8M",
        } as never,
      }),
      { setpriv: false },
    ).args;
    expect(opt(a, "-x265-params")).toBe("keyint=50:min-keyint=50:scenecut=0:open-gop=0:log-level=error");
    expect(opt(a, "-force_key_frames")).toBe("expr:gte(n,n_forced*50)");
  });

  it("prefixes setpriv --pdeathsig KILL when asked or detected", () => {
    const c = buildFfmpegArgs(profile(), { ffmpegPath: "/usr/bin/ffmpeg", setpriv: "/usr/bin/setpriv" });
    expect(c.command).toBe("/usr/bin/setpriv");
    expect(c.args.slice(0, 4)).toEqual(["--pdeathsig", "KILL", "--", "/usr/bin/ffmpeg"]);
    expect(c.args.slice(4)).toEqual(c.ffmpegArgs);
    const detected = detectSetpriv();
    const d = buildFfmpegArgs(profile(), { ffmpegPath: "/usr/bin/ffmpeg" });
    expect(d.setpriv).toBe(detected !== null);
  });

  it("keeps output and alert secrets out of argv; names the input secrets FFmpeg 5.1 cannot hide", () => {
    const outPass = "out-passphrase-0123456789";
    const outSid = "#!::r=live/backup,u=ops-secret-user";
    const botToken = "123456789:AAAbbbCCCdddEEEfffGGGhhhIIIjjjKKKll";
    const withOutputs = {
      outputs: [
        { kind: "udp", host: "239.1.1.1", port: 5000 },
        { kind: "srt", mode: "caller", host: "backup.example", port: 9000, passphrase: outPass, streamId: outSid },
      ],
      alerts: { telegram: { chatIds: [-100123], botToken } },
    } as Partial<ChannelProfileInput>;

    // test input: nothing secret may be in argv at all
    const t = buildFfmpegArgs(profile(withOutputs), { setpriv: false });
    const joined = t.args.join("\n");
    for (const s of [outPass, outSid, botToken]) expect(joined).not.toContain(s);
    expect(t.secretsInArgv).toEqual([]);

    // SRT input: the input's own passphrase is unavoidable on FFmpeg 5.1, and reported
    const inPass = "input-passphrase-abcdef";
    const s = buildFfmpegArgs(
      profile({
        ...withOutputs,
        input: { kind: "srt", url: "srt://src.example:7000", passphrase: inPass, pbkeylen: 16, streamId: "in-stream-id" },
        encoding: { mode: "passthrough", muxRate: "6M" } as never,
      }),
      { setpriv: false },
    );
    const sj = s.args.join("\n");
    for (const x of [outPass, outSid, botToken]) expect(sj).not.toContain(x);
    expect(s.secretsInArgv.sort()).toEqual(["input.passphrase", "input.streamId", "input.url"]);
    expect(opt(s.args, "-passphrase")).toBe(inPass);
    // not in the URL, where FFmpeg would echo it in its error lines
    expect(opt(s.args, "-i")).toBe("srt://src.example:7000?mode=caller&latency=120000&streamid=in-stream-id");
  });
});

describe("resolveFfmpegBinary and checkFfmpeg", () => {
  it("prefers ONAIR_FFMPEG, then the configured binary, then PATH", () => {
    const fake = join(tmp, "my-ffmpeg");
    writeFileSync(fake, "#!/bin/sh\necho 'ffmpeg version 9.9-custom Copyright'\n");
    chmodSync(fake, 0o755);
    expect(resolveFfmpegBinary({ env: { ONAIR_FFMPEG: fake, PATH: "/usr/bin" }, configured: "/nope" })).toBe(fake);
    expect(resolveFfmpegBinary({ env: { PATH: "/usr/bin" }, configured: fake })).toBe(fake);
    expect(resolveFfmpegBinary({ env: { PATH: tmp }, configured: "my-ffmpeg" })).toBe(fake);
    expect(resolveFfmpegBinary({ env: { PATH: "/usr/bin:/bin" } })).toMatch(/\/ffmpeg$/);
    expect(resolveFfmpegBinary({ env: { PATH: tmp } })).toBe("ffmpeg"); // not found: name as given
  });

  it("reads the installed FFmpeg's version", async () => {
    const v = await checkFfmpeg(resolveFfmpegBinary());
    expect(v.major).toBeGreaterThanOrEqual(4);
    expect(v.version).toMatch(/^\d+\.\d+/);
  });

  it("throws ONAIR_FFMPEG_NOT_FOUND with the install command when missing or unusable", async () => {
    for (const bin of [join(tmp, "missing-ffmpeg"), "/bin/false"]) {
      const err = await checkFfmpeg(bin).then(
        () => null,
        (e: unknown) => e,
      );
      expect(isOnairError(err)).toBe(true);
      expect((err as { code: string }).code).toBe("ONAIR_FFMPEG_NOT_FOUND");
      expect((err as Error).message).toContain("sudo apt-get install -y ffmpeg");
    }
  });
});
