import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { OnairError } from "../../src/core/errors.js";
import { AuditLog, type AuditEntry } from "../../src/observe/audit.js";
import { startHttpServer, type ChannelView, type CueRequest, type HttpServerHandle } from "../../src/observe/http.js";
import { createLogger } from "../../src/observe/logger.js";
import { createMetrics } from "../../src/observe/metrics.js";

const TOKEN = "s3cret-token-0123456789abcdef";
const OTHER = "other-token-abcdefghijklmnop";

const dir = mkdtempSync(join(tmpdir(), "onair-http-"));
const tokenFile = join(dir, "api.token");
const auditDir = join(dir, "audit");
/** The active audit file (one file: these tests write far less than a rotation). */
const auditPath = join(auditDir, "current.log");
const logLines: Record<string, unknown>[] = [];
const clock = new ManualClock(Date.parse("2030-01-01T12:00:00Z"), 0);

const views: Record<string, ChannelView> = {
  news: {
    id: "news",
    enabled: true,
    state: "running",
    up: true,
    slateActive: false,
    currentItem: { title: "Evening news", start: "2030-01-01T11:30:00.000Z", end: "2030-01-01T12:30:00.000Z" },
    lastCue: null,
    nextCue: null,
  },
  sport: { id: "sport", enabled: true, state: "backoff", up: false, slateActive: true, currentItem: null, lastCue: null, nextCue: null },
};
const cueCalls: { id: string; req: CueRequest; who: string }[] = [];
const restartCalls: { id: string; who: string; reason?: string }[] = [];
let nextEventId = 1000;
let storeOk = true;
let channelsReady = true;

let srv: HttpServerHandle;

/** A JSON body as these tests read it (every field a route may answer with). */
interface ApiBody {
  error: { code: string; message: string; issues: { path: string; message: string }[]; [k: string]: unknown };
  channels: ChannelView[];
  currentItem: { title: string };
  spliceEventId: number;
  ready: boolean;
  checks: {
    channels: { ok: boolean; details: unknown };
    store: { ok: boolean };
    disk: { name: string; path: string; ok: boolean; freeBytes: number; error?: string }[];
  };
  status: string;
  eventLoopLagMs: number;
  [k: string]: unknown;
}
let audit: AuditLog;
const cueEnds: Array<{ id: string; spliceEventId: number; who: string; what: string }> = [];

function auditLines(): AuditEntry[] {
  return readFileSync(auditPath, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as AuditEntry);
}

async function post(
  path: string,
  body: unknown,
  token: string | null = TOKEN,
): Promise<{ status: number; json: ApiBody; headers: Headers }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const res = await fetch(srv.url + path, { method: "POST", headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as ApiBody, headers: res.headers };
}

async function get(path: string): Promise<{ status: number; json: ApiBody }> {
  const res = await fetch(srv.url + path);
  return { status: res.status, json: (await res.json()) as ApiBody };
}

/** POSTs a body of `size` bytes with node:http and resolves with the status as soon as the response comes. */
function postLarge(path: string, size: number, chunked: boolean): Promise<{ status: number; json: ApiBody }> {
  return new Promise((resolve, reject) => {
    const u = new URL(srv.url + path);
    const headers: Record<string, string> = { "content-type": "application/json", authorization: `Bearer ${TOKEN}` };
    if (!chunked) headers["content-length"] = String(size);
    const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString("utf8")) as ApiBody }));
    });
    req.on("error", (e) => {
      // the server closes the connection after its 413; a write error after the response is expected
      if (!req.destroyed) reject(e);
    });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const pump = (): void => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(chunk.subarray(0, n))) {
          req.once("drain", pump);
          return;
        }
      }
      req.end();
    };
    pump();
  });
}

