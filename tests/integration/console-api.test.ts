/**
 * The console's API against a real daemon (`onair run`, one 320x180 channel with an HLS
 * output, a schedule in its store): the channel view's console fields, the schedule, as-run
 * (JSON and CSV) and events reads, the event stream (`channels`, then a `channel` event after a
 * restart), the schedule preview (writes nothing), import with a basis (409 when stale) and a
 * bad file (400 with its line, nothing changed), and sign-in: a session cookie that works for
 * actions with the console's Origin only, and ends when its token leaves the token file and
 * the daemon is sent SIGHUP.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dayIn } from "../../src/console/zone-day.js";
import { importScheduleText } from "../../src/schedule/import.js";
import { openStore } from "../../src/store/db.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { until, untilAsync } from "../helpers/pipeline.js";

const TOKEN = "console-test-token-0123456789";
const SCHED_TOKEN = "console-sched-token-0123456789";
const OPS_TOKEN = "console-ops-token-0123456789";
const H = 3_600_000;
/** The start of "Film", the programme on air throughout the test (it started 10 minutes ago). */
const BASE = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
/** Before the daemon starts: as-run rows are written after this. */
const STARTED = Date.now();

/** Parsed JSON answers are read loosely here: the test asserts their shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Json;
}

/** One HTTP call with the headers exactly as given (fetch would add or refuse some, like Origin). */
function call(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const stamp = (ms: number): string => `${new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14)} +0000`;

/** An XMLTV file of channel "news": [start hours from BASE, hours, title, description?]. */
function xmltv(progs: [number, number, string, string?][]): string {
  const lines = progs.map(
    ([s, h, title, desc]) =>
      `<programme start="${stamp(BASE + s * H)}" stop="${stamp(BASE + (s + h) * H)}" channel="news"><title>${title}</title>${
        desc ? `<desc>${desc}</desc>` : ""
      }</programme>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<tv>\n<channel id="news"><display-name>News</display-name></channel>\n${lines.join("\n")}\n</tv>\n`;
}

/** The events of an SSE text: `event:` and `data:` of each message (comments skipped). */
function sseEvents(text: string): { event: string; data: Json }[] {
  const out: { event: string; data: Json }[] = [];
  for (const block of text.split("\n\n")) {
    const ev = /^event: (.+)$/m.exec(block);
    const data = /^data: (.+)$/m.exec(block);
    if (ev && data) out.push({ event: ev[1], data: JSON.parse(data[1]) as unknown });
  }
  return out;
}

describe.runIf(haveFfmpeg())("the console's API on a running daemon", () => {
  let dir = "";
  let cap: Capture;
  let d: Daemon | undefined;
  let url = "";
  const bearer = (t: string): Record<string, string> => ({ authorization: `Bearer ${t}` });
  /** The schedule of BASE ± 1 day, as text (to compare before and after). */
  const schedule = async (): Promise<string> => {
    const q = `from=${new Date(BASE - 24 * H).toISOString()}&to=${new Date(BASE + 24 * H).toISOString()}`;
    return (await call(url, "GET", `/api/v1/channels/news/schedule?${q}`)).text;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-console-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `tests:${TOKEN}\nsched:${SCHED_TOKEN}\nops:${OPS_TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    cap = await udpCapture();
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
    const profile = testProfileInput({
      id: "news",
      udpPort: cap.port,
      extraOutputs: [{ kind: "hls", segmentSeconds: 2 }],
      epg: { days: 2, language: "eng", timeZone: "Europe/Paris", country: "FRA" },
    }) as { encoding: { video: { width: number; height: number } } };
    profile.encoding.video.width = 320;
    profile.encoding.video.height = 180;
    writeFileSync(join(dir, "profiles", "news.yaml"), JSON.stringify(profile));
    // the schedule before the start: "Film" is on air, so its as-run row comes at once
    const store = openStore(join(dir, "data", "onair.db"));
    const first = xmltv([
      [-1, 1, "Morning"],
      [0, 1, "Film"],
      [1, 1, "Gone"],
      [2, 1, "Late"],
    ]);
    importScheduleText(store, first, "xmltv", { channel: "news" });
    store.close();
    d = await startDaemon(dir);
    url = d.url;
    await untilAsync(async () => (await call(url, "GET", "/api/v1/channels/news")).json().state === "on_air", 20_000, "the channel on air");
  }, 40_000);

  afterAll(async () => {
    await stopDaemon(d);
    await cap?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows the channel with the console's fields, and its schedule in its time zone", async () => {
    const v = (await call(url, "GET", "/api/v1/channels/news")).json();
    expect(v).toMatchObject({
      id: "news",
      name: "Test One",
      state: "on_air",
      source: "live",
      timeZone: "Europe/Paris",
      currentItem: { title: "Film", start: new Date(BASE).toISOString() },
      nextItem: { title: "Gone", start: new Date(BASE + H).toISOString() },
      hls: { playlist: "/hls/news/index.m3u8" },
      thumbnail: null,
      lastAlert: null,
      onAirCue: null,
    });
    expect(v.tr101290).toHaveProperty("ts_sync_loss");
    // measured between views at least a second apart: the CBR mux rate (1500k) once a window was all on air
    let bps = 0;
    await untilAsync(
      async () => (bps = (await call(url, "GET", "/api/v1/channels/news")).json().outputBitrateBps ?? 0) > 1_000_000,
      10_000,
      "the mux rate",
    );
    expect(bps).toBeLessThan(2_200_000);
    const s = (await call(url, "GET", "/api/v1/channels/news/schedule")).json();
    expect(s.timeZone).toBe("Europe/Paris");
    expect(Date.parse(s.to) - Date.parse(s.from)).toBe(14 * 24 * H);
    expect(s.items.map((i: { title: string }) => i.title)).toEqual(["Morning", "Film", "Gone", "Late"]);
    expect(s.items[1]).toMatchObject({
      title: "Film",
      start: new Date(BASE).toISOString(),
      end: new Date(BASE + H).toISOString(),
      breaks: [],
    });
    expect(
      (await call(url, "GET", "/api/v1/channels/news/schedule?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z")).json(),
    ).toMatchObject({
      error: { code: "ONAIR_API_BAD_QUERY" },
    });
    expect((await call(url, "GET", "/api/v1/channels/nope/schedule")).status).toBe(404);
    const thumb = await call(url, "GET", "/api/v1/channels/news/thumbnail.jpg");
    expect([thumb.status, thumb.json().error.code]).toEqual([404, "ONAIR_THUMBNAIL_NONE"]);
  });

  it("gives the day's as-run in the channel's time zone as JSON and as CSV", async () => {
    // the row was written between the start and now: on one of their days in Paris (midnight may lie between)
    let day = "";
    const hasItem = async (d: string): Promise<boolean> =>
      ((await call(url, "GET", `/api/v1/channels/news/asrun?day=${d}`)).json().rows as { kind: string }[]).some((r) => r.kind === "item");
    await untilAsync(
      async () => {
        for (const d of new Set([dayIn("Europe/Paris", STARTED), dayIn("Europe/Paris", Date.now())])) if (await hasItem(d)) day = d;
        return day !== "";
      },
      15_000,
      "the item's as-run row",
    );
    const path = `/api/v1/channels/news/asrun?day=${day}`;
    const j = (await call(url, "GET", `${path}&kind=item`)).json();
    expect(j).toMatchObject({ channel: "news", day, timeZone: "Europe/Paris" });
    expect(j.rows[0]).toMatchObject({ kind: "item", title: "Film", scheduled: new Date(BASE).toISOString() });
    const csv = await call(url, "GET", `${path}&kind=item&format=csv`);
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.headers["content-disposition"]).toBe(`attachment; filename="asrun-news-${day}-item.csv"`);
    const lines = csv.text.trimEnd().split("\r\n");
    expect(lines[0]).toBe("id,channel,kind,scheduled,actual,offset_ms,pts,event_id,title,details");
    expect(lines).toHaveLength(j.rows.length + 1);
    expect(lines[1]).toContain(",news,item,");
    expect((await call(url, "GET", "/api/v1/channels/news/asrun?day=2026-02-30")).status).toBe(400);
  });

  it("streams the channel list, then a channel event when the channel restarts; the restart is in its events", async () => {
    let text = "";
    const req = request(`${url}/api/v1/stream`, { headers: { accept: "text/event-stream" } }, (res) => {
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
    });
    req.on("error", () => undefined);
    req.end();
    try {
      await until(() => sseEvents(text).length > 0, 5000, "the channels event");
      expect(text.startsWith("retry: 2000\n\n")).toBe(true);
      const first = sseEvents(text)[0];
      expect(first.event).toBe("channels");
      expect(first.data.channels.map((c: { id: string }) => c.id)).toEqual(["news"]);
      expect(first.data.refused).toEqual([]);
      const seen = sseEvents(text).length;
      const restart = await call(
        url,
        "POST",
        "/api/v1/channels/news/restart",
        { ...bearer(TOKEN), "content-type": "application/json" },
        "{}",
      );
      expect(restart.status).toBe(202);
      const after = (): { event: string; data: Json }[] => sseEvents(text).slice(seen);
      const startedAt = (): number => after().findIndex((e) => e.event === "event" && e.data.kind === "started");
      await until(
        () =>
          startedAt() >= 0 &&
          after()
            .slice(startedAt())
            .some((e) => e.event === "channel"),
        10_000,
        "a channel event after the restart",
      );
      expect(after()[startedAt()].data).toMatchObject({ channel: "news", kind: "started", source: "channel", level: "info" });
      expect(after().find((e) => e.event === "channel")?.data).toMatchObject({ id: "news", timeZone: "Europe/Paris" });
      await until(() => after().some((e) => e.event === "counters"), 5000, "a counters event");
      expect(after().find((e) => e.event === "counters")?.data).toMatchObject({ id: "news", up: true });
      // thumbnails are made while a stream is open
      await until(() => sseEvents(text).some((e) => e.event === "thumbnail"), 15_000, "a thumbnail event");
      const t = sseEvents(text).find((e) => e.event === "thumbnail")?.data;
      expect(t).toMatchObject({ channel: "news", seq: 1 });
      const jpeg = await fetch(`${url}/api/v1/channels/news/thumbnail.jpg`);
      expect(jpeg.status).toBe(200);
      expect(jpeg.headers.get("content-type")).toBe("image/jpeg");
      expect([...new Uint8Array(await jpeg.arrayBuffer()).slice(0, 2)]).toEqual([0xff, 0xd8]);
      const v = (await call(url, "GET", "/api/v1/channels/news")).json();
      expect(v.thumbnail).toMatchObject({ url: "/api/v1/channels/news/thumbnail.jpg" });
      expect(v.thumbnail.seq).toBeGreaterThanOrEqual(1);
    } finally {
      req.destroy();
    }
    const events = (await call(url, "GET", "/api/v1/channels/news/events?limit=50")).json().events as {
      kind: string;
      text: string;
      at: string;
    }[];
    expect(events.find((e) => e.kind === "started")?.text).toMatch(/^FFmpeg restarted/);
    expect(events.some((e) => e.kind === "state" && e.text === "state: on air")).toBe(true);
    expect([...events].sort((a, b) => b.at.localeCompare(a.at))).toEqual(events);
    expect((await call(url, "GET", "/api/v1/channels/news/events?limit=0")).status).toBe(400);
  });

  it("previews an import without writing, refuses a stale basis, imports with a fresh one, and refuses a bad file with its line", async () => {
    const xml = { ...bearer(SCHED_TOKEN), "content-type": "application/xml" };
    const next = xmltv([
      [0, 1, "Film", "now described"],
      [1.5, 0.5, "New"],
      [2, 1, "Late"],
    ]);
    const before = await schedule();
    const pv = await call(url, "POST", "/api/v1/channels/news/schedule/preview", xml, next);
    expect(pv.status).toBe(200);
    const p = pv.json();
    expect(p).toMatchObject({
      channel: "news",
      format: "xmltv",
      from: new Date(BASE).toISOString(),
      to: new Date(BASE + 3 * H).toISOString(),
      unchanged: 1,
    });
    expect(p.added.map((i: { title: string }) => i.title)).toEqual(["New"]);
    expect(p.changed.map((c: { before: { title: string }; fields: string[] }) => [c.before.title, c.fields])).toEqual([
      ["Film", ["description"]],
    ]);
    expect(p.removed.map((i: { title: string }) => i.title)).toEqual(["Gone"]);
    expect(p.basis).toMatch(/^[0-9a-f]{32}$/);
    expect(await schedule()).toBe(before);

    // someone else changes the window: the preview's basis is stale
    const other = await call(url, "POST", "/api/v1/channels/news/schedule", xml, xmltv([[2, 1, "Late", "changed meanwhile"]]));
    expect(other.status).toBe(200);
    const changedMeanwhile = await schedule();
    const stale = await call(url, "POST", `/api/v1/channels/news/schedule?basis=${p.basis}`, xml, next);
    expect(stale.status).toBe(409);
    expect(stale.json().error.code).toBe("ONAIR_SCHEDULE_CHANGED");
    expect(await schedule()).toBe(changedMeanwhile);

    const fresh = (await call(url, "POST", "/api/v1/channels/news/schedule/preview", { ...xml, "content-type": "text/xml" }, next)).json();
    const done = await call(url, "POST", `/api/v1/channels/news/schedule?format=xmltv&basis=${fresh.basis}`, bearer(SCHED_TOKEN), next);
    expect(done.status).toBe(200);
    expect(done.json()).toMatchObject({ channel: "news", format: "xmltv", added: 1, changed: 2, removed: 1, unchanged: 0 });
    const s = JSON.parse(await schedule());
    expect(s.items.map((i: { title: string }) => i.title)).toEqual(["Morning", "Film", "New", "Late"]);

    const bad = next.replace("<title>New</title>", "<title>New</titel>");
    const afterImport = await schedule();
    for (const path of ["/api/v1/channels/news/schedule/preview", "/api/v1/channels/news/schedule"]) {
      const r = await call(url, "POST", path, xml, bad);
      expect(r.status, path).toBe(400);
      const e = r.json().error;
      expect(e.code).toBe("ONAIR_SCHEDULE_BAD_XML");
      expect(e.line).toBe(bad.split("\n").findIndex((l) => l.includes("</titel>")) + 1);
      expect(e.message).toContain(`:${e.line}`);
    }
    expect(await schedule()).toBe(afterImport);
    const unknownType = await call(
      url,
      "POST",
      "/api/v1/channels/news/schedule/preview",
      { ...bearer(SCHED_TOKEN), "content-type": "text/plain" },
      next,
    );
    expect(unknownType.status).toBe(415);
    const events = (await call(url, "GET", "/api/v1/channels/news/events")).json().events as { kind: string; text: string }[];
    expect(events.find((e) => e.kind === "schedule")?.text).toBe(
      "schedule imported by token:sched: 1 added, 2 changed, 1 removed, 0 unchanged",
    );
  });

  it("signs in with a form to an HttpOnly SameSite=Strict cookie, good for actions from the console's Origin, ended by SIGHUP when its token goes", async () => {
    const cue = JSON.stringify({ durationSeconds: 5 });
    const json = { "content-type": "application/json" };
    expect((await call(url, "POST", "/api/v1/channels/news/cues", json, cue)).status).toBe(401);
    const signIn = await call(
      url,
      "POST",
      "/sign-in",
      { "content-type": "application/x-www-form-urlencoded", origin: url },
      `token=${encodeURIComponent(OPS_TOKEN)}&next=%2Fchannels%2Fnews`,
    );
    expect(signIn.status).toBe(303);
    expect(signIn.headers.location).toBe("/channels/news");
    const setCookie = String(signIn.headers["set-cookie"]);
    expect(setCookie).toMatch(/^onair_session=[A-Za-z0-9_-]{43}; /);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    const cookie = setCookie.split(";")[0];
    const session = (await call(url, "GET", "/api/v1/session", { cookie })).json();
    expect(session).toMatchObject({ signedIn: true, name: "ops" });

    const ok = await call(url, "POST", "/api/v1/channels/news/cues", { ...json, cookie, origin: url }, cue);
    expect(ok.status).toBe(201);
    expect(ok.json().spliceEventId).toBeGreaterThan(0);
    const noOrigin = await call(url, "POST", "/api/v1/channels/news/cues", { ...json, cookie }, cue);
    expect(noOrigin.status).toBe(403);
    expect(noOrigin.json().error.code).toBe("ONAIR_HTTP_BAD_ORIGIN");

    // the ops token leaves the token file; SIGHUP reloads it and ends its sessions
    writeFileSync(join(dir, "api.token"), readFileSync(join(dir, "api.token"), "utf8").replace(/^ops:.*\n/m, ""));
    d!.child.kill("SIGHUP");
    await until(() => d!.log().includes('"event":"console_sessions_revoked"'), 10_000, "the sessions revoked");
    await until(() => d!.log().includes('"event":"reloaded"'), 10_000, "the reload done");
    expect((await call(url, "GET", "/api/v1/session", { cookie })).json()).toEqual({ signedIn: false });
    expect((await call(url, "POST", "/api/v1/channels/news/cues", { ...json, cookie, origin: url }, cue)).status).toBe(401);
    // the other tokens still work (a refused duration: past the gate, nothing planned)
    const other = await call(
      url,
      "POST",
      "/api/v1/channels/news/cues",
      { ...json, ...bearer(TOKEN) },
      JSON.stringify({ durationSeconds: 0 }),
    );
    expect([other.status, other.json().error.code]).toEqual([400, "ONAIR_CUE_BAD_DURATION"]);

    // the session's cue airs: the view shows the break on air, the list its out cue
    const id = ok.json().spliceEventId as number;
    let onAir: { spliceEventId: number; at: string; returnAt: string } | null = null;
    await untilAsync(
      async () => (onAir = (await call(url, "GET", "/api/v1/channels/news")).json().onAirCue)?.spliceEventId === id,
      20_000,
      "the break on air",
    );
    expect(Date.parse(onAir!.returnAt) - Date.parse(onAir!.at)).toBeCloseTo(5000, -2);
    expect(Date.parse(onAir!.at)).toBeLessThanOrEqual(Date.now());
    const events = (await call(url, "GET", "/api/v1/channels/news/events")).json().events as { kind: string; text: string }[];
    expect(events.some((e) => e.kind === "cue" && e.text.startsWith(`cue out sent, splice_event_id ${id},`))).toBe(true);
  }, 30_000);
});
