import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type Socket } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import { MemoryAudit } from "../../src/observe/audit.js";
import { startHttpServer, type ChannelView, type HttpServerHandle, type HttpServerOptions } from "../../src/observe/http.js";
import { openFilesSoftLimit } from "../../src/observe/http-limits.js";
import { createMetrics } from "../../src/observe/metrics.js";
import { waitEvent } from "../helpers/pipeline.js";

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
  checks: {
    channels: { ok: boolean; details: unknown };
    store: { ok: boolean };
    disk: { name: string; path: string; ok: boolean; freeBytes: number; error?: string }[];
  };
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
    api: {
      listChannels: () => [],
      channel: () => undefined,
      addCue: () => ({ spliceEventId: 7 }),
      returnCue: () => undefined,
      cancelCue: () => false,
      restart: () => true,
    },
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
    expect(audit.entries.map((e) => `${e.who} ${e.result}`)).toEqual([
      "token:a ok",
      "token:a ok",
      "token:a rate_limited",
      "token:b ok",
      "token:a ok",
    ]);
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
    expect(((await res.json()) as ApiBody).checks).toMatchObject({
      channels: { ok: false, details: { error: "no channels yet" } },
      store: { ok: false },
    });
  });
});

describe("life cycle", () => {
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

describe("connections", () => {
  /** A client connection that sends nothing; records when the server ends it and what it sent. */
  async function idle(port: number): Promise<Socket & { got: number }> {
    const s = Object.assign(connect(port, "127.0.0.1"), { got: 0 });
    s.on("data", (d: Buffer) => (s.got += d.length));
    s.on("error", () => undefined);
    await waitEvent(s, "connect", 5000);
    return s;
  }

  test("applies the idle (10 s), header (10 s), request (30 s) and keep-alive (5 s) timeouts and the cap of 256", async () => {
    const srv = await start({ connections: { openFilesLimit: 65_536 } });
    expect(srv.server).toMatchObject({
      maxConnections: 256,
      timeout: 10_000,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      keepAliveTimeout: 5_000,
    });
  });

  test("closes a connection that never sends a byte once it has been idle for the idle timeout", async () => {
    const srv = await start({ connections: { idleTimeoutMs: 400 } });
    const t0 = performance.now();
    const s = await idle(srv.port);
    await waitEvent(s, "close", 5000);
    const ms = performance.now() - t0;
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(3000);
    expect(s.got).toBe(0);
  });

  test("closes connections over the cap at once, before any byte, and serves again when one goes", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const srv = await start({ connections: { maxConnections: 2, openFilesLimit: 65_536 }, logger });
    const held = [await idle(srv.port), await idle(srv.port)];
    const over = await idle(srv.port);
    await waitEvent(over, "close", 5000);
    expect(over.got).toBe(0);
    expect(held.every((s) => !s.destroyed)).toBe(true);
    expect(lines.find((l) => l.event === "http_connections_capped")).toMatchObject({ maxConnections: 2, dropped: 1 });
    held[0].destroy();
    await waitEvent(held[0], "close", 5000);
    // the server counts the closed one gone on its own 'close': ask until it has
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = await fetch(`${srv.url}/healthz`, { signal: AbortSignal.timeout(200) }).then(
        (r) => r.status,
        () => 0,
      );
    }
    expect(status).toBe(200);
    held[1].destroy();
  });

  test("keeps half the open-files limit for playout: the cap is lowered, and says so", async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) });
    const srv = await start({ connections: { maxConnections: 256, openFilesLimit: 200 }, logger });
    expect(srv.server.maxConnections).toBe(100);
    expect(lines.find((l) => l.event === "http_connections_lowered")).toMatchObject({
      maxConnections: 100,
      configured: 256,
      openFilesLimit: 200,
    });
    expect(lines.find((l) => l.event === "http_listening")).toMatchObject({ maxConnections: 100 });
  });

  test("reads the soft open-files limit from /proc/self/limits", () => {
    const text =
      "Limit                     Soft Limit           Hard Limit           Units\nMax open files            256                  4096                 files\n";
    expect(openFilesSoftLimit(text)).toBe(256);
    expect(openFilesSoftLimit("Max open files            unlimited            unlimited            files\n")).toBeUndefined();
    expect(openFilesSoftLimit()).toBeGreaterThan(0);
  });
});