beforeAll(async () => {
  writeFileSync(tokenFile, `# onair API tokens\nops:${TOKEN}\n\nshort:abc\n`, { mode: 0o600 });
  const logger = createLogger({ destination: { write: (l: string) => logLines.push(JSON.parse(l)) } });
  audit = await AuditLog.open({ dir: auditDir, clock, logger });
  srv = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    metrics: createMetrics({ defaultMetrics: false }),
    health: { storeOk: () => storeOk, channelsReady: () => ({ ready: channelsReady, details: { news: channelsReady } }) },
    api: {
      listChannels: () => Object.values(views),
      channel: (id) => views[id],
      addCue: (id, req, who) => {
        if (!views[id]) return undefined;
        if (id === "sport") throw new OnairError("ONAIR_CUE_IN_PAST", "the splice time is in the past");
        cueCalls.push({ id, req, who });
        return { spliceEventId: nextEventId++ };
      },
      returnCue: (id, spliceEventId, who) => {
        if (!views[id]) return undefined;
        if (spliceEventId === 7) throw new OnairError("ONAIR_CUE_NOT_ON_AIR", "cue 7 is not on air (pending): nothing to return from");
        if (spliceEventId !== 1000) throw new OnairError("ONAIR_CUE_UNKNOWN", `no cue ${spliceEventId} on channel ${id}`);
        cueEnds.push({ id, spliceEventId, who, what: "return" });
        return { returnPts: 123_456 };
      },
      cancelCue: (id, spliceEventId, who) => {
        if (!views[id]) return false;
        if (spliceEventId === 7) throw new OnairError("ONAIR_CUE_NOT_PENDING", "cue 7 is not pending (aired): it cannot be cancelled");
        if (spliceEventId !== 1001) throw new OnairError("ONAIR_CUE_UNKNOWN", `no cue ${spliceEventId} on channel ${id}`);
        cueEnds.push({ id, spliceEventId, who, what: "cancel" });
        return true;
      },
      restart: (id, who, reason) => {
        if (!views[id]) return false;
        restartCalls.push({ id, who, ...(reason ? { reason } : {}) });
        return true;
      },
    },
    tokenFile,
    auditLog: audit,
    logger,
    rateLimit: { burst: 1000, perMinute: 60 },
    directories: [{ name: "data", path: dir, minFreeBytes: 1 }],
    clock,
  });
});

