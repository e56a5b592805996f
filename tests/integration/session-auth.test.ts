/**
 * The console's sign-in and sessions over a real HTTP server: a token sent once by a form
 * POST becomes an HttpOnly, SameSite=Strict cookie; actions with that cookie need the
 * console's Origin; sessions expire (absolute and idle), end at sign-out and when their token
 * leaves the token file (reload); the audit log names the token and `via: console`.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { signInRoutes } from "../../src/console/sign-in.js";
import { SessionStore } from "../../src/console/sessions.js";
import { ManualClock } from "../../src/core/clock.js";
import { AuditLog, type AuditEntry } from "../../src/observe/audit.js";
import { startHttpServer, type ChannelView, type HttpServerHandle } from "../../src/observe/http.js";
import { createLogger } from "../../src/observe/logger.js";
import { createMetrics } from "../../src/observe/metrics.js";

const TOKEN = "console-token-0123456789abcdef";
const OTHER = "other-token-abcdefghijklmnopqr";
const HOUR = 3_600_000;

const dir = mkdtempSync(join(tmpdir(), "onair-session-"));
const tokenFile = join(dir, "api.token");
const clock = new ManualClock(Date.parse("2030-01-01T12:00:00Z"), 0);
const view: ChannelView = {
  id: "news",
  enabled: true,
  state: "on_air",
  up: true,
  slateActive: false,
  currentItem: null,
  lastCue: null,
  nextCue: null,
};
const cues: string[] = [];

interface Server {
  srv: HttpServerHandle;
  audit: AuditLog;
  auditDir: string;
  sessions: SessionStore;
}

async function serve(name: string, publicUrl?: string): Promise<Server> {
  const auditDir = join(dir, `audit-${name}`);
  const logger = createLogger({ destination: { write: () => undefined } });
  const audit = await AuditLog.open({ dir: auditDir, clock, logger });
  const sessions = new SessionStore({ absoluteMs: 12 * HOUR, idleMs: HOUR, clock });
  const srv = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    metrics: createMetrics({ defaultMetrics: false }),
    health: { storeOk: () => true, channelsReady: () => ({ ready: true, details: {} }) },
    api: {
      listChannels: () => [view],
      channel: (id) => (id === "news" ? view : undefined),
      addCue: (id, _req, who) => {
        if (id !== "news") return undefined;
        cues.push(who);
        return { spliceEventId: 100 + cues.length };
      },
      returnCue: () => undefined,
      cancelCue: () => false,
      restart: () => false,
    },
    tokenFile,
    auditLog: audit,
    logger,
    clock,
    rateLimit: { burst: 100, perMinute: 6000 },
    console: { sessions, publicUrl, routes: (deps) => [signInRoutes({ ...deps, sessions, publicUrl })] },
  });
  return { srv, audit, auditDir, sessions };
}

/** POSTs the sign-in form; returns the status, Location and Set-Cookie. */
async function signIn(s: Server, token: string, extra: Record<string, string> = {}, origin?: string) {
  const res = await fetch(`${s.srv.url}/sign-in`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", ...(origin ? { origin } : {}) },
    body: new URLSearchParams({ token, ...extra }).toString(),
  });
  return { status: res.status, location: res.headers.get("location"), cookie: res.headers.get("set-cookie") ?? "" };
}

const sessionOf = (setCookie: string): string => setCookie.split(";")[0];

async function cue(s: Server, headers: Record<string, string>): Promise<{ status: number; code?: string }> {
  const res = await fetch(`${s.srv.url}/api/v1/channels/news/cues`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ durationSeconds: 30 }),
  });
  const json = (await res.json()) as { error?: { code: string } };
  return { status: res.status, code: json.error?.code };
}

async function session(
  s: Server,
  cookie: string,
): Promise<{ signedIn: boolean; name?: string; expiresAt?: string; idleExpiresAt?: string }> {
  return (await (await fetch(`${s.srv.url}/api/v1/session`, { headers: { cookie } })).json()) as { signedIn: boolean };
}

