/**
 * API cues across daemon restarts (issue #18 defects 3 and 4), one real daemon after the
 * other on the same data directory and UDP output:
 * - a cue accepted before a SIGTERM restart and one accepted before a kill -9 restart both
 *   air after it, once each, under the splice_event_id the API answered (splice_insert in
 *   the output TS, as-run rows, cue_requests closed as aired);
 * - a cue one PTS wrap + 50 s ahead is accepted, kept pending and never sent;
 * - a cue whose time passed while the daemon was down is reported (cue_failed alert to a
 *   local Telegram stand-in) and kept in the as-run log as not aired.
 */
import Database from "better-sqlite3";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSpliceInfoSection, type SpliceInsert } from "../../src/scte35/index.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { FakeTelegram } from "../helpers/fake-telegram.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { until } from "../helpers/pipeline.js";
import { scanTs } from "../helpers/tsscan.js";

const CHANNEL = "rearm";
const TOKEN = "cue-restart-api-token-0123456789";
const BOT_TOKEN = "123456:cue-restart-bot-token";
/** One PTS wrap, ms: 2^33 / 90 kHz. */
const WRAP_MS = 95_443_717.7;

interface RequestRow {
  splice_event_id: number;
  state: string;
  at_ms: number;
}

describe.runIf(haveFfmpeg())("API cues across daemon restarts", () => {
  let dir = "";
  let cap: Capture;
  let tg: FakeTelegram;
  const daemons: Daemon[] = [];
  const db = <T>(fn: (h: Database.Database) => T): T => {
    const h = new Database(join(dir, "data", "onair.db"), { readonly: true, fileMustExist: true });
    try {
      return fn(h);
    } finally {
      h.close();
    }
  };
  const requests = (): RequestRow[] =>
    db(
      (h) =>
        h
          .prepare("SELECT splice_event_id, state, at_ms FROM cue_requests WHERE channel = ? ORDER BY splice_event_id")
          .all(CHANNEL) as RequestRow[],
    );
  const stateOf = (id: number): string | undefined => requests().find((r) => r.splice_event_id === id)?.state;
  const cue = async (d: Daemon, atMs: number, durationSeconds: number): Promise<number> => {
    const res = await fetch(`${d.url}/api/v1/channels/${CHANNEL}/cues`, {
      method: "POST",
      body: JSON.stringify({ durationSeconds, at: new Date(atMs).toISOString() }),
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
    });
    expect(res.status).toBe(201);
    return ((await res.json()) as { spliceEventId: number }).spliceEventId;
  };
  const start = async (): Promise<Daemon> => {
    const d = await startDaemon(dir);
    daemons.push(d);
    // its signal handlers are in place once the channels were started
    await until(() => d.log().includes('"event":"channel_started"'), 30_000, "the channel started");
    return d;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-cue-restart-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `tests:${TOKEN}\n`, { mode: 0o600 });
    tg = new FakeTelegram();
    await tg.start();
    writeFileSync(join(dir, "onair.yaml"), `log:\n  level: info\ntelegram:\n  apiRoot: ${tg.url}\n`);
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    cap = await udpCapture();
    const profile = testProfileInput({ id: CHANNEL, udpPort: cap.port, epg: { enabled: false } }) as {
      encoding: { video: Record<string, unknown> };
    };
    profile.encoding.video = { ...profile.encoding.video, width: 320, height: 180 };
    writeFileSync(
      join(dir, "profiles", `${CHANNEL}.json`),
      JSON.stringify({ ...profile, alerts: { telegram: { chatIds: [77], botToken: BOT_TOKEN, events: ["cue_failed"] } } }),
    );
  });

  afterAll(async () => {
    for (const d of daemons) await stopDaemon(d);
    await tg?.stop();
    await cap?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("airs a cue accepted before a SIGTERM restart and one accepted before a kill -9 restart, once each", async () => {
    const first = await start();
    const t0 = Date.now();
    const afterTerm = await cue(first, t0 + 32_000, 4);
    const wrapAhead = await cue(first, t0 + WRAP_MS + 50_000, 30);
    expect(requests().map((r) => r.state)).toEqual(["pending", "pending"]);
    first.child.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);

    const second = await start();
    const afterKill = await cue(second, t0 + 24_000, 4);
    // due while the daemon is down: missed
    const missedAt = Date.now() + 2000;
    const missed = await cue(second, missedAt, 10);
    second.child.kill("SIGKILL");
    expect((await second.exited).signal).toBe("SIGKILL");
    await until(() => Date.now() > missedAt + 200, 5000, "the missed cue's time to pass");

    const third = await start();
    await until(() => stateOf(missed) === "missed", 10_000, "the missed cue closed");
    await until(() => tg.sent.some((s) => s.text.includes(String(missed))), 10_000, "the cue_failed alert");
    expect(third.log()).toMatch(new RegExp(`"event":"cue_missed".*"spliceEventId":${missed}`));
    await until(() => stateOf(afterKill) === "aired", 40_000, "the cue from before the kill on air");
    // a new FFmpeg (a new time base) between its first send and its splice point: it is
    // sent again under its id in the new time base, and still aired once
    const restarted = await fetch(`${third.url}/api/v1/channels/${CHANNEL}/restart`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
      body: "{}",
    });
    expect(restarted.status).toBe(202);
    await until(() => stateOf(afterTerm) === "aired", 40_000, "the cue from before the SIGTERM on air");
    // both splice points passed: the status's next cue is the one a wrap ahead, which the
    // injector does not have yet (it waits in the store)
    const nextCue = async (): Promise<{ spliceEventId: number; at: string; durationSeconds: number } | null> =>
      (
        (await (await fetch(`${third.url}/api/v1/channels/${CHANNEL}`)).json()) as {
          nextCue: { spliceEventId: number; at: string; durationSeconds: number } | null;
        }
      ).nextCue;
    const deadline = Date.now() + 15_000;
    while ((await nextCue())?.spliceEventId !== wrapAhead && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await nextCue()).toEqual({
      spliceEventId: wrapAhead,
      command: "splice_insert",
      at: new Date(t0 + WRAP_MS + 50_000).toISOString(),
      durationSeconds: 30,
    });

    // in the output TS: out splice_inserts for both re-armed cues under their ids, none for the far one
    const inserts: SpliceInsert[] = [];
    for (const s of scanTs(cap.bytes(), [500]).sections) {
      const section = decodeSpliceInfoSection(s.bytes);
      if (section.encryptedPacket || section.spliceCommandType !== 0x05) continue;
      if (!section.spliceCommand.spliceEventCancelIndicator && section.spliceCommand.outOfNetworkIndicator)
        inserts.push(section.spliceCommand);
    }
    const ids = new Set(inserts.map((c) => c.spliceEventId));
    expect(ids.has(afterTerm)).toBe(true);
    expect(ids.has(afterKill)).toBe(true);
    expect(ids.has(wrapAhead)).toBe(false);
    expect(ids.has(missed)).toBe(false);

    // the as-run log: each aired once at its asked time; the missed one kept as not aired
    const rows = db((h) =>
      h.prepare("SELECT event_id, scheduled_ms, details FROM asrun WHERE channel = ? AND kind = 'cue'").all(CHANNEL),
    ) as Array<{ event_id: number; scheduled_ms: number; details: string }>;
    const outs = (id: number) => rows.filter((r) => r.event_id === id && (JSON.parse(r.details) as { kind: string }).kind === "out");
    expect(outs(afterTerm).map((r) => r.scheduled_ms)).toEqual([t0 + 32_000]);
    expect(outs(afterKill).map((r) => r.scheduled_ms)).toEqual([t0 + 24_000]);
    expect(outs(missed).map((r) => JSON.parse(r.details) as { aired: boolean })).toMatchObject([{ aired: false }]);
    expect(outs(wrapAhead)).toEqual([]);
    expect(stateOf(wrapAhead)).toBe("pending");
    const jumps = third
      .log()
      .split("\n")
      .filter((l) => l.includes('"event":"pts_jump"')).length;
    const firstSends = third
      .log()
      .split("\n")
      .filter((l) => l.includes('"event":"cue_sent"') && l.includes(`"spliceEventId":${afterKill},`) && l.includes('"send":1')).length;
    console.log(
      `cues: ${afterTerm} (SIGTERM) and ${afterKill} (kill -9) aired, ${missed} missed, ${wrapAhead} pending one wrap ahead; ${jumps} time-base changes, ${afterKill} sent as new ${firstSends}×; test ran ${((Date.now() - t0) / 1000).toFixed(1)} s after the first cue`,
    );
  }, 90_000);
});
