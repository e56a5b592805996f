import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { MemoryAudit } from "../../src/observe/audit.js";
import { startHttpServer, type ChannelView, type HttpServerHandle, type HttpServerOptions } from "../../src/observe/http.js";
import { createMetrics } from "../../src/observe/metrics.js";

const TOKEN_A = "token-a-0123456789abcdef";
const TOKEN_B = "token-b-0123456789abcdef";
const dir = mkdtempSync(join(tmpdir(), "onair-http-limits-"));
const tokenFile = join(dir, "api.token");
const servers: HttpServerHandle[] = [];

/** A JSON body as these tests read it (every field a route may answer with). */
interface ApiBody {
  error: { code: string; message: string; issues: { path: string; message: string }[]; [k: string]: unknown };
  channels: ChannelView[];
  currentItem: { title: string };
  spliceEventId: number;
  ready: boolean;
  checks: { channels: { ok: boolean; details: unknown }; store: { ok: boolean }; disk: { name: string; path: string; ok: boolean; freeBytes: number; error?: string }[] };
  status: string;
  eventLoopLagMs: number;
  [k: string]: unknown;
}

function options(over: Partial<HttpServerOptions> = {}): HttpServerOptions {
  return {
    host: "127.0.0.1",
    port: 0,
    metrics: createMetrics({ defaultMetrics: false }),
    health: { storeOk: () => true, channelsReady: () => ({ ready: true, details: {} }) },
    api: { listChannels: () => [], channel: () => undefined, addCue: () => ({ spliceEventId: 7 }), restart: () => true },
    tokenFile,
    auditLog: new MemoryAudit(),
    ...over,
  };
}

async function start(over: Partial<HttpServerOptions> = {}): Promise<HttpServerHandle> {
  const s = await startHttpServer(options(over));
  servers.push(s);
  return s;
}

const restart = (srv: HttpServerHandle, token: string | null): Promise<Response> =>
  fetch(`${srv.url}/api/v1/channels/news/restart`, { method: "POST", headers: token ? { authorization: `Bearer ${token}` } : {} });

beforeAll(() => {
  writeFileSync(tokenFile, `a:${TOKEN_A}\nb:${TOKEN_B}\n`, { mode: 0o600 });
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe("rate limiting", () => {
  test("each client (token) gets its burst, then 429 with Retry-After, audited as rate_limited", async () => {
    const clock = new ManualClock(Date.parse("2030-01-01T00:00:00Z"));
    const audit = new MemoryAudit(clock);
    const srv = await start({ rateLimit: { burst: 2, perMinute: 6 }, clock, auditLog: audit });
    expect((await restart(srv, TOKEN_A)).status).toBe(202);
    expect((await restart(srv, TOKEN_A)).status).toBe(202);
    const limited = await restart(srv, TOKEN_A);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("10");
    expect(((await limited.json()) as ApiBody).error.code).toBe("ONAIR_API_RATE_LIMITED");
    // another client is not affected
    expect((await restart(srv, TOKEN_B)).status).toBe(202);
    // the bucket refills with time
    clock.advance(10_000);
    expect((await restart(srv, TOKEN_A)).status).toBe(202);
    expect(audit.entries.map((e) => `${e.who} ${e.result}`)).toEqual(["token:a ok", "token:a ok", "token:a rate_limited", "token:b ok", "token:a ok"]);
  });

  test("failed authentication is rate-limited per peer too", async () => {
    const srv = await start({ rateLimit: { burst: 2, perMinute: 1 }, clock: new ManualClock() });
    expect((await restart(srv, "guess-0000000000000000")).status).toBe(401);
    expect((await restart(srv, "guess-0000000000000001")).status).toBe(401);
    expect((await restart(srv, "guess-0000000000000002")).status).toBe(429);
    expect((await restart(srv, TOKEN_A)).status).toBe(202);
  });

  test("GET calls are not rate-limited", async () => {
    const srv = await start({ rateLimit: { burst: 1, perMinute: 1 }, clock: new ManualClock() });
    for (let i = 0; i < 5; i++) expect((await fetch(`${srv.url}/api/v1/channels`)).status).toBe(200);
  });
});

describe("health probes", () => {
  test("/healthz is 503 when the event loop lagged past the limit", async () => {
    let lag = 5;
    const srv = await start({ eventLoop: { maxLagMs: 500, probe: () => lag } });
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    lag = 2500;
    const res = await fetch(`${srv.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "unhealthy", eventLoopLagMs: 2500, maxLagMs: 500 });
  });

  test("/healthz sees a real event loop block with the built-in probe", async () => {
    const srv = await start({ eventLoop: { maxLagMs: 250 } });
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    const until = performance.now() + 600;
    while (performance.now() < until) {
      // block the event loop on purpose
    }
    const res = await fetch(`${srv.url}/healthz`);
    const body = (await res.json()) as { eventLoopLagMs: number };
    expect(body.eventLoopLagMs).toBeGreaterThan(250);
    expect(res.status).toBe(503);
  });

  test("/readyz is 503 when a watched directory is missing or short of space", async () => {
    const srv = await start({
      directories: [
        { name: "data", path: dir, minFreeBytes: 1 },
        { name: "recordings", path: join(dir, "missing") },
        { name: "spool", path: dir, minFreeBytes: Number.MAX_SAFE_INTEGER },
      ],
    });
    const res = await fetch(`${srv.url}/readyz`);
    expect(res.status).toBe(503);
    const body = (await res.json()) as ApiBody;
    expect(body.checks.disk.map((d) => [d.name, d.ok])).toEqual([
      ["data", true],
      ["recordings", false],
      ["spool", false],
    ]);
    expect(body.checks.disk[1].error).toBe("ENOENT");
  });

  test("/readyz is 503 when a check throws", async () => {
    const srv = await start({
      health: {
        storeOk: () => {
          throw new Error("SQLITE_BUSY");
        },
        channelsReady: () => Promise.reject(new Error("no channels yet")),
      },
    });
    const res = await fetch(`${srv.url}/readyz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as ApiBody).checks).toMatchObject({ channels: { ok: false, details: { error: "no channels yet" } }, store: { ok: false } });
  });
});

describe("life cycle", () => {
  test("SIGHUP re-reads the token file when asked to", async () => {
    const file = join(dir, "hup.token");
    writeFileSync(file, `${TOKEN_A}\n`, { mode: 0o600 });
    const srv = await start({ tokenFile: file, reloadOnSighup: true });
    expect((await restart(srv, TOKEN_B)).status).toBe(401);
    writeFileSync(file, `${TOKEN_B}\n`, { mode: 0o600 });
    const reloaded = new Promise<void>((resolve) => process.once("SIGHUP", () => setImmediate(resolve)));
    process.kill(process.pid, "SIGHUP");
    await reloaded;
    expect((await restart(srv, TOKEN_B)).status).toBe(202);
    await srv.close();
    expect(process.listenerCount("SIGHUP")).toBe(0);
  });

  test("a port in use is ONAIR_HTTP_LISTEN_FAILED", async () => {
    const first = await start();
    await expect(start({ port: first.port })).rejects.toMatchObject({ code: "ONAIR_HTTP_LISTEN_FAILED" });
  });

  test("close() stops listening and can be called twice", async () => {
    const srv = await startHttpServer(options());
    await srv.close();
    await srv.close();
    await expect(fetch(`${srv.url}/healthz`)).rejects.toThrow();
  });
});
