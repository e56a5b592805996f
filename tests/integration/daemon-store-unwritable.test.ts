/**
 * Failures nobody would notice, end to end through `onair run` (issue 19 item 4), in one
 * daemon run:
 * - a store whose writes fail from the start (a preload from tests/ makes every SQLite write
 *   throw SQLITE_IOERR_WRITE while a file exists): the schedule's break gets no stored
 *   splice_event_id, so it is dropped with a `cue_failed` alert while the daemon airs on; a
 *   cue asked through the API is refused (409 ONAIR_STORE_FAILED); both count in
 *   `onair_store_errors_total`, one "store writes failing" alert goes out and /readyz is 503
 *   with the reason; once writes work again the probe write sees it (nothing else writes:
 *   no schedule item, no as-run row), /readyz stops naming the store and the recovery is
 *   alerted;
 * - a recording output whose directory is a file: counted by output in
 *   `onair_channel_output_errors_total`, shown in `onair_channel_output_failing`, and /readyz
 *   is 503 naming it until the directory can be made.
 */
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStore } from "../../src/store/db.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { until, untilAsync } from "../helpers/pipeline.js";
import { storeFaultEnv } from "../helpers/store-fault.js";

const CHANNEL = "sw";
const BOT_TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const TOKEN = "store-unwritable-api-token-0123456789";
const FAILING = /store writes failing/;
const RECOVERED = /store writes work again/;
const CUE_FAILED = /cue failed/;

interface Ready {
  status: number;
  body: { ready: boolean; reasons?: string[]; checks: { store: { ok: boolean; code?: string; sqliteCode?: string } } };
}

describe.runIf(haveFfmpeg())("onair run: an unwritable store and a failing output are seen", () => {
  let dir = "";
  let cap: Capture;
  let tg: FakeTelegram;
  let d: Daemon | undefined;
  const faultFile = (): string => join(dir, "store-fault");
  const blocker = (): string => join(dir, "recordings");
  const recording = (): string => join(blocker(), "rec-%H%M%S.ts");

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-store-unwritable-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    tg = new FakeTelegram();
    await tg.start();
    writeFileSync(join(dir, "onair.yaml"), `telegram:\n  apiRoot: ${tg.url}\n`);
    cap = await udpCapture();
    writeFileSync(blocker(), "a file where the recordings directory should be");
    const profile = {
      ...testProfileInput({
        id: CHANNEL,
        udpPort: cap.port,
        epg: { enabled: false },
        extraOutputs: [{ kind: "file", path: recording(), rotateSeconds: 60, keep: 2 }],
      }),
      alerts: { telegram: { chatIds: [88], botToken: BOT_TOKEN } },
    };
    writeFileSync(join(dir, "profiles", `${CHANNEL}.json`), JSON.stringify(profile));
    writeFileSync(join(dir, "api.token"), `tests:${TOKEN}\n`, { mode: 0o600 });
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    // a break in the schedule, handed to the injector at start, while the store cannot be written
    mkdirSync(join(dir, "data"));
    const store = openStore(join(dir, "data", "onair.db"));
    const t0 = Date.now();
    store.replaceItems(CHANNEL, t0 - 60_000, t0 + 600_000, [], [{ startMs: t0 + 30_000, durationMs: 5000, breakId: "b1" }]);
    store.close();
    writeFileSync(faultFile(), "");
    d = await startDaemon(dir, [], storeFaultEnv(faultFile()));
    await until(() => cap.datagrams.length > 50, 30_000, "the channel on UDP");
  }, 60_000);

  afterAll(async () => {
    await stopDaemon(d);
    await tg?.stop();
    await cap?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const readyz = async (): Promise<Ready> => {
    const r = await fetch(`${d!.url}/readyz`);
    return { status: r.status, body: (await r.json()) as Ready["body"] };
  };
  const metric = async (re: RegExp): Promise<number> => {
    const m = re.exec(await (await fetch(`${d!.url}/metrics`)).text());
    return m ? Number(m[1]) : Number.NaN;
  };
  const escaped = (t: string): string => t.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  const outputErrors = (): RegExp =>
    new RegExp(`^onair_channel_output_errors_total\\{channel="${CHANNEL}",output="${escaped(`file:${recording()}`)}"\\} (\\d+)`, "m");
  const outputFailing = (): RegExp =>
    new RegExp(`^onair_channel_output_failing\\{channel="${CHANNEL}",output="${escaped(`file:${recording()}`)}"\\} (\\d+)`, "m");
  const cue = (): Promise<Response> =>
    fetch(`${d!.url}/api/v1/channels/${CHANNEL}/cues`, {
      method: "POST",
      body: JSON.stringify({ durationSeconds: 10 }),
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    });

  it("sees both, stays on air, and is ready again once the store and the recording work", async () => {
    // the schedule's break could get no stored splice_event_id: dropped and alerted, the daemon runs on
    await until(() => d!.log().includes('"event":"break_failed"'), 15_000, "the break_failed log line");
    await until(() => tg.count(CUE_FAILED) === 1, 10_000, "the cue_failed alert");
    const refused = await cue();
    expect(refused.status).toBe(409);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("ONAIR_STORE_FAILED");
    expect(await metric(/^onair_store_errors_total (\d+)/m)).toBeGreaterThan(0);
    await until(() => tg.count(FAILING) === 1, 10_000, "the store_write_failed alert");
    await untilAsync(async () => (await metric(outputErrors())) > 0, 10_000, "output errors counted");
    expect(await metric(outputFailing())).toBe(1);
    let r = await readyz();
    expect(r.status).toBe(503);
    expect(r.body.checks.store).toMatchObject({ ok: false, code: "ONAIR_STORE_FAILED", sqliteCode: "SQLITE_IOERR_WRITE" });
    const reasons = r.body.reasons?.join("\n") ?? "";
    expect(reasons).toMatch(/store writes failing since /);
    expect(reasons).toContain(`channel ${CHANNEL}: output file:${recording()} failing`);

    // writes work again: the probe sees it, /readyz stops naming the store
    unlinkSync(faultFile());
    await untilAsync(async () => (await readyz()).body.checks.store.ok, 10_000, "the store check ok again");
    await until(() => tg.count(RECOVERED) === 1, 10_000, "the store_recovered alert");
    r = await readyz();
    expect(r.status).toBe(503);
    expect(r.body.reasons).toEqual([expect.stringContaining(`output file:${recording()} failing`)]);
    // the directory can be made: the recording recovers on its own, /readyz follows
    unlinkSync(blocker());
    await untilAsync(async () => (await readyz()).status === 200, 20_000, "/readyz 200 once the recording works");
    expect(await metric(outputFailing())).toBe(0);
    expect((await cue()).status).toBe(201);
    expect(tg.count(FAILING)).toBe(1);
    expect(d!.child.exitCode).toBeNull();
  }, 60_000);
});
