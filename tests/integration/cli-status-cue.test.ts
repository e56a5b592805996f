/**
 * `onair status` and `onair cue` against a running `onair run` (real process, loopback, a
 * free port), and their stable error codes: unreachable, unauthorized, not found and the
 * server's own error code.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSpliceInfoSection, type SpliceInsert } from "../../src/scte35/index.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, type Daemon } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { alive, until, untilAsync } from "../helpers/pipeline.js";
import { scanTs } from "../helpers/tsscan.js";

const API_TOKEN = "cli-test-api-token-0123456789abc";

/** A loopback port nobody listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("onair status / cue without a daemon", () => {
  it("reports ONAIR_API_UNREACHABLE with the URL when nothing listens", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await runCli(["status", "--url", url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ONAIR_API_UNREACHABLE");
    expect(r.stderr).toContain(url);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it("takes the URL from ONAIR_URL", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await runCli(["status"], { env: { ONAIR_URL: url } });
    expect(r.stderr).toContain(`ONAIR_API_UNREACHABLE: cannot reach the daemon at ${url}`);
  });

  it("refuses a bad duration before any request", async () => {
    const r = await runCli(["cue", "--channel", "x", "--duration", "-5", "--url", "http://127.0.0.1:9"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ONAIR_CLI_BAD_DURATION");
  });

  it("refuses a break under 1 s and a time more than 7 days ahead with the API's codes, before any request", async () => {
    const cue = (...args: string[]) =>
      runCli(["cue", "--channel", "x", "--url", "http://127.0.0.1:9", "--api-token-file", "/nonexistent", ...args]);
    const day = 86_400_000;
    const cases: Array<[string[], string]> = [
      [["--duration", "0.0001"], "ONAIR_CUE_BAD_DURATION"],
      [["--duration", "30", "--at", new Date(Date.now() + 7 * day + 3_600_000).toISOString()], "ONAIR_CUE_BEYOND_HORIZON"],
    ];
    const results = await Promise.all(cases.map(([args]) => cue(...args)));
    results.forEach((r, i) => {
      expect(r.code, cases[i][1]).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^onair: ${cases[i][1]}: `));
    });
  });
});

describe.runIf(haveFfmpeg())("onair status / cue against onair run", () => {
  let dir = "";
  let cap: Capture;
  let d: Daemon;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-cli-api-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `# tokens\n\nops:${API_TOKEN}\nother:another-token-0123456789abcdef\n`, { mode: 0o600 });
    writeFileSync(join(dir, "wrong.token"), "not-the-right-token-0123456789\n", { mode: 0o600 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    cap = await udpCapture();
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    writeFileSync(
      join(dir, "profiles", "news.json"),
      JSON.stringify(testProfileInput({ id: "news", udpPort: cap.port, epg: { enabled: false } })),
    );
    d = await startDaemon(dir);
    await until(() => cap.datagrams.length > 100, 30_000, "the channel on UDP");
  }, 60_000);

  afterAll(async () => {
    if (d) {
      const pids = d.ffmpegPids();
      d.child.kill("SIGTERM");
      await d.exited;
      await until(() => pids.every((p) => !alive(p)), 10_000, "FFmpeg children to end");
    }
    await cap?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const tokenFile = (): string => join(dir, "api.token");

  it("prints a table of the channels: channel, state, up, source, current item, next cue", async () => {
    await until(() => /"event":"slate_off"/.test(d.log()), 20_000, "the channel live");
    const r = await runCli(["status", "--url", d.url]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [head, row, ...rest] = r.stdout.trimEnd().split("\n");
    expect(head).toMatch(/^CHANNEL\s+STATE\s+UP\s+SOURCE\s+CURRENT ITEM\s+NEXT CUE$/);
    expect(row).toMatch(/^news\s+on_air\s+yes\s+live\s+-\s+-$/);
    expect(rest).toEqual([]);
  });

  it("prints the API's JSON with --json, one channel with --channel", async () => {
    const all = await runCli(["status", "--url", d.url, "--json"]);
    expect(all.code).toBe(0);
    const parsed = JSON.parse(all.stdout) as { channels: Array<{ id: string; state: string }> };
    expect(parsed.channels.map((c) => c.id)).toEqual(["news"]);
    const one = await runCli(["status", "--url", d.url, "--channel", "news", "--json"]);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ id: "news", up: true });
  });

  it("plans a cue with the first token of the token file and shows it as the next cue", async () => {
    const r = await runCli(["cue", "--url", d.url, "--channel", "news", "--duration", "10", "--api-token-file", tokenFile()]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const m = /^cue #(\d+) on news: 10s break at the next IDR after the preroll$/.exec(r.stdout.trim());
    expect(m).not.toBeNull();
    expect(d.log()).toContain(`"event":"cue_requested","channel":"news","who":"token:ops"`);
    // the preroll is 6 s: the cue is still ahead
    const s = await runCli(["status", "--url", d.url]);
    expect(s.stdout).toMatch(new RegExp(`#${m?.[1]} \\d{2}:\\d{2}:\\d{2}Z 10s`));
  });

  it("sends --at as an ISO time", async () => {
    const at = new Date(Date.now() + 120_000).toISOString().replace(/\.\d+Z$/, ".000Z");
    const r = await runCli([
      "cue",
      "--url",
      d.url,
      "--channel",
      "news",
      "--duration",
      "30",
      "--at",
      at,
      "--api-token-file",
      tokenFile(),
      "--json",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ channel: "news", at, spliceEventId: expect.any(Number) as number });
  });

  it("maps 401 to ONAIR_API_UNAUTHORIZED, 404 to ONAIR_API_NOT_FOUND and other errors to ONAIR_API_ERROR with the server's code", async () => {
    const denied = await runCli([
      "cue",
      "--url",
      d.url,
      "--channel",
      "news",
      "--duration",
      "10",
      "--api-token-file",
      join(dir, "wrong.token"),
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/^onair: ONAIR_API_UNAUTHORIZED: /);
    expect(denied.stderr).not.toContain("not-the-right-token");

    const unknown = await runCli(["cue", "--url", d.url, "--channel", "nope", "--duration", "10", "--api-token-file", tokenFile()]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^onair: ONAIR_API_NOT_FOUND: .*nope/);
    const status404 = await runCli(["status", "--url", d.url, "--channel", "nope"]);
    expect(status404.stderr).toMatch(/^onair: ONAIR_API_NOT_FOUND: /);

    const past = await runCli([
      "cue",
      "--url",
      d.url,
      "--channel",
      "news",
      "--duration",
      "10",
      "--at",
      "2000-01-01T00:00:00Z",
      "--api-token-file",
      tokenFile(),
    ]);
    expect(past.code).toBe(1);
    expect(past.stderr).toMatch(
      /^onair: ONAIR_API_ERROR: the daemon answered 400 ONAIR_CUE_IN_PAST: the splice time 2000-01-01T00:00:00.000Z is in the past/,
    );
  });

  it("returns a break early (--return) with an in cue under its id, and cancels a pending one (--cancel): audited, wrong states refused", async () => {
    const t0 = Date.now();
    const cli = (...args: string[]) => runCli(["cue", "--url", d.url, "--channel", "news", "--api-token-file", tokenFile(), ...args]);
    const idOf = (stdout: string): number => Number(/^cue #(\d+) /.exec(stdout.trim())?.[1]);
    const sent = (kind: string, id: number): number =>
      d
        .log()
        .split("\n")
        .filter((l) => l.includes('"event":"cue_sent"') && l.includes(`"kind":"${kind}","spliceEventId":${id},`)).length;
    const nextCueId = async (): Promise<number | undefined> =>
      ((await (await fetch(`${d.url}/api/v1/channels/news`)).json()) as { nextCue: { spliceEventId: number } | null }).nextCue
        ?.spliceEventId;
    const onAir = idOf((await cli("--duration", "60")).stdout);
    const pending = idOf((await cli("--duration", "10", "--at", new Date(Date.now() + 30_000).toISOString())).stdout);
    expect(onAir).toBeGreaterThan(0);
    // a break not on air yet is not returned
    const tooSoon = await cli("--return", String(onAir));
    expect(tooSoon.stderr).toMatch(/^onair: ONAIR_API_ERROR: the daemon answered 409 ONAIR_CUE_NOT_ON_AIR: /);
    // the break now is on air once the status's next splice is the later one
    await untilAsync(async () => (await nextCueId()) === pending, 15_000, "the break's splice point");
    const returned = await cli("--return", String(onAir), "--json");
    expect(returned.stderr).toBe("");
    expect(JSON.parse(returned.stdout)).toMatchObject({ channel: "news", spliceEventId: onAir, returned: true });
    // the later one is pending: no return; cancelled, its cancel goes out 3 times and no out cue
    const early = await cli("--return", String(pending));
    expect(early.stderr).toMatch(/^onair: ONAIR_API_ERROR: the daemon answered 409 ONAIR_CUE_NOT_ON_AIR: /);
    const cancelled = await cli("--cancel", String(pending));
    expect([cancelled.code, cancelled.stdout.trim()]).toEqual([0, `cue #${pending} on news: cancelled`]);
    const again = await cli("--cancel", String(onAir));
    expect(again.stderr).toMatch(/^onair: ONAIR_API_ERROR: the daemon answered 409 ONAIR_CUE_NOT_PENDING: /);
    await until(() => sent("in", onAir) === 3 && sent("cancel", pending) === 3, 15_000, "the in cues and the cancels");

    const insertsOnUdp = (): SpliceInsert[] => {
      const inserts: SpliceInsert[] = [];
      for (const s of scanTs(cap.bytes(), [500]).sections) {
        const section = decodeSpliceInfoSection(s.bytes);
        if (!section.encryptedPacket && section.spliceCommandType === 0x05) inserts.push(section.spliceCommand);
      }
      return inserts;
    };
    // `cue_sent` is logged when the injector writes the cue: its datagram reaches this capture a moment later
    let inserts = insertsOnUdp();
    const of = (id: number) => inserts.filter((c) => c.spliceEventId === id);
    await until(
      () => {
        inserts = insertsOnUdp();
        return of(onAir).filter((c) => !c.outOfNetworkIndicator).length >= 3 && of(pending).length >= 3;
      },
      5000,
      "the in cues and the cancels on UDP",
    );
    expect(of(onAir).filter((c) => c.outOfNetworkIndicator === false)).toHaveLength(3);
    expect(of(pending).map((c) => c.spliceEventCancelIndicator)).toEqual([true, true, true]);
    for (const action of ["cue.return", "cue.cancel"]) {
      expect(d.log()).toMatch(
        new RegExp(`"event":"api_call","action":"${action}","channel":"news","who":"token:ops","result":"ok","status":200`),
      );
    }
    console.log(`early return and cancel: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }, 45_000);

  it("reports a missing token file by path", async () => {
    const r = await runCli([
      "cue",
      "--url",
      d.url,
      "--channel",
      "news",
      "--duration",
      "10",
      "--api-token-file",
      join(dir, "missing.token"),
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`ONAIR_API_TOKEN_FILE: cannot read the API token file ${join(dir, "missing.token")} (ENOENT)`);
  });
});
