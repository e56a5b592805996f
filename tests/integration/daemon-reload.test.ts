/**
 * SIGHUP reloads the profiles: a new profile starts its channel, a changed one restarts only
 * that channel, a removed one stops it; channels whose profile did not change are not touched.
 * It also re-reads the API token file: a new token works, a removed one is refused.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { startDaemon, livePids } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { alive, until } from "../helpers/pipeline.js";

async function channelIds(url: string): Promise<string[]> {
  const body = (await (await fetch(`${url}/api/v1/channels`)).json()) as { channels?: Array<{ id: string }> } | Array<{ id: string }>;
  return (Array.isArray(body) ? body : (body.channels ?? [])).map((c) => c.id).sort();
}

/** Status of an authorized POST to a channel that does not exist: 404 with a valid token, 401 without. */
async function postStatus(url: string, token: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/channels/nope/restart`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: "{}",
  });
  await res.arrayBuffer();
  return res.status;
}

const OLD_TOKEN = "reload-test-token-0123456789";
const NEW_TOKEN = "reload-test-token-after-hup-0123456789";

describe.runIf(haveFfmpeg())("onair run on SIGHUP", () => {
  let dir = "";
  let cap: Capture;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-reload-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    writeFileSync(join(dir, "api.token"), `t:${OLD_TOKEN}\n`, { mode: 0o600 });
    cap = await udpCapture();
  });
  afterAll(async () => {
    await cap.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("starts a new channel, restarts only a changed one, stops a removed one and re-reads the API tokens", async () => {
    const write = (id: string, over: Record<string, unknown> = {}): void =>
      writeFileSync(
        join(dir, "profiles", `${id}.json`),
        JSON.stringify({ ...testProfileInput({ id, udpPort: cap.port, epg: { enabled: false } }), ...over }),
      );
    write("alpha");
    const d = await startDaemon(dir);
    try {
      await until(() => livePids(d.log(), "alpha").length === 1, 20_000, "alpha on air");
      const alphaPid = livePids(d.log(), "alpha")[0];
      expect(await channelIds(d.url)).toEqual(["alpha"]);
      expect(await postStatus(d.url, OLD_TOKEN)).toBe(404);
      expect(await postStatus(d.url, NEW_TOKEN)).toBe(401);

      write("beta");
      writeFileSync(join(dir, "api.token"), `t:${NEW_TOKEN}\n`, { mode: 0o600 });
      d.child.kill("SIGHUP");
      await until(() => livePids(d.log(), "beta").length === 1, 20_000, "beta started");
      // the tokens were read again: the new one works, the old one is refused
      expect(await postStatus(d.url, NEW_TOKEN)).toBe(404);
      expect(await postStatus(d.url, OLD_TOKEN)).toBe(401);
      expect(await channelIds(d.url)).toEqual(["alpha", "beta"]);
      const betaPid = livePids(d.log(), "beta")[0];

      write("beta", { channel: { id: "beta", name: "Beta, renamed" } });
      d.child.kill("SIGHUP");
      await until(() => livePids(d.log(), "beta").length === 2, 20_000, "beta restarted");
      await until(() => !alive(betaPid), 10_000, "the old beta FFmpeg gone");

      unlinkSync(join(dir, "profiles", "beta.json"));
      d.child.kill("SIGHUP");
      await until(
        () => d.log().includes('"event":"channel_stopped","channel":"beta"') && d.log().split('"event":"reloaded"').length === 4,
        20_000,
        "beta stopped",
      );
      expect(await channelIds(d.url)).toEqual(["alpha"]);
      const betaNow = livePids(d.log(), "beta");
      expect(alive(betaNow[betaNow.length - 1])).toBe(false);

      // alpha was never touched: same FFmpeg all along
      expect(livePids(d.log(), "alpha")).toEqual([alphaPid]);
      expect(alive(alphaPid)).toBe(true);
    } finally {
      d.child.kill("SIGTERM");
      expect((await d.exited).code).toBe(0);
    }
  }, 120_000);
});
