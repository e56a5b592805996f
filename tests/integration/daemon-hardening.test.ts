/**
 * `onair run` as a real process, without channels (no FFmpeg): refused API calls cannot fill
 * the disk through the audit log (issue #18), the data it creates is its owner's only, and
 * an HTTP address other than loopback needs `http.allowPublic` (issue #19).
 */
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { startDaemon, stopDaemon, type Daemon } from "../helpers/daemon.js";

const API_TOKEN = "hardening-test-api-token-0123456789";
/** The hammer's length; the acceptance bound (200 KB in 10 s) is scaled to it. */
const HAMMER_MS = 4000;
const MAX_GROWTH_BYTES = (200 * 1024 * HAMMER_MS) / 10_000;

const mode = (p: string): number => statSync(p).mode & 0o777;

/** Audit files (not links) under `dir`, any layout: `audit.log`, `audit/audit.N.log`. */
function auditFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
    const p = join(dir, e);
    if (/(^|\/)audit[^/]*\.log$/.test(e) && lstatSync(p).isFile()) out.push(p);
  }
  return out.sort((a, b) => Number(/(\d+)\.log$/.exec(a)?.[1] ?? 0) - Number(/(\d+)\.log$/.exec(b)?.[1] ?? 0));
}
const auditBytes = (dir: string): number => auditFiles(dir).reduce((n, f) => n + statSync(f).size, 0);
const auditLines = (dir: string): Record<string, unknown>[] =>
  auditFiles(dir)
    .flatMap((f) => readFileSync(f, "utf8").trim().split("\n"))
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** POSTs a cue without a token as fast as `concurrency` keep-alive connections allow for `ms`. */
async function hammer(url: string, ms: number, concurrency = 8): Promise<{ refused: number; other: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL("/api/v1/channels/news/cues", url);
  const body = '{"durationSeconds":30}';
  const one = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const headers = { "content-type": "application/json", "content-length": String(body.length) };
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: "POST", agent, headers }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
      req.end(body);
    });
  const end = Date.now() + ms;
  const counts = { refused: 0, other: 0 };
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (Date.now() < end) {
        const status = await one();
        if (status === 401 || status === 429) counts.refused++;
        else counts.other++;
      }
    }),
  );
  agent.destroy();
  return counts;
}

describe("onair run: audit log, data directory modes, HTTP exposure", () => {
  let dir = "";
  let d: Daemon | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "onair-hardening-"));
    mkdirSync(join(dir, "profiles"), { mode: 0o700 });
    writeFileSync(join(dir, "api.token"), `tests:${API_TOKEN}\n`, { mode: 0o600 });
    writeFileSync(join(dir, "onair.yaml"), "log:\n  level: info\n");
    expect((await runCli(["profile", "keygen", "--out", join(dir, "key")])).code).toBe(0);
  });

  afterAll(async () => {
    await stopDaemon(d);
    rmSync(dir, { recursive: true, force: true });
  });

  it("creates a fresh data directory 0700, the store, its -wal/-shm and the audit files 0600 (umask 022)", async () => {
    expect(process.umask() & 0o077).toBe(0o022); // what the daemon inherits: files would be 0644 by default
    d = await startDaemon(dir);
    const data = join(dir, "data");
    expect(mode(data)).toBe(0o700);
    for (const f of ["onair.db", "onair.db-wal", "onair.db-shm"]) expect([f, mode(join(data, f))]).toEqual([f, 0o600]);
    expect(auditFiles(data).length).toBeGreaterThan(0);
    for (const f of auditFiles(data)) expect([f, mode(f)]).toEqual([f, 0o600]);
  });

  it(`POSTs without a token for ${HAMMER_MS / 1000} s grow the audit log by at most ${MAX_GROWTH_BYTES / 1024} KB, each counted; allowed calls stay one line each`, async () => {
    if (!d) throw new Error("the daemon of the previous test did not start");
    const data = join(dir, "data");
    const before = auditBytes(data);
    const sent = await hammer(d.url, HAMMER_MS);
    const res = await fetch(`${d.url}/api/v1/channels/nope/cues`, {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ durationSeconds: 10 }),
    });
    expect(res.status).toBe(404);
    await stopDaemon(d); // writes the pending aggregates
    const growth = auditBytes(data) - before;
    expect(sent.refused).toBeGreaterThan(1000);
    expect(growth).toBeLessThanOrEqual(MAX_GROWTH_BYTES);
    const lines = auditLines(data);
    const refused = lines.filter((l) => l.action === "refused");
    // 401 then 429 from this peer, over at most two minutes
    expect(refused.length).toBeLessThanOrEqual(4);
    expect(refused.reduce((n, l) => n + Number(l.count), 0)).toBe(sent.refused);
    expect(lines).toContainEqual(
      expect.objectContaining({ who: "token:tests", via: "http", action: "cue.add", channel: "nope", result: "not_found", status: 404 }),
    );
    expect(d.log()).toContain('"event":"api_refused"');
  });

  it("refuses a non-loopback --http with ONAIR_HTTP_PUBLIC_REFUSED, creating nothing", async () => {
    const args = [
      "run",
      "--profiles-dir",
      join(dir, "profiles"),
      "--data-dir",
      join(dir, "data-public"),
      "--key-file",
      join(dir, "key"),
      "--api-token-file",
      join(dir, "api.token"),
    ];
    const r = await runCli([...args, "--http", "0.0.0.0:0"], { env: { ONAIR_CONFIG: join(dir, "onair.yaml") }, timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^onair: ONAIR_HTTP_PUBLIC_REFUSED: .*http\.allowPublic/m);
    expect(() => statSync(join(dir, "data-public"))).toThrow();
  });

  it("with http.allowPublic it binds 0.0.0.0 and warns; an existing open data directory keeps its mode and is warned about", async () => {
    const pub = join(dir, "public");
    mkdirSync(join(pub, "data"), { recursive: true, mode: 0o755 });
    mkdirSync(join(pub, "profiles"), { mode: 0o700 });
    for (const f of ["api.token", "key"]) writeFileSync(join(pub, f), readFileSync(join(dir, f)), { mode: 0o600 });
    writeFileSync(join(pub, "onair.yaml"), "http:\n  allowPublic: true\n");
    d = await startDaemon(pub, ["--http", "0.0.0.0:0"]);
    expect(d.url).toMatch(/^http:\/\/0\.0\.0\.0:\d+$/);
    expect((await fetch(`http://127.0.0.1:${new URL(d.url).port}/healthz`)).status).toBe(200);
    expect(d.log()).toMatch(/"level":"warn".*"event":"http_public","listen":"0\.0\.0\.0:0"/);
    expect(d.log()).toMatch(/"event":"data_dir_open".*"mode":"755"/);
    expect(mode(join(pub, "data"))).toBe(0o755);
    expect(mode(join(pub, "data", "onair.db"))).toBe(0o600);
    await stopDaemon(d);
  });
});
