/**
 * Profiles that can never air, and a channel whose start fails (issue 19 item 6), through
 * `onair profile validate` and `onair run`:
 * - `fps: "1/0"`, a slate file that cannot be read and a relative slate path fail validate,
 *   and the daemon refuses the same profiles with `profile_refused`, at start and on SIGHUP
 *   (a running channel keeps its version), instead of a channel stuck in `starting`;
 * - a slate clip that reads but is no video passes the checks, so the channel's start fails
 *   (the slate cannot be encoded): it shows `failed`, is tried again with the profile's
 *   restart backoff (one `channel_start_failed` line per attempt) and goes on air once the
 *   file is a video.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { until, untilAsync } from "../helpers/pipeline.js";

interface LogLine {
  event?: string;
  file?: string;
  code?: string;
  message?: string;
  channel?: string;
  attempt?: number;
  nextRetryInMs?: number | null;
}

describe.runIf(haveFfmpeg())("profiles that cannot air, and a channel start that fails", () => {
  let dir = "";
  let cap: Capture;
  let d: Daemon | undefined;
  const profiles = (): string => join(dir, "profiles");
  const slate = (): string => join(dir, "slate.ts");
  const video = (): string => join(dir, "video.ts");
  const lines = (): LogLine[] =>
    d!
      .log()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as LogLine);
  const refused = (file: string): LogLine[] => lines().filter((l) => l.event === "profile_refused" && l.file === file);
  /** A channel profile with `over` merged at the top level, written as profiles/NAME.json. */
  const writeProfile = (name: string, id: string, over: Record<string, unknown>): string => {
    const path = join(profiles(), `${name}.json`);
    writeFileSync(path, JSON.stringify({ ...testProfileInput({ id, udpPort: cap.port, epg: { enabled: false } }), ...over }));
    return path;
  };
  const withFps = (fps: string): Record<string, unknown> => {
    const enc = testProfileInput({ udpPort: 1 }).encoding as { video: Record<string, unknown> };
    return { encoding: { ...enc, video: { ...enc.video, fps } } };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-profile-checks-"));
    mkdirSync(profiles(), { mode: 0o700 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    writeFileSync(join(dir, "api.token"), "tests:profile-checks-api-token-0123456789\n", { mode: 0o600 });
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    const clip = spawnSync("ffmpeg", [
      "-v",
      "error",
      "-f",
      "lavfi",
      "-i",
      "testsrc2=s=320x180:r=25",
      "-t",
      "1",
      "-c:v",
      "libx264",
      "-preset",
      "ultrafast",
      "-f",
      "mpegts",
      "-y",
      video(),
    ]);
    expect(clip.status).toBe(0);
    writeFileSync(slate(), "readable, but no video");
    cap = await udpCapture();
  }, 30_000);

  afterAll(async () => {
    await stopDaemon(d);
    await cap?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("profile validate refuses fps 1/0, an unreadable slate and a relative slate path", async () => {
    const files = [
      writeProfile("fps", "fps", withFps("1/0")),
      writeProfile("noslate", "noslate", { slate: { kind: "image", path: join(dir, "missing.png") } }),
      writeProfile("relslate", "relslate", { slate: { kind: "clip", path: "slates/clip.ts" } }),
    ];
    const r = await runCli(["profile", "validate", ...files]);
    expect(r.code).toBe(1);
    const out = r.stdout + r.stderr;
    expect(out).toContain("fps.json: ONAIR_PROFILE_INVALID: fps.json: encoding.video.fps:");
    expect(out).toContain("noslate.json: ONAIR_PROFILE_INVALID: noslate.json: slate.path: the slate image cannot be read (ENOENT)");
    expect(out).toContain("relslate.json: ONAIR_PROFILE_INVALID: relslate.json: slate.path: the slate clip must be an absolute path");
    expect(out).not.toContain(join(dir, "missing.png")); // a path is named, never a value
  });

  it("the daemon refuses them too, retries a failed start with backoff, and refuses a bad edit on SIGHUP", async () => {
    writeProfile("ok", "ok", { slate: { kind: "clip", path: slate() } });
    d = await startDaemon(dir);
    for (const f of ["fps.json", "noslate.json", "relslate.json"]) {
      await until(() => refused(f).length > 0, 10_000, `${f} refused`);
      expect(refused(f)).toEqual([expect.objectContaining({ code: "ONAIR_PROFILE_INVALID" })]);
    }
    expect(refused("fps.json")[0].message).toContain("encoding.video.fps");
    // the API (and the console's wall) lists them beside the channels
    const listed = (await (await fetch(`${d.url}/api/v1/channels`)).json()) as { refused: { file: string; code: string }[] };
    expect(listed.refused.map((r) => r.file).sort()).toEqual(["fps.json", "noslate.json", "relslate.json"]);
    expect(listed.refused.every((r) => r.code === "ONAIR_PROFILE_INVALID")).toBe(true);

    // the slate cannot be encoded: failed, tried again with backoff, not stuck in starting
    const failures = (): LogLine[] => lines().filter((l) => l.event === "channel_start_failed" && l.channel === "ok");
    await until(() => failures().length >= 2, 15_000, "two failed starts");
    expect(failures()[0]).toMatchObject({ attempt: 1, code: "ONAIR_SLATE_ENCODE" });
    expect(failures()[1].attempt).toBe(2);
    for (const f of failures()) expect(f.nextRetryInMs).toBeGreaterThanOrEqual(100);
    const state = async (): Promise<string> => ((await (await fetch(`${d!.url}/api/v1/channels/ok`)).json()) as { state: string }).state;
    // between attempts (an attempt itself shows `starting`)
    await untilAsync(async () => (await state()) === "failed", 5000, "the state failed between attempts");

    copyFileSync(video(), slate());
    await until(() => lines().some((l) => l.event === "channel_started" && l.channel === "ok"), 15_000, "the channel started");
    await untilAsync(async () => (await state()) === "on_air", 10_000, "the channel on air");
    await until(() => cap.datagrams.length > 20, 10_000, "the channel on UDP");

    // SIGHUP: an edit that cannot air is refused and the running version stays
    const before = refused("ok.json").length;
    writeProfile("ok", "ok", { slate: { kind: "clip", path: slate() }, ...withFps("25/0") });
    d.child.kill("SIGHUP");
    await until(() => refused("ok.json").length > before, 15_000, "the edit refused");
    expect(refused("ok.json").at(-1)?.message).toContain("encoding.video.fps");
    expect(await state()).toBe("on_air");
  }, 60_000);
});
