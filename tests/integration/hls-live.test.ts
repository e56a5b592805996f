/**
 * Issue #21 acceptance, live: a real daemon with a 320x180 channel (1 s GOP) and an `hls`
 * output (2 s segments, window 4, 3 s grace, markers both), its playlist followed over HTTP
 * four times a second while a break is asked through the API:
 * - no torn read, the media sequence never goes back, never more than `window` segments,
 *   every listed segment fetches (video/mp2t, immutable) and the playlist is no-cache;
 * - the break's CUE-OUT segment starts on the splice PTS of the cue in its tag, and a CUE-IN
 *   follows; an early return through the API moves the CUE-IN to the return IDR; a path
 *   outside the channel's folder is refused;
 * - a kill of the live FFmpeg gives an EXT-X-DISCONTINUITY and no hole in the numbers;
 * - a segment that left the playlist is gone after the grace period;
 * - a daemon restart continues the media sequence with a discontinuity;
 * - a file where the HLS directory should be → output_error while UDP keeps flowing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { M3u8Manifest } from "m3u8-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSpliceInfoSection } from "../../src/scte35/index.js";
import { createPesHeader, readPesHeaderFromPacket } from "../../src/ts/index.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { livePids, startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { parseM3u8 } from "../helpers/m3u8.js";
import { until, untilAsync } from "../helpers/pipeline.js";

const CHANNEL = "hlslive";
const TOKEN = "hls-live-api-token-0123456789abc";
const WINDOW = 4;
const VIDEO_PID = 0x100;

/** First video PTS of a segment. */
function firstVideoPts(data: Uint8Array): number {
  const pes = createPesHeader();
  for (let off = 0; off + 188 <= data.length; off += 188) {
    const pid = ((data[off + 1] & 0x1f) << 8) | data[off + 2];
    if (pid === VIDEO_PID && readPesHeaderFromPacket(data, off, pes) && pes.pts >= 0) return pes.pts;
  }
  return -1;
}

interface Follower {
  reads: number;
  errors: string[];
  /** every segment seen listed: sequence → uri */
  seen: Map<number, string>;
  /** the latest manifest */
  last: M3u8Manifest | undefined;
  /** manifests that had a DISCONTINUITY, a CUE-OUT, a CUE-IN */
  sawDiscontinuity: boolean;
  cueOut: { uri: string; oatcls: string; pdt: number } | undefined;
  cueIn: string | undefined;
  stop: () => Promise<void>;
}

/** Reads the playlist 4 times a second and checks every read; failures are collected in `errors`. */
function follow(url: string): Follower {
  const f: Follower = {
    reads: 0,
    errors: [],
    seen: new Map(),
    last: undefined,
    sawDiscontinuity: false,
    cueOut: undefined,
    cueIn: undefined,
    stop: async () => {},
  };
  let running = true;
  let lastSeq = -1;
  const fetched = new Set<string>();
  const once = async (): Promise<void> => {
    const res = await fetch(`${url}/index.m3u8`);
    if (res.status === 404) return; // not written yet
    const text = await res.text();
    f.reads++;
    if (res.headers.get("content-type") !== "application/vnd.apple.mpegurl")
      f.errors.push(`content-type ${res.headers.get("content-type")}`);
    if (res.headers.get("cache-control") !== "no-cache") f.errors.push(`playlist cache-control ${res.headers.get("cache-control")}`);
    if (!text.startsWith("#EXTM3U\n") || !/\nseg\d+\.ts\n$/.test(text)) f.errors.push(`torn read: ${JSON.stringify(text.slice(-40))}`);
    const { manifest, warnings } = parseM3u8(text);
    if (warnings.length) f.errors.push(`parser: ${warnings.join("; ")}`);
    const seq = manifest.mediaSequence ?? 0;
    if (seq < lastSeq) f.errors.push(`media sequence went back ${lastSeq} → ${seq}`);
    lastSeq = seq;
    if (manifest.segments.length > WINDOW) f.errors.push(`${manifest.segments.length} segments listed`);
    for (const [i, s] of manifest.segments.entries()) {
      if (s.uri !== `seg${seq + i}.ts`) f.errors.push(`segment ${s.uri} at sequence ${seq + i}`);
      f.seen.set(seq + i, s.uri);
      if (s.discontinuity) f.sawDiscontinuity = true;
      if (s.cueOut !== undefined && !f.cueOut) f.cueOut = { uri: s.uri, oatcls: s.custom!.oatcls as string, pdt: s.programDateTime! };
      if (s.cueIn !== undefined) f.cueIn ??= s.uri;
      if (fetched.has(s.uri)) continue;
      fetched.add(s.uri);
      const seg = await fetch(`${url}/${s.uri}`);
      const body = new Uint8Array(await seg.arrayBuffer());
      if (seg.status !== 200 || body.length === 0 || body[0] !== 0x47) f.errors.push(`${s.uri}: ${seg.status}, ${body.length} bytes`);
      if (!/^public, max-age=\d+, immutable$/.test(seg.headers.get("cache-control") ?? ""))
        f.errors.push(`segment cache-control ${seg.headers.get("cache-control")}`);
    }
    f.last = manifest;
  };
  const loop = (async () => {
    while (running) {
      const t0 = Date.now();
      await once().catch((e: unknown) => f.errors.push(String(e)));
      // the acceptance's pace: 4 reads a second
      await new Promise((r) => setTimeout(r, Math.max(0, 250 - (Date.now() - t0))));
    }
  })();
  f.stop = async () => {
    running = false;
    await loop;
  };
  return f;
}

