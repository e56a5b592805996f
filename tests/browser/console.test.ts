/**
 * The operator console in a real Chromium against a real daemon (real FFmpeg at 320x180, a
 * 1 s GOP): channel "news" with a UDP output captured here and an `hls` output (2 s segments,
 * both marker styles) and a schedule imported before start; channel "sport" with UDP only.
 * An API token file with the token "ops". What an operator sees and does:
 * - the wall shows each channel's name and state, and the current programme, within seconds;
 * - a confidence thumbnail appears (a JPEG) and changes;
 * - a killed live FFmpeg turns the tile to slate and back (window.onairConsole.history);
 * - an action without signing in is refused: the page asks to sign in, the API answers 401;
 * - a malformed XMLTV upload shows the parser's error with its line, and changes nothing;
 * - the channel page's player plays the HLS output; "Break now" (signed in) puts a
 *   splice_insert into the TS (read back with `onair inspect`), an audit line naming the
 *   token and the console, and the CUE-OUT / CUE-IN markers on the player;
 * - axe-core finds no serious or critical violation on the wall and the channel page.
 * Nothing is loaded from another host (the page factory fails the test otherwise).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  axeViolations,
  closeBrowser,
  launchBrowser,
  openPage,
  screenshot,
  seriousViolations,
  type TestBrowser,
  type WatchedPage,
} from "../helpers/browser.js";
import { testProfileInput, udpCapture, type Capture } from "../helpers/channel.js";
import { runCli } from "../helpers/cli.js";
import { livePids, startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";
import { haveFfmpeg } from "../helpers/ffmpeg.js";
import { untilAsync } from "../helpers/pipeline.js";

const NEWS = "news";
const SPORT = "sport";
const TOKEN_NAME = "ops";
const TOKEN = "console-browser-test-token-0123456789";
const NOW_TITLE = "Morning Show";
const NEXT_TITLE = "Evening Headlines";

/** The parts of the DOM the page functions read (the project's TypeScript has no DOM lib). */
interface El {
  textContent: string | null;
  getAttribute(name: string): string | null;
}
interface ImgEl extends El {
  src: string;
  currentSrc: string;
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}
interface VideoEl extends El {
  currentTime: number;
  readyState: number;
  paused: boolean;
  error: { code: number; message: string } | null;
}
interface HistoryEntry {
  channel: string;
  state: string;
  source: string;
  at: string;
}
interface PageGlobals {
  document: { querySelector(selector: string): El | null; createElement(tag: "canvas"): Canvas };
  onairConsole?: { history: HistoryEntry[] };
}
interface Canvas {
  width: number;
  height: number;
  getContext(kind: "2d"): {
    drawImage(img: unknown, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  };
}

interface InspectLine {
  type: string;
  section?: { spliceCommandType: number; spliceCommand: { spliceEventId?: number; outOfNetworkIndicator?: boolean } };
}

describe.runIf(haveFfmpeg())("the operator console in a browser", () => {
  let dir = "";
  let cap: Capture | undefined;
  let sportCap: Capture | undefined;
  let d: Daemon | undefined;
  let b: TestBrowser | undefined;
  let base = "";

  /** A JSON schedule for news: the current programme, then the next (whole minutes). */
  function scheduleJson(): string {
    const start = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
    return JSON.stringify({
      channel: NEWS,
      items: [
        { start: new Date(start).toISOString(), duration: 3600, title: NOW_TITLE },
        { start: new Date(start + 3_600_000).toISOString(), duration: 3600, title: NEXT_TITLE },
      ],
    });
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-console-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    mkdirSync(join(dir, "data"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `${TOKEN_NAME}:${TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\nconsole:\n  enabled: true\n");
    cap = await udpCapture();
    sportCap = await udpCapture();
    const small = (p: Record<string, unknown>, name: string): Record<string, unknown> => {
      const q = p as { channel: Record<string, unknown>; encoding: { video: Record<string, unknown> } };
      q.channel = { ...q.channel, name };
      q.encoding.video = { ...q.encoding.video, width: 320, height: 180, gopSeconds: 1 };
      return p;
    };
    const hls = { kind: "hls", segmentSeconds: 2, window: 6, markers: "both" };
    const news = small(testProfileInput({ id: NEWS, udpPort: cap.port, extraOutputs: [hls] }), "Newsroom One");
    const sport = small(testProfileInput({ id: SPORT, udpPort: sportCap.port, epg: { enabled: false } }), "Sport Two");
    writeFileSync(join(dir, "profiles", `${NEWS}.json`), JSON.stringify(news));
    writeFileSync(join(dir, "profiles", `${SPORT}.json`), JSON.stringify(sport));
    writeFileSync(join(dir, "schedule.json"), scheduleJson());
    const [key, imported] = await Promise.all([
      runCli(["profile", "keygen", "--out", join(dir, "key")]),
      runCli(["schedule", "import", join(dir, "schedule.json"), "--channel", NEWS, "--data-dir", join(dir, "data")]),
    ]);
    expect(key.code, key.stderr).toBe(0);
    expect(imported.code, imported.stderr).toBe(0);
    // both at once, and both kept for afterAll even when the other fails
    const started = await Promise.allSettled([startDaemon(dir).then((x) => (d = x)), launchBrowser().then((x) => (b = x))]);
    for (const s of started) if (s.status === "rejected") throw s.reason;
    if (!d) throw new Error("no daemon");
    base = d.url;
    // both channels on air before any page opens
    await untilAsync(
      async () => {
        const r = (await (await fetch(`${base}/api/v1/channels`)).json()) as { channels: Array<{ state: string }> };
        return r.channels.length === 2 && r.channels.every((c) => c.state === "on_air");
      },
      30_000,
      "both channels on air",
    );
  });

  afterAll(async () => {
    await closeBrowser(b);
    await stopDaemon(d);
    await cap?.close();
    await sportCap?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const page = (): Promise<WatchedPage> => openPage(b!, { baseURL: base });
  const tile = (w: WatchedPage, id: string) => w.page.locator(`[data-channel="${id}"]`);
  const history = (w: WatchedPage): Promise<HistoryEntry[]> =>
    w.page.evaluate(() => (globalThis as unknown as PageGlobals).onairConsole?.history ?? []);

  /** Signs in through the console's form with the test token, and checks the session. */
  async function signIn(w: WatchedPage): Promise<void> {
    const form = w.page.locator('form[action="/sign-in"]');
    if (!(await form.isVisible())) await w.page.getByRole("button", { name: /sign in/i }).click();
    await form.locator('input[name="token"]').fill(TOKEN);
    await form.locator('input[name="token"]').press("Enter");
    await expect
      .poll(async () => (await (await w.context.request.get(`${base}/api/v1/session`)).json()) as { signedIn: boolean; name?: string }, {
        timeout: 10_000,
      })
      .toMatchObject({ signedIn: true, name: TOKEN_NAME });
  }

  async function channelSchedule(): Promise<unknown> {
    const from = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    const r = await fetch(`${base}/api/v1/channels/${NEWS}/schedule?from=${from}T00:00:00Z&to=${to}T00:00:00Z`);
    expect(r.status).toBe(200);
    return r.json();
  }

  it("the wall shows each channel's name, state and current programme within seconds", async () => {
    const w = await page();
    const t0 = Date.now();
    await w.page.goto("/");
    for (const [id, name] of [
      [NEWS, "Newsroom One"],
      [SPORT, "Sport Two"],
    ]) {
      await expect.poll(() => tile(w, id).getAttribute("data-state"), { timeout: 10_000 }).toBe("on_air");
      await expect.poll(() => tile(w, id).locator('[data-field="state"]').textContent(), { timeout: 5_000 }).toMatch(/on air/i);
      expect(await tile(w, id).textContent()).toContain(name);
    }
    await expect.poll(() => tile(w, NEWS).locator('[data-field="current-title"]').textContent(), { timeout: 5_000 }).toContain(NOW_TITLE);
    await expect.poll(() => tile(w, NEWS).locator('[data-field="next-title"]').textContent(), { timeout: 5_000 }).toContain(NEXT_TITLE);
    console.log(`wall: both channels on air with the current programme ${Date.now() - t0} ms after the page was asked for`);
    expect(w.consoleErrors).toEqual([]);
  });

  it("a confidence thumbnail appears as a JPEG and changes", async () => {
    const w = await page();
    await w.page.goto("/");
    /** The image's URL and a checksum of its pixels, once there and loaded (never waits). */
    const look = (): Promise<{ src: string; width: number; sum: number } | null> =>
      w.page.evaluate((selector: string) => {
        const g = globalThis as unknown as PageGlobals;
        const el = g.document.querySelector(selector) as ImgEl | null;
        if (!el || !el.complete || el.naturalWidth === 0) return null;
        const c = g.document.createElement("canvas");
        c.width = el.naturalWidth;
        c.height = el.naturalHeight;
        const ctx = c.getContext("2d");
        ctx.drawImage(el, 0, 0);
        const px = ctx.getImageData(0, 0, c.width, c.height).data;
        let sum = 0;
        for (let i = 0; i < px.length; i += 4) sum = (sum * 31 + px[i] + px[i + 1] * 3 + px[i + 2] * 7) % 2_147_483_647;
        return { src: el.currentSrc || el.src, width: el.naturalWidth, sum };
      }, `[data-channel="${NEWS}"] img[data-field="thumbnail"]`);
    await expect.poll(look, { timeout: 20_000 }).not.toBeNull();
    const first = (await look())!;
    expect(first.width).toBe(320);
    const jpeg = await w.context.request.get(first.src);
    expect(jpeg.headers()["content-type"]).toBe("image/jpeg");
    expect([...(await jpeg.body()).subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    const t0 = Date.now();
    await expect
      .poll(
        async () => {
          const now = await look();
          return now !== null && (now.src !== first.src || now.sum !== first.sum);
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    console.log(`thumbnail changed ${Date.now() - t0} ms after the first was shown`);
    console.log(`wall screenshot: ${await screenshot(w.page, "wall")}`);
  });

  it("an action without signing in is refused: the page says to sign in, the API answers 401", async () => {
    const w = await page();
    await w.page.goto(`/channels/${NEWS}`);
    await expect.poll(() => w.page.locator('form[action="/sign-in"] input[name="token"]').isVisible(), { timeout: 10_000 }).toBe(true);
    await w.page.getByRole("button", { name: "Break now" }).click();
    await w.page.locator('input[name="duration"]').fill("5");
    const answered = w.page.waitForResponse(
      (r) => r.request().method() === "POST" && new URL(r.url()).pathname === `/api/v1/channels/${NEWS}/cues`,
      { timeout: 10_000 },
    );
    await w.page.getByRole("button", { name: "Start break" }).click();
    expect((await answered).status()).toBe(401);
    const alert = w.page.locator('[role="alert"]').filter({ hasText: /sign in/i });
    await expect.poll(() => alert.count(), { timeout: 5_000 }).toBeGreaterThan(0);
    // a script in the page fares no better
    const answer = await w.page.evaluate(async (url: string) => {
      const r = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ durationSeconds: 5 }),
      });
      return { status: r.status, body: (await r.json()) as { error?: { code?: string } } };
    }, `/api/v1/channels/${NEWS}/cues`);
    expect(answer).toMatchObject({ status: 401, body: { error: { code: "ONAIR_API_UNAUTHORIZED" } } });
    const view = (await (await fetch(`${base}/api/v1/channels/${NEWS}`)).json()) as { nextCue: unknown; onAirCue: unknown };
    expect([view.nextCue, view.onAirCue]).toEqual([null, null]);
    // the browser logs each refused request ("Failed to load resource: … 401"), and nothing else
    expect(w.consoleErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });

  it("a malformed XMLTV upload shows the parser's error with its line and changes nothing", async () => {
    const before = await channelSchedule();
    const w = await page();
    await w.page.goto(`/channels/${NEWS}`);
    await signIn(w);
    await w.page.goto(`/channels/${NEWS}`);
    // an unclosed <title> on line 3: the parser stops there, at </programme>
    const bad = Buffer.from(
      '<?xml version="1.0" encoding="UTF-8"?>\n<tv>\n' +
        '  <programme start="20300101000000 +0000" stop="20300101010000 +0000" channel="news"><title>Broken</programme>\n' +
        "</tv>\n",
    );
    await w.page
      .locator('input[type="file"][name="schedule"]')
      .setInputFiles({ name: "broken.xml", mimeType: "application/xml", buffer: bad });
    const answered = w.page.waitForResponse((r) => r.url().includes(`/api/v1/channels/${NEWS}/schedule/preview`), { timeout: 10_000 });
    await w.page.getByRole("button", { name: "Preview" }).click();
    const res = await answered;
    expect(res.status()).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string; line: number } };
    expect(body.error).toMatchObject({ code: "ONAIR_SCHEDULE_BAD_XML", line: 3 });
    const alert = w.page.locator('[role="alert"]').filter({ hasText: /line\s*3\b/i });
    await expect.poll(() => alert.count(), { timeout: 5_000 }).toBeGreaterThan(0);
    // the import is not offered for a file that does not parse, or is refused the same way
    const importButton = w.page.getByRole("button", { name: "Import", exact: true });
    if ((await importButton.count()) > 0 && (await importButton.isEnabled())) {
      const imported = w.page.waitForResponse(
        (r) => r.request().method() === "POST" && new URL(r.url()).pathname === `/api/v1/channels/${NEWS}/schedule`,
        { timeout: 10_000 },
      );
      await importButton.click();
      expect((await imported).status()).toBe(400);
    }
    expect(await channelSchedule()).toEqual(before);
  });

  it("the channel page plays the HLS output; Break now puts a splice_insert in the TS, an audit line and the markers on the player", async () => {
    const w = await page();
    await w.page.goto(`/channels/${NEWS}`);
    await signIn(w);
    await w.page.goto(`/channels/${NEWS}`);
    const video = w.page.locator('video[data-field="player"]');
    const playing = (): Promise<{ readyState: number; currentTime: number; paused: boolean; error: string | null }> =>
      video.evaluate((v: VideoEl) => ({
        readyState: v.readyState,
        currentTime: v.currentTime,
        paused: v.paused,
        error: v.error?.message ?? null,
      }));
    await expect.poll(async () => (await playing()).readyState, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    const t1 = (await playing()).currentTime;
    await expect.poll(async () => (await playing()).currentTime, { timeout: 15_000 }).toBeGreaterThan(t1 + 1);
    expect((await playing()).error).toBeNull();

    const fromDatagram = cap!.datagrams.length;
    await w.page.getByRole("button", { name: "Break now" }).click();
    await w.page.locator('input[name="duration"]').fill("6");
    const asked = w.page.waitForResponse(
      (r) => r.request().method() === "POST" && new URL(r.url()).pathname === `/api/v1/channels/${NEWS}/cues`,
      { timeout: 10_000 },
    );
    await w.page.getByRole("button", { name: "Start break" }).click();
    const res = await asked;
    expect(res.status()).toBe(201);
    const { spliceEventId } = (await res.json()) as { spliceEventId: number };

    // the page follows the break live: "Return now" while it is on air, then neither it nor
    // "Cancel next break" once it is over
    const returnNow = w.page.getByRole("button", { name: "Return now" });
    const cancelNext = w.page.getByRole("button", { name: "Cancel next break" });
    await expect.poll(() => returnNow.count(), { timeout: 15_000, interval: 100 }).toBe(1);
    await expect.poll(async () => [await returnNow.count(), await cancelNext.count()], { timeout: 15_000 }).toEqual([0, 0]);
    // the player shows the break, then the return
    await expect.poll(() => w.page.locator('[data-marker="cue-out"]').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    await expect.poll(() => w.page.locator('[data-marker="cue-in"]').count(), { timeout: 30_000 }).toBeGreaterThan(0);
    console.log(`channel page screenshot: ${await screenshot(w.page, "channel")}`);

    // the splice_insert (out of network, this event id) is in the TS the channel sent
    const ts = join(dir, "break.ts");
    writeFileSync(ts, Buffer.concat(cap!.datagrams.slice(fromDatagram)));
    const r = await runCli(["inspect", ts, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const cues = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as InspectLine)
      .filter((l) => l.type === "scte35" && l.section?.spliceCommandType === 5)
      .map((l) => l.section!.spliceCommand);
    expect(cues).toContainEqual(expect.objectContaining({ spliceEventId, outOfNetworkIndicator: true }));

    // one audit line: the token's name, through the console
    const audit = readFileSync(join(dir, "data", "audit", "current.log"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.action === "cue.add");
    expect(audit).toEqual([
      expect.objectContaining({ who: `token:${TOKEN_NAME}`, via: "console", channel: NEWS, result: "ok", status: 201 }),
    ]);
  });

  it("a killed live FFmpeg turns the tile to slate and back", async () => {
    const w = await page();
    await w.page.goto("/");
    await expect.poll(() => tile(w, NEWS).getAttribute("data-state"), { timeout: 10_000 }).toBe("on_air");
    const from = (await history(w)).length;
    const pid = livePids(d!.log(), NEWS).at(-1)!;
    process.kill(pid, "SIGKILL");
    const slateThenBack = (h: HistoryEntry[]): boolean => {
      const news = h.slice(from).filter((e) => e.channel === NEWS);
      const slate = news.findIndex((e) => e.state === "slate" || e.source === "slate");
      return slate >= 0 && news.slice(slate + 1).some((e) => e.state === "on_air" && e.source === "live");
    };
    await expect.poll(async () => slateThenBack(await history(w)), { timeout: 30_000 }).toBe(true);
    await expect.poll(() => tile(w, NEWS).getAttribute("data-state"), { timeout: 5_000 }).toBe("on_air");
    expect(livePids(d!.log(), NEWS).at(-1)).not.toBe(pid);
  });

  it("axe-core finds no serious or critical violation on the wall and the channel page", async () => {
    const w = await page();
    await w.page.goto("/");
    await expect.poll(() => tile(w, NEWS).getAttribute("data-state"), { timeout: 10_000 }).toBe("on_air");
    const wall = seriousViolations(await axeViolations(w.page));
    await w.page.goto(`/channels/${NEWS}`);
    await expect.poll(() => w.page.locator('video[data-field="player"]').count(), { timeout: 10_000 }).toBe(1);
    const channel = seriousViolations(await axeViolations(w.page));
    expect({ wall, channel }).toEqual({ wall: [], channel: [] });
  });
});
