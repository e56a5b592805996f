/**
 * http and hls inputs against a local HTTP server that requires Basic auth: a channel on
 * air (real FFmpeg, its local input proxy) gets the stream with the URL's credentials, and
 * its live FFmpeg's /proc/PID/cmdline holds neither the password, the user, the query token
 * nor the origin's address.
 */
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer, get, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/observe/logger.js";
import { Channel } from "../../src/pipeline/channel.js";
import { InputProxy } from "../../src/pipeline/input-proxy.js";
import { openStore, type Store } from "../../src/store/db.js";
import { testProfile } from "../helpers/channel.js";
import { makeTestTs, runTool } from "../helpers/ffmpeg.js";
import { childPids, freeUdpPort, until } from "../helpers/pipeline.js";

const USER = "feeduser";
const PASS = "pA55-w0rd-in-the-url";
const TOKEN = "tok-in-query-8d1f";
const AUTH = `Basic ${Buffer.from(`${USER}:${PASS}`).toString("base64")}`;

let dir: string;
let store: Store;
let server: Server;
let port: number;
let ts: Buffer;
const authorized: string[] = [];
const held = new Set<ServerResponse>();

/** Basic auth like a CDN: 401 with a challenge, then `/live.ts` (sent, then held open) or `/hls/*`. */
function handle(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.authorization !== AUTH) {
    res.writeHead(401, { "WWW-Authenticate": 'Basic realm="feed"' }).end();
    return;
  }
  const path = new URL(req.url ?? "/", "http://x").pathname;
  authorized.push(req.url ?? "/");
  if (path === "/live.ts") {
    res.writeHead(200, { "Content-Type": "video/mp2t" });
    res.write(ts); // then held open, as a live stream that has nothing new yet
    held.add(res);
    return;
  }
  try {
    const body = readFileSync(join(dir, path.replace(/^\/hls\//, "")));
    res.writeHead(200).end(body);
  } catch {
    res.writeHead(404).end();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "onair-http-input-"));
  const src = await makeTestTs({ seconds: 4 }); // more than the 2 s the input probe may read
  ts = readFileSync(src);
  // a live HLS playlist (no ENDLIST): FFmpeg keeps polling it instead of ending
  await runTool("ffmpeg", [
    "-hide_banner",
    "-loglevel",
    "error",
    "-i",
    src,
    "-c",
    "copy",
    "-f",
    "hls",
    "-hls_time",
    "1",
    "-hls_list_size",
    "0",
    "-hls_flags",
    "omit_endlist",
    join(dir, "index.m3u8"),
  ]);
  store = openStore(join(dir, "onair.db"));
  server = createServer(handle);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  await until(() => childPids().length === 0, 5000, "no child process left");
  authorized.length = 0;
});
afterAll(async () => {
  for (const r of held) r.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Puts a channel on air with the input; returns its live FFmpeg's argv once it plays. */
async function cmdlineWhilePlaying(input: Record<string, unknown>): Promise<string[]> {
  const ch = new Channel({
    profile: testProfile({ udpPort: await freeUdpPort(), input }),
    store,
    logger: createLogger({ level: "silent" }),
    dataDir: dir,
  });
  try {
    await ch.start();
    await until(() => ch.status().source === "live" && ch.status().live.bytes > 188 * 100, 15_000, "live TS from the input");
    return readFileSync(`/proc/${ch.status().live.pid}/cmdline`, "utf8").split("\0");
  } finally {
    await ch.stop();
  }
}

function expectNoCredential(argv: string[]): void {
  expect(argv.some((a) => /ffmpeg$/.test(a))).toBe(true); // the FFmpeg itself, not a wrapper
  const all = argv.join(" ");
  for (const secret of [PASS, USER, TOKEN, `127.0.0.1:${port}`]) expect(all).not.toContain(secret);
}

describe("http and hls inputs keep their URL out of FFmpeg's argv", () => {
  it("plays a progressive HTTP input behind Basic auth with no credential in /proc/PID/cmdline", async () => {
    const argv = await cmdlineWhilePlaying({ kind: "http", url: `http://${USER}:${PASS}@127.0.0.1:${port}/live.ts?token=${TOKEN}` });
    expect(authorized).toContain(`/live.ts?token=${TOKEN}`); // the query reaches the origin
    expectNoCredential(argv);
  });

  it("plays an HLS input behind Basic auth with no credential in /proc/PID/cmdline", async () => {
    const argv = await cmdlineWhilePlaying({ kind: "hls", url: `http://${USER}:${PASS}@127.0.0.1:${port}/hls/index.m3u8?token=${TOKEN}` });
    expect(authorized).toContain(`/hls/index.m3u8?token=${TOKEN}`);
    expect(authorized.some((p) => /^\/hls\/index\d+\.ts$/.test(p))).toBe(true);
    expectNoCredential(argv);
  });

  it("answers only with its token, and a 502 (logged) when the origin is down", async () => {
    const down = createServer();
    await new Promise<void>((r) => down.listen(0, "127.0.0.1", r));
    const downPort = (down.address() as AddressInfo).port;
    await new Promise<void>((r) => down.close(() => r()));
    const warnings: Record<string, unknown>[] = [];
    const proxy = new InputProxy(`http://${USER}:${PASS}@127.0.0.1:${downPort}/live.ts`, { warn: (o) => warnings.push(o) });
    await proxy.start();
    const status = (url: string): Promise<number> =>
      new Promise((resolve, reject) => get(url, (res) => resolve(res.resume().statusCode ?? 0)).on("error", reject));
    try {
      expect(await status(proxy.url.replace(/\/\/onair:[^@]+@/, "//"))).toBe(401);
      expect(await status(proxy.url.replace(/:([^:@]+)@/, ":wrong@"))).toBe(401);
      expect(await status(proxy.url)).toBe(502);
      expect(warnings).toMatchObject([{ event: "input_proxy_error", error: "ECONNREFUSED" }]);
    } finally {
      await proxy.close();
    }
  });
});
