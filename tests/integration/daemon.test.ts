/**
 * `onair run` as a real process: profiles from a directory (one good, one tampered), the
 * HTTP server on a free port, the control API putting a cue into the UDP output, and the
 * one shutdown path: SIGTERM exits in time with no FFmpeg left, and after SIGKILL of the
 * daemon its FFmpeg children die too.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSpliceInfoSection, type SpliceInsert } from "../../src/scte35/index.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { alive, until } from "../helpers/pipeline.js";
import { scanTs } from "../helpers/tsscan.js";

const TOKEN = "daemon-test-token-0123456789";

describe.runIf(haveFfmpeg())("onair run", () => {
  let dir = "";
  let cap: Capture;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-daemon-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `tests:${TOKEN}\n`, { mode: 0o600 });
    // a config of our own, so nothing from /etc/onair is read
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    cap = await udpCapture();
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    writeFileSync(join(dir, "good.json"), JSON.stringify(testProfileInput({ id: "good", udpPort: cap.port, epg: { enabled: false } })));
    writeFileSync(join(dir, "profiles", "good.yaml"), readFileSync(join(dir, "good.json")));
    writeFileSync(join(dir, "bad.json"), JSON.stringify(testProfileInput({ id: "bad", udpPort: cap.port, epg: { enabled: false } })));
    const sealed = await runCli([
      "profile",
      "seal",
      join(dir, "bad.json"),
      "--out",
      join(dir, "profiles", "bad.onair"),
      "--key-file",
      join(dir, "key"),
    ]);
    expect(sealed.code).toBe(0);
    const bad = readFileSync(join(dir, "profiles", "bad.onair"));
    bad[bad.length - 20] ^= 0x01; // tampered
    writeFileSync(join(dir, "profiles", "bad.onair"), bad);
  });

  afterAll(async () => {
    await cap.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("runs the good channel, refuses the tampered profile by name, takes a cue over the API and stops on SIGTERM with no FFmpeg left", async () => {
    const d = await startDaemon(dir);
    try {
      expect(d.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      // pino writes asynchronously: the log line may follow the stdout line
      await until(() => d.log().includes('"event":"http_listening"'), 5000, "the http_listening log line");
      await until(() => cap.datagrams.length > 200, 30_000, "the good channel on UDP");
      expect(d.log()).toMatch(/"event":"profile_refused","file":"bad\.onair","code":"ONAIR_PROFILE_AUTH_FAILED"/);
      const list = (await (await fetch(`${d.url}/api/v1/channels`)).json()) as { channels?: Array<{ id: string }> } | Array<{ id: string }>;
      const ids = (Array.isArray(list) ? list : (list.channels ?? [])).map((c) => c.id);
      expect(ids).toEqual(["good"]);

      const denied = await fetch(`${d.url}/api/v1/channels/good/cues`, {
        method: "POST",
        body: JSON.stringify({ durationSeconds: 10 }),
        headers: { "content-type": "application/json" },
      });
      expect(denied.status).toBe(401);
      const res = await fetch(`${d.url}/api/v1/channels/good/cues`, {
        method: "POST",
        body: JSON.stringify({ durationSeconds: 10 }),
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      });
      expect(res.status).toBe(201);
      const { spliceEventId } = (await res.json()) as { spliceEventId: number };
      expect(spliceEventId).toBeGreaterThan(0);
      const unknown = await fetch(`${d.url}/api/v1/channels/nope/cues`, {
        method: "POST",
        body: JSON.stringify({ durationSeconds: 10 }),
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      });
      expect(unknown.status).toBe(404);
      const found = (): number[] =>
        scanTs(cap.bytes(), [500])
          .sections.map((s) => decodeSpliceInfoSection(s.bytes))
          .filter((s) => !s.encryptedPacket && s.spliceCommandType === 5)
          .map((s) => (s as { spliceCommand: SpliceInsert }).spliceCommand.spliceEventId);
      await until(() => found().includes(spliceEventId), 20_000, "the API's cue in the output");

      const metrics = await (await fetch(`${d.url}/metrics`)).text();
      expect(metrics).toMatch(/onair_channel_up\{channel="good"\} 1/);
    } finally {
      // stop first, assert after: a failed assertion must not leave the daemon running
      const pids = d.ffmpegPids();
      const t0 = performance.now();
      d.child.kill("SIGTERM");
      const exit = await d.exited;
      const took = performance.now() - t0;
      expect(pids.length).toBeGreaterThanOrEqual(2);
      expect(exit.code).toBe(0);
      expect(took).toBeLessThan(10_000);
      for (const pid of pids) expect(alive(pid)).toBe(false);
    }
  }, 90_000);

  it("leaves no FFmpeg behind when the daemon itself is killed with SIGKILL", async () => {
    const d = await startDaemon(dir);
    await until(() => d.ffmpegPids().length >= 2, 20_000, "FFmpeg started");
    const pids = d.ffmpegPids();
    d.child.kill("SIGKILL");
    await d.exited;
    // setpriv --pdeathsig KILL: the children die with their parent
    await until(() => pids.every((p) => !alive(p)), 5000, "FFmpeg children to die");
  }, 60_000);
});