afterAll(async () => {
  await srv.close();
  await audit.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("HTTP server", () => {
  test("logs the URL it bound with event http_listening", () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(srv.port).toBeGreaterThan(0);
    const line = logLines.find((l) => l.event === "http_listening");
    expect(line?.url).toBe(srv.url);
  });

  test("ignores tokens shorter than 16 characters and says which line", () => {
    const line = logLines.find((l) => l.event === "api_token_ignored");
    expect(line?.lines).toEqual([4]);
  });

  test("serves the Prometheus exposition on /metrics", async () => {
    const res = await fetch(`${srv.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    expect(await res.text()).toContain("# TYPE onair_channel_up gauge");
  });

  test("unknown routes are 404 with a JSON error", async () => {
    const r = await get("/nope");
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("ONAIR_HTTP_NOT_FOUND");
  });

  test("a wrong method is 405 with Allow", async () => {
    const res = await fetch(`${srv.url}/metrics`, { method: "DELETE" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("GET, HEAD");
    expect(((await res.json()) as ApiBody).error.code).toBe("ONAIR_HTTP_METHOD_NOT_ALLOWED");
  });
});

describe("control API reads", () => {
  test("lists the channels and their state", async () => {
    const r = await get("/api/v1/channels");
    expect(r.status).toBe(200);
    expect(r.json.channels.map((c: ChannelView) => [c.id, c.state])).toEqual([
      ["news", "running"],
      ["sport", "backoff"],
    ]);
  });

  test("shows a channel's current item and cues", async () => {
    const r = await get("/api/v1/channels/news");
    expect(r.status).toBe(200);
    expect(r.json.currentItem.title).toBe("Evening news");
    expect(r.json).toHaveProperty("lastCue", null);
    expect(r.json).toHaveProperty("nextCue", null);
  });

  test("an unknown channel is 404 ONAIR_CHANNEL_NOT_FOUND", async () => {
    const r = await get("/api/v1/channels/weather");
    expect(r.status).toBe(404);
    expect(r.json.error).toEqual({ code: "ONAIR_CHANNEL_NOT_FOUND", message: 'no channel "weather"', channel: "weather" });
  });
});

describe("mutating calls", () => {
  test("POST without a token is 401 with a JSON error and WWW-Authenticate", async () => {
    const r = await post("/api/v1/channels/news/cues", { durationSeconds: 60 }, null);
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe("ONAIR_API_UNAUTHORIZED");
    expect(r.headers.get("www-authenticate")).toContain("Bearer");
    expect(cueCalls).toHaveLength(0);
  });

  test("POST with a wrong token is 401", async () => {
    const r = await post("/api/v1/channels/news/restart", undefined, "wrong-token-wrong-token-wrong");
    expect(r.status).toBe(401);
    expect(r.json.error.message).toBe("invalid API token");
    expect(restartCalls).toHaveLength(0);
  });

  test("a cue now returns the splice event id from the daemon", async () => {
    const r = await post("/api/v1/channels/news/cues", { durationSeconds: 120 });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ channel: "news", spliceEventId: 1000, at: null });
    expect(cueCalls.at(-1)).toEqual({ id: "news", req: { durationSeconds: 120 }, who: "token:ops" });
  });

  test("a cue at a time passes the time on", async () => {
    const r = await post("/api/v1/channels/news/cues", { at: "2030-01-01T12:05:00+00:00", durationSeconds: 30.5 });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ channel: "news", spliceEventId: 1001, at: "2030-01-01T12:05:00.000Z" });
    expect(cueCalls.at(-1)?.req.at?.toISOString()).toBe("2030-01-01T12:05:00.000Z");
  });

  test("a cue in the past is refused with ONAIR_CUE_IN_PAST", async () => {
    const calls = cueCalls.length;
    const r = await post("/api/v1/channels/news/cues", { at: "2030-01-01T11:00:00Z", durationSeconds: 30 });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe("ONAIR_CUE_IN_PAST");
    expect(cueCalls).toHaveLength(calls);
  });

  test("a cue more than 7 days ahead is refused with ONAIR_CUE_BEYOND_HORIZON; 7 days is accepted", async () => {
    const calls = cueCalls.length;
    const r = await post("/api/v1/channels/news/cues", { at: "2030-01-08T12:00:01Z", durationSeconds: 30 });
    expect(r.status).toBe(400);
    expect(r.json.error).toEqual({
      code: "ONAIR_CUE_BEYOND_HORIZON",
      message: "the splice time 2030-01-08T12:00:01.000Z is more than 7 days ahead",
    });
    expect(cueCalls).toHaveLength(calls);
    expect((await post("/api/v1/channels/news/cues", { at: "2030-01-08T12:00:00Z", durationSeconds: 30 })).status).toBe(201);
  });

  test("a break under 1 s or over 24 h is refused with ONAIR_CUE_BAD_DURATION", async () => {
    const calls = cueCalls.length;
    for (const durationSeconds of [0.0001, 0.999, 0, -1, 86_400.5]) {
      const r = await post("/api/v1/channels/news/cues", { durationSeconds });
      expect(r.status, String(durationSeconds)).toBe(400);
      expect(r.json.error.code).toBe("ONAIR_CUE_BAD_DURATION");
    }
    expect(cueCalls).toHaveLength(calls);
    expect((await post("/api/v1/channels/news/cues", { durationSeconds: 1 })).status).toBe(201);
  });

  test("a cue on an unknown channel is 404", async () => {
    const r = await post("/api/v1/channels/weather/cues", { durationSeconds: 30 });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe("ONAIR_CHANNEL_NOT_FOUND");
  });

  test("bodies are validated: unknown fields, bad types and missing duration are 400", async () => {
    for (const body of [{ durationSeconds: 30, extra: 1 }, { durationSeconds: "30" }, {}, { at: "tomorrow", durationSeconds: 3 }]) {
      const r = await post("/api/v1/channels/news/cues", body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error.code).toBe("ONAIR_API_INVALID_BODY");
      expect(r.json.error.issues.length).toBeGreaterThan(0);
    }
  });

  test("malformed JSON is 400 ONAIR_HTTP_BAD_JSON", async () => {
    const res = await fetch(`${srv.url}/api/v1/channels/news/cues`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: "{durationSeconds: 3",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as ApiBody).error.code).toBe("ONAIR_HTTP_BAD_JSON");
  });

  test("a non-JSON body is 415", async () => {
    const res = await fetch(`${srv.url}/api/v1/channels/news/cues`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "text/plain" },
      body: "durationSeconds=3",
    });
    expect(res.status).toBe(415);
  });

  test("a refusal from the daemon (OnairError) is 409 with its code", async () => {
    const r = await post("/api/v1/channels/sport/cues", { durationSeconds: 30 });
    expect(r.status).toBe(409);
    expect(r.json.error).toEqual({ code: "ONAIR_CUE_IN_PAST", message: "the splice time is in the past" });
  });

  test("a body of 10 MB with Content-Length is 413 before it is read", async () => {
    const r = await postLarge("/api/v1/channels/news/cues", 10 * 1024 * 1024, false);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe("ONAIR_HTTP_BODY_TOO_LARGE");
  });

  test("a chunked body over the limit is 413", async () => {
    const r = await postLarge("/api/v1/channels/news/cues", 10 * 1024 * 1024, true);
    expect(r.status).toBe(413);
    expect(r.json.error.code).toBe("ONAIR_HTTP_BODY_TOO_LARGE");
  });

  test("restart with a token is 202 and reaches the daemon; unknown channel 404", async () => {
    const r = await post("/api/v1/channels/news/restart", { reason: "operator" });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ channel: "news", restarting: true });
    expect(restartCalls.at(-1)).toEqual({ id: "news", who: "token:ops", reason: "operator" });
    const empty = await post("/api/v1/channels/news/restart", undefined);
    expect(empty.status).toBe(202);
    const unknown = await post("/api/v1/channels/weather/restart", undefined);
    expect(unknown.status).toBe(404);
  });

  test("POST …/cues/:eventId/return ends a break early; DELETE …/cues/:eventId cancels one; refusals 409, unknowns 404", async () => {
    const call = async (method: string, path: string, token: string | null = TOKEN): Promise<{ status: number; json: ApiBody }> => {
      const res = await fetch(srv.url + path, { method, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
      return { status: res.status, json: (await res.json()) as ApiBody };
    };
    expect((await call("POST", "/api/v1/channels/news/cues/1000/return", null)).status).toBe(401);
    expect((await call("DELETE", "/api/v1/channels/news/cues/1001", null)).status).toBe(401);
    expect(cueEnds).toEqual([]);
    audit.flush();
    const before = auditLines().length;
    const back = await call("POST", "/api/v1/channels/news/cues/1000/return");
    expect(back).toEqual({ status: 200, json: { channel: "news", spliceEventId: 1000, returned: true, returnPts: 123_456 } });
    const gone = await call("DELETE", "/api/v1/channels/news/cues/1001");
    expect(gone).toEqual({ status: 200, json: { channel: "news", spliceEventId: 1001, cancelled: true } });
    expect(cueEnds).toEqual([
      { id: "news", spliceEventId: 1000, who: "token:ops", what: "return" },
      { id: "news", spliceEventId: 1001, who: "token:ops", what: "cancel" },
    ]);
    const notOnAir = await call("POST", "/api/v1/channels/news/cues/7/return");
    expect([notOnAir.status, notOnAir.json.error.code]).toEqual([409, "ONAIR_CUE_NOT_ON_AIR"]);
    const notPending = await call("DELETE", "/api/v1/channels/news/cues/7");
    expect([notPending.status, notPending.json.error.code]).toEqual([409, "ONAIR_CUE_NOT_PENDING"]);
    for (const path of ["/api/v1/channels/news/cues/55", "/api/v1/channels/news/cues/x1", "/api/v1/channels/news/cues/99999999999"]) {
      const r = await call("DELETE", path);
      expect([r.status, r.json.error.code], path).toEqual([404, "ONAIR_CUE_UNKNOWN"]);
    }
    const noChannel = await call("POST", "/api/v1/channels/weather/cues/1000/return");
    expect([noChannel.status, noChannel.json.error.code]).toEqual([404, "ONAIR_CHANNEL_NOT_FOUND"]);
    expect((await call("GET", "/api/v1/channels/news/cues/1000/return")).status).toBe(405);
    audit.flush();
    const lines = auditLines().slice(before);
    expect(lines.slice(0, 2)).toMatchObject([
      { who: "token:ops", via: "http", action: "cue.return", channel: "news", params: { spliceEventId: 1000 }, result: "ok", status: 200 },
      { who: "token:ops", via: "http", action: "cue.cancel", channel: "news", params: { spliceEventId: 1001 }, result: "ok", status: 200 },
    ]);
    expect(lines.slice(2, 4)).toMatchObject([
      { who: "token:ops", action: "cue.return", result: "error", status: 409, detail: "ONAIR_CUE_NOT_ON_AIR" },
      { who: "token:ops", action: "cue.cancel", result: "error", status: 409, detail: "ONAIR_CUE_NOT_PENDING" },
    ]);
  });

  test("every mutating call is audited with who, what, when and result; refusals summed up per peer", async () => {
    audit.flush(); // the refusals of earlier tests
    const before = auditLines().length;
    await post("/api/v1/channels/news/cues", { durationSeconds: 15 }, null);
    await post("/api/v1/channels/news/restart", undefined, "wrong-token-0123456789abcdef");
    const r = await post("/api/v1/channels/news/cues", { durationSeconds: 15 });
    audit.flush();
    const lines = auditLines().slice(before);
    expect(lines).toEqual([
      {
        when: "2030-01-01T12:00:00.000Z",
        who: "token:ops",
        via: "http",
        action: "cue.add",
        channel: "news",
        params: { durationSeconds: 15, at: "now", spliceEventId: r.json.spliceEventId },
        result: "ok",
        status: 201,
        remote: "127.0.0.1",
      },
      {
        when: "2030-01-01T12:00:00.000Z",
        last: "2030-01-01T12:00:00.000Z",
        who: "anonymous",
        via: "http",
        action: "refused",
        result: "denied",
        status: 401,
        detail: "ONAIR_API_UNAUTHORIZED",
        remote: "127.0.0.1",
        count: 2,
        actions: { "cue.add": 1, "channel.restart": 1 },
      },
    ]);
    expect(readFileSync(auditPath, "utf8")).not.toContain(TOKEN);
    expect(logLines.filter((l) => l.event === "api_refused").at(-1)).toMatchObject({
      level: "warn",
      remote: "127.0.0.1",
      status: 401,
      count: 2,
    });
  });

  test("reloadTokens picks up a new token file and revokes removed tokens", async () => {
    writeFileSync(tokenFile, `${OTHER}\n`, { mode: 0o600 });
    expect(srv.reloadTokens()).toEqual({ ok: true, tokens: 1 });
    expect((await post("/api/v1/channels/news/restart", undefined, TOKEN)).status).toBe(401);
    expect((await post("/api/v1/channels/news/restart", undefined, OTHER)).status).toBe(202);
    expect(restartCalls.at(-1)?.who).toBe("token:default");
    rmSync(tokenFile);
    expect(srv.reloadTokens()).toEqual({ ok: false, tokens: 0, error: "ENOENT" });
    expect((await post("/api/v1/channels/news/restart", undefined, OTHER)).status).toBe(401);
    writeFileSync(tokenFile, `ops:${TOKEN}\n`, { mode: 0o600 });
    srv.reloadTokens();
  });
});

describe("health", () => {
  test("/healthz answers ok with the event loop lag", async () => {
    const r = await get("/healthz");
    expect(r.status).toBe(200);
    expect(r.json.status).toBe("ok");
    expect(typeof r.json.eventLoopLagMs).toBe("number");
  });

  test("/readyz is 200 when channels, store and disk are fine", async () => {
    const r = await get("/readyz");
    expect(r.status).toBe(200);
    expect(r.json.ready).toBe(true);
    expect(r.json.checks.disk[0]).toMatchObject({ name: "data", path: dir, ok: true });
    expect(r.json.checks.disk[0].freeBytes).toBeGreaterThan(0);
  });

  test("/readyz is 503 when a channel puts out nothing", async () => {
    channelsReady = false;
    const r = await get("/readyz");
    channelsReady = true;
    expect(r.status).toBe(503);
    expect(r.json.checks.channels).toEqual({ ok: false, details: { news: false } });
  });

  test("/readyz is 503 when the store does not answer", async () => {
    storeOk = false;
    const r = await get("/readyz");
    storeOk = true;
    expect(r.status).toBe(503);
    expect(r.json.checks.store.ok).toBe(false);
  });
});