function auditLines(s: Server): AuditEntry[] {
  return readFileSync(join(s.auditDir, "current.log"), "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as AuditEntry);
}

let plain: Server;
let behindTls: Server;

beforeAll(async () => {
  writeFileSync(tokenFile, `ops:${TOKEN}\nnight:${OTHER}\n`, { mode: 0o600 });
  plain = await serve("plain");
  behindTls = await serve("tls", "https://onair.example.net");
});

afterAll(async () => {
  for (const s of [plain, behindTls]) {
    await s.srv.close();
    await s.audit.close();
  }
  rmSync(dir, { recursive: true, force: true });
});

describe("sign-in", () => {
  test("a token of the token file gives an HttpOnly SameSite=Strict session cookie, not Secure over plain http", async () => {
    const r = await signIn(plain, TOKEN, { next: "/channels/news" });
    expect(r.status).toBe(303);
    expect(r.location).toBe("/channels/news");
    expect(r.cookie).toMatch(/^onair_session=[A-Za-z0-9_-]{43}; /);
    expect(r.cookie).toContain("HttpOnly");
    expect(r.cookie).toContain("SameSite=Strict");
    expect(r.cookie).toContain("Path=/");
    expect(r.cookie).not.toContain("Secure");
    expect(r.cookie).not.toContain(TOKEN);
    const s = await session(plain, sessionOf(r.cookie));
    expect(s).toMatchObject({
      signedIn: true,
      name: "ops",
      expiresAt: "2030-01-02T00:00:00.000Z",
      idleExpiresAt: "2030-01-01T13:00:00.000Z",
    });
  });

  test("a wrong token goes back to the page with signin=failed, no cookie, and an audit line", async () => {
    const r = await signIn(plain, "not-a-token-of-the-file-at-all");
    expect(r).toMatchObject({ status: 303, location: "/?signin=failed", cookie: "" });
    expect(auditLines(plain).at(-1)).toMatchObject({ action: "console.sign_in", via: "console", who: "anonymous", result: "denied" });
  });

  test("next never leads to another host", async () => {
    expect((await signIn(plain, TOKEN, { next: "//evil.example/x" })).location).toBe("/");
    expect((await signIn(plain, TOKEN, { next: "https://evil.example/" })).location).toBe("/");
  });

  test("a sign-in form posted from another origin is refused", async () => {
    const r = await signIn(plain, TOKEN, {}, "http://evil.example");
    expect(r.status).toBe(403);
    expect(r.cookie).toBe("");
  });

  test("behind a TLS proxy (public URL https) the cookie is Secure and only that Origin may act", async () => {
    const r = await signIn(behindTls, TOKEN, {}, "https://onair.example.net");
    expect(r.status).toBe(303);
    expect(r.cookie).toContain("; Secure");
    const cookie = sessionOf(r.cookie);
    expect(await cue(behindTls, { cookie, origin: "https://onair.example.net" })).toMatchObject({ status: 201 });
    const host = new URL(behindTls.srv.url).host;
    expect(await cue(behindTls, { cookie, origin: `http://${host}` })).toEqual({ status: 403, code: "ONAIR_HTTP_BAD_ORIGIN" });
  });
});

describe("actions with a session", () => {
  test("need the console's Origin: with it the cue is made and audited as the token via console; without or foreign, 403", async () => {
    const cookie = sessionOf((await signIn(plain, TOKEN)).cookie);
    const origin = plain.srv.url;
    const before = cues.length;
    expect(await cue(plain, { cookie, origin })).toMatchObject({ status: 201 });
    expect(cues.slice(before)).toEqual(["token:ops"]);
    expect(auditLines(plain).at(-1)).toMatchObject({ action: "cue.add", via: "console", who: "token:ops", result: "ok" });
    expect(await cue(plain, { cookie })).toEqual({ status: 403, code: "ONAIR_HTTP_BAD_ORIGIN" });
    expect(await cue(plain, { cookie, origin: "http://evil.example" })).toEqual({ status: 403, code: "ONAIR_HTTP_BAD_ORIGIN" });
    expect(cues.length).toBe(before + 1);
  });

  test("without a session or token an action is 401; a bearer token works as before, via http", async () => {
    expect(await cue(plain, { origin: plain.srv.url })).toEqual({ status: 401, code: "ONAIR_API_UNAUTHORIZED" });
    expect(await cue(plain, { cookie: "onair_session=forged", origin: plain.srv.url })).toEqual({
      status: 401,
      code: "ONAIR_API_UNAUTHORIZED",
    });
    expect(await cue(plain, { authorization: `Bearer ${OTHER}` })).toMatchObject({ status: 201 });
    expect(auditLines(plain).at(-1)).toMatchObject({ action: "cue.add", via: "http", who: "token:night" });
    expect(await cue(plain, { authorization: `Bearer ${OTHER}`, origin: "http://evil.example" })).toEqual({
      status: 403,
      code: "ONAIR_HTTP_BAD_ORIGIN",
    });
  });

  test("a session ends after an hour idle, and after 12 hours however busy", async () => {
    const cookie = sessionOf((await signIn(plain, TOKEN)).cookie);
    clock.advance(HOUR - 1000);
    expect((await session(plain, cookie)).signedIn).toBe(true);
    clock.advance(HOUR - 1000);
    expect((await session(plain, cookie)).signedIn).toBe(true);
    clock.advance(HOUR + 1);
    expect((await session(plain, cookie)).signedIn).toBe(false);

    const busy = sessionOf((await signIn(plain, TOKEN)).cookie);
    for (let h = 0; h < 12; h++) {
      expect((await session(plain, busy)).signedIn, `hour ${h}`).toBe(true);
      clock.advance(HOUR - 1);
    }
    clock.advance(12);
    expect((await session(plain, busy)).signedIn).toBe(false);
    expect(await cue(plain, { cookie: busy, origin: plain.srv.url })).toMatchObject({ status: 401 });
  });

  test("sign-out ends the session and clears the cookie", async () => {
    const cookie = sessionOf((await signIn(plain, TOKEN)).cookie);
    const res = await fetch(`${plain.srv.url}/sign-out`, {
      method: "POST",
      redirect: "manual",
      headers: { cookie, origin: plain.srv.url },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get("set-cookie")).toMatch(/^onair_session=; .*Max-Age=0/);
    expect((await session(plain, cookie)).signedIn).toBe(false);
    expect(auditLines(plain).at(-1)).toMatchObject({ action: "console.sign_out", who: "token:ops" });
  });

  test("removing a token from the token file and reloading ends its sessions, not the others'", async () => {
    const ops = sessionOf((await signIn(plain, TOKEN)).cookie);
    const night = sessionOf((await signIn(plain, OTHER)).cookie);
    writeFileSync(tokenFile, `night:${OTHER}\n`, { mode: 0o600 });
    try {
      plain.srv.reloadTokens();
      expect((await session(plain, ops)).signedIn).toBe(false);
      expect(await cue(plain, { cookie: ops, origin: plain.srv.url })).toMatchObject({ status: 401 });
      expect((await session(plain, night)).signedIn).toBe(true);
    } finally {
      writeFileSync(tokenFile, `ops:${TOKEN}\nnight:${OTHER}\n`, { mode: 0o600 });
      plain.srv.reloadTokens();
    }
  });
});