describe.runIf(haveFfmpeg())("live hls output (issue #21)", () => {
  let dir = "";
  let cap: Capture;
  let d: Daemon | undefined;
  let base = "";
  const hlsDir = (): string => join(dir, "data", "hls", CHANNEL);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-hls-live-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `tests:${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    cap = await udpCapture();
    const hls = { kind: "hls", segmentSeconds: 2, window: WINDOW, deleteAfterSeconds: 3, markers: "both" };
    const profile = testProfileInput({ id: CHANNEL, udpPort: cap.port, epg: { enabled: false }, extraOutputs: [hls] }) as {
      encoding: { video: Record<string, unknown> };
    };
    profile.encoding.video = { ...profile.encoding.video, width: 320, height: 180, gopSeconds: 1 };
    writeFileSync(join(dir, "profiles", `${CHANNEL}.json`), JSON.stringify(profile));
    d = await startDaemon(dir);
    base = `${d.url}/hls/${CHANNEL}`;
  }, 60_000);

  afterAll(async () => {
    await stopDaemon(d);
    await cap?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("follows the playlist through a break and an FFmpeg kill, deletes after the grace", async () => {
    const f = follow(base);
    try {
      await until(() => f.reads > 0 && (f.last?.segments.length ?? 0) >= 2, 30_000, "a playlist with 2 segments");
      const res = await fetch(`${d!.url}/api/v1/channels/${CHANNEL}/cues`, {
        method: "POST",
        body: JSON.stringify({ durationSeconds: 4, at: new Date(Date.now() + 8000).toISOString() }),
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(201);
      await until(() => f.cueIn !== undefined, 30_000, "the break's CUE-IN listed");
      // the CUE-OUT segment starts on the splice PTS carried in its own tag
      const out = f.cueOut!;
      const section = decodeSpliceInfoSection(Buffer.from(out.oatcls, "base64"));
      if (section.encryptedPacket || section.spliceCommandType !== 0x05) throw new Error("not a splice_insert");
      const seg = new Uint8Array(await (await fetch(`${base}/${out.uri}`)).arrayBuffer());
      const splicePts = section.spliceCommand.spliceTime?.ptsTime;
      expect(firstVideoPts(seg)).toBe(splicePts);
      // the CUE-IN segment starts on the return IDR: splice + the 4 s break (1 s GOP)
      const back = new Uint8Array(await (await fetch(`${base}/${f.cueIn!}`)).arrayBuffer());
      expect(firstVideoPts(back)).toBe((splicePts! + 4 * 90_000) % 2 ** 33);

      // an FFmpeg kill: the slate takes over, then the live source again, each with a discontinuity
      const pid = livePids(d!.log(), CHANNEL).at(-1)!;
      const before = Math.max(...f.seen.keys());
      process.kill(pid, "SIGKILL");
      await until(() => f.sawDiscontinuity && Math.max(...f.seen.keys()) > before + 1, 30_000, "a DISCONTINUITY listed");

      // a segment that left the playlist is gone within the grace (3 s) and a little
      const gone = f.seen.get(Math.min(...f.seen.keys()))!;
      await untilAsync(async () => (await fetch(`${base}/${gone}`)).status === 404, 10_000, `${gone} deleted`);
    } finally {
      await f.stop();
    }
    expect(f.errors).toEqual([]);
    const seqs = [...f.seen.keys()].sort((a, b) => a - b);
    expect(seqs.at(-1)! - seqs[0] + 1).toBe(seqs.length); // no hole in the numbers
    expect(f.reads).toBeGreaterThan(20);
  }, 90_000);

  it("an early return through the API moves the CUE-IN to the return IDR", async () => {
    const api = (path: string, init: RequestInit = {}): Promise<Response> =>
      fetch(`${d!.url}/api/v1/channels/${CHANNEL}${path}`, {
        ...init,
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      });
    const f = follow(base);
    try {
      await until(() => (f.last?.segments.length ?? 0) >= 2, 30_000, "a playlist with 2 segments");
      const asked = await api("/cues", {
        method: "POST",
        body: JSON.stringify({ durationSeconds: 30, at: new Date(Date.now() + 8000).toISOString() }),
      });
      expect(asked.status).toBe(201);
      const { spliceEventId } = (await asked.json()) as { spliceEventId: number };
      await until(() => f.cueOut !== undefined, 30_000, "the break's CUE-OUT listed");
      const section = decodeSpliceInfoSection(Buffer.from(f.cueOut!.oatcls, "base64"));
      if (section.encryptedPacket || section.spliceCommandType !== 0x05) throw new Error("not a splice_insert");
      expect(section.spliceCommand.spliceEventId).toBe(spliceEventId);
      const splicePts = section.spliceCommand.spliceTime!.ptsTime!;
      f.cueIn = undefined; // a CUE-IN of the previous test's break may still be listed: this break's comes after its CUE-OUT
      const ret = await api(`/cues/${spliceEventId}/return`, { method: "POST" });
      expect(ret.status).toBe(200);
      const { returnPts } = (await ret.json()) as { returnPts: number };
      await until(() => f.cueIn !== undefined, 30_000, "the early CUE-IN listed");
      const back = new Uint8Array(await (await fetch(`${base}/${f.cueIn!}`)).arrayBuffer());
      expect(firstVideoPts(back)).toBe(returnPts);
      // well before the planned end (splice + 30 s)
      expect((returnPts - splicePts + 2 ** 33) % 2 ** 33).toBeLessThan(20 * 90_000);
    } finally {
      await f.stop();
    }
    expect(f.errors).toEqual([]);
  }, 90_000);

  it("refuses paths outside the channel's folder", async () => {
    for (const p of [
      "/hls/hlslive/state.json",
      "/hls/hlslive/..%2Fhlslive%2Findex.m3u8",
      "/hls/hlslive/%2e%2e/onair.db",
      "/hls/nochannel/index.m3u8",
      "/hls//etc/passwd",
      "/hls/hlslive/%2Fetc%2Fpasswd",
    ]) {
      const res = await fetch(`${d!.url}${p}`);
      expect([400, 404], p).toContain(res.status);
      await res.arrayBuffer();
    }
    const master = await fetch(`${base}/master.m3u8`);
    expect(master.status).toBe(200);
    expect(await master.text()).toMatch(/#EXT-X-STREAM-INF:BANDWIDTH=\d+,.*RESOLUTION=320x180/);
  });

  it("a daemon restart continues the media sequence with a discontinuity", async () => {
    const { manifest } = parseM3u8(await (await fetch(`${base}/index.m3u8`)).text());
    const lastBefore = (manifest.mediaSequence ?? 0) + manifest.segments.length - 1;
    await stopDaemon(d);
    d = await startDaemon(dir);
    base = `${d.url}/hls/${CHANNEL}`;
    let after: M3u8Manifest | undefined;
    await untilAsync(
      async () => {
        const r = await fetch(`${base}/index.m3u8`);
        after = r.status === 200 ? parseM3u8(await r.text()).manifest : undefined;
        return (
          after !== undefined &&
          after.segments.some((s) => s.uri === `seg${lastBefore + 1}.ts` || Number(/\d+/.exec(s.uri)![0]) > lastBefore)
        );
      },
      30_000,
      "the restarted daemon's playlist",
    );
    const first = after!.segments.find((s) => Number(/\d+/.exec(s.uri)![0]) > lastBefore)!;
    expect(first.uri).toBe(`seg${lastBefore + 1}.ts`);
    expect(first.discontinuity).toBe(true);
    expect(after!.discontinuitySequence ?? 0).toBeGreaterThanOrEqual(manifest.discontinuitySequence ?? 0);
  }, 60_000);

  it("a file where the HLS directory should be: output_error, and UDP keeps flowing", async () => {
    rmSync(hlsDir(), { recursive: true, force: true });
    writeFileSync(hlsDir(), "not a directory");
    await until(() => /"event":"output\.failed"[^\n]*"kind":"hls"/.test(d!.log()), 15_000, "the hls output failed");
    const n = cap.datagrams.length;
    await until(() => cap.datagrams.length > n + 100, 10_000, "UDP datagrams after the failure");
    expect(d!.log()).not.toMatch(/"event":"channel_down"/);
  }, 30_000);
});
