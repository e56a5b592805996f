import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { SecretSet } from "../../src/config/redact.js";
import { ManualClock } from "../../src/core/clock.js";
import { AuditLog, MemoryAudit, whoTelegram, whoToken } from "../../src/observe/audit.js";
import { createLogger } from "../../src/observe/logger.js";
import { until } from "../helpers/pipeline.js";

const dir = mkdtempSync(join(tmpdir(), "onair-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The audit files of `d`, oldest first. */
const auditFiles = (d: string): string[] =>
  readdirSync(d)
    .filter((f) => /^audit\.\d+\.log$/.test(f))
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]))
    .map((f) => join(d, f));

/** Every line of the audit files of `d`, in order. */
const lines = (d: string): Record<string, unknown>[] =>
  auditFiles(d)
    .map((f) => readFileSync(f, "utf8"))
    .join("")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("audit log", () => {
  test("writes one JSON line per action with who, what, when and result; creates its directory", async () => {
    const path = join(dir, "a", "b");
    const clock = new ManualClock(Date.parse("2030-05-01T08:00:00Z"));
    const log = await AuditLog.open({ dir: path, clock });
    log.record({
      who: whoToken("ops"),
      via: "http",
      action: "cue.add",
      channel: "news",
      params: { durationSeconds: 30 },
      result: "ok",
      status: 201,
      remote: "127.0.0.1",
    });
    clock.advance(1500);
    log.record({
      who: whoTelegram(-100123),
      via: "telegram",
      action: "channel.restart",
      channel: "news",
      result: "denied",
      detail: "chat not allowed",
    });
    expect(lines(path)).toHaveLength(2); // written before record() returns
    await log.close();
    expect(lines(path)).toEqual([
      {
        when: "2030-05-01T08:00:00.000Z",
        who: "token:ops",
        via: "http",
        action: "cue.add",
        channel: "news",
        params: { durationSeconds: 30 },
        result: "ok",
        status: 201,
        remote: "127.0.0.1",
      },
      {
        when: "2030-05-01T08:00:01.500Z",
        who: "telegram:-100123",
        via: "telegram",
        action: "channel.restart",
        channel: "news",
        result: "denied",
        detail: "chat not allowed",
      },
    ]);
    expect(statSync(auditFiles(path)[0]).mode & 0o777).toBe(0o600);
    expect(statSync(path).mode & 0o777).toBe(0o700);
    expect(readFileSync(join(path, "current.log"), "utf8")).toBe(readFileSync(auditFiles(path)[0], "utf8"));
  });

  test("appends: reopening keeps earlier lines", async () => {
    const path = join(dir, "append");
    const a = await AuditLog.open({ dir: path });
    a.record({ who: "system", via: "daemon", action: "x", result: "ok" });
    await a.close();
    const b = await AuditLog.open({ dir: path });
    b.record({ who: "system", via: "daemon", action: "y", result: "ok" });
    await b.close();
    expect(lines(path).map((l) => l.action)).toEqual(["x", "y"]);
  });

  test("records profile loads and reloads", async () => {
    const path = join(dir, "profiles");
    const log = await AuditLog.open({ dir: path });
    log.profileLoaded({ who: "system", via: "daemon", path: "/etc/onair/news.profile", channel: "news", reload: false, ok: true });
    log.profileLoaded({
      who: "cli:root",
      via: "cli",
      path: "/etc/onair/news.profile",
      channel: "news",
      reload: true,
      ok: false,
      error: "ONAIR_PROFILE_AUTH_FAILED",
    });
    await log.close();
    expect(lines(path)).toMatchObject([
      { who: "system", via: "daemon", action: "profile.load", channel: "news", params: { path: "/etc/onair/news.profile" }, result: "ok" },
      { who: "cli:root", via: "cli", action: "profile.reload", channel: "news", result: "error", detail: "ONAIR_PROFILE_AUTH_FAILED" },
    ]);
  });

  test("never writes secrets: secret keys, known values and URL credentials are redacted", async () => {
    const path = join(dir, "secrets");
    const secrets = new SecretSet();
    secrets.add("hunter2-passphrase");
    const log = await AuditLog.open({ dir: path, secrets });
    log.record({
      who: "token:ops",
      via: "http",
      action: "profile.reload",
      params: { token: "abcdefabcdefabcdef", url: "srt://user:pw@host:9000", note: "uses hunter2-passphrase" },
      result: "ok",
    });
    await log.close();
    const text = auditFiles(path)
      .map((f) => readFileSync(f, "utf8"))
      .join("");
    for (const s of ["abcdefabcdefabcdef", ":pw@", "hunter2-passphrase"]) expect(text).not.toContain(s);
  });

  test("a failed write is logged and counted, not thrown", async () => {
    const path = join(dir, "closed");
    const logged: Record<string, unknown>[] = [];
    const log = await AuditLog.open({
      dir: path,
      logger: createLogger({ destination: { write: (l: string) => logged.push(JSON.parse(l)) } }),
    });
    await log.close();
    expect(() => log.record({ who: "system", via: "daemon", action: "x", result: "ok" })).not.toThrow();
    expect(log.writeErrors).toBe(1);
    expect(logged[0]).toMatchObject({ event: "audit_write_failed", dir: path });
  });

  test("refused calls are one line per peer and minute with a count; allowed calls one line each, at once", async () => {
    const path = join(dir, "refused");
    const clock = new ManualClock(Date.parse("2030-05-01T08:00:10Z"));
    const log = await AuditLog.open({ dir: path, clock });
    const refused = {
      who: "anonymous",
      via: "http",
      action: "cue.add",
      channel: "news",
      result: "denied",
      status: 401,
      detail: "ONAIR_API_UNAUTHORIZED",
      remote: "127.0.0.1",
    } as const;
    for (let i = 0; i < 1000; i++) log.record(refused);
    log.record({ who: whoToken("ops"), via: "http", action: "cue.add", channel: "news", result: "ok", status: 201, remote: "127.0.0.1" });
    expect(lines(path)).toMatchObject([{ who: "token:ops", result: "ok" }]);
    clock.advance(60_000); // the next minute: its first entry writes the last minute's refusals first
    log.record({
      who: whoToken("ops"),
      via: "http",
      action: "channel.restart",
      channel: "news",
      result: "ok",
      status: 202,
      remote: "127.0.0.1",
    });
    log.record(refused);
    await log.close(); // writes the pending refusal
    expect(lines(path)).toMatchObject([
      { who: "token:ops", action: "cue.add", result: "ok" },
      {
        who: "anonymous",
        action: "refused",
        result: "denied",
        status: 401,
        remote: "127.0.0.1",
        count: 1000,
        when: "2030-05-01T08:00:10.000Z",
        actions: { "cue.add": 1000 },
      },
      { who: "token:ops", action: "channel.restart", result: "ok" },
      { action: "refused", count: 1, when: "2030-05-01T08:01:10.000Z" },
    ]);
  });

  test("rotates by size and keeps `files` files, at times one more (sizeBytes × (files + 1) at most), as the main log", async () => {
    const path = join(dir, "rotated");
    const log = await AuditLog.open({ dir: path, sizeBytes: 2000, files: 3 });
    const entry = {
      who: whoToken("ops"),
      via: "http",
      action: "cue.add",
      channel: "news",
      params: { pad: "x".repeat(100) },
      result: "ok",
      status: 201,
    } as const;
    for (let i = 0; i < 200; i++) {
      log.record(entry);
      await new Promise((r) => setImmediate(r)); // one call a turn, as requests come
    }
    await log.close();
    // pino-roll removes old files asynchronously after each rotation
    await until(() => auditFiles(path).length <= 4, 5000, "old audit files to be removed");
    const files = auditFiles(path);
    // 3, or 4 when a rotation's cleanup listed the folder before the new file was opened (logger.ts openRollingFile)
    expect(files.length).toBeGreaterThanOrEqual(3);
    expect(Number(files.at(-1)!.split(".").at(-2))).toBeGreaterThan(10); // 200 lines rotated a dozen times
    const lineBytes = Buffer.byteLength(readFileSync(files[0], "utf8").split("\n")[0]) + 1;
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(2000 + lineBytes);
    expect(readlinkSync(join(path, "current.log"))).toBe(basename(files.at(-1)!));
  });

  test("the memory sink keeps entries with a time", () => {
    const m = new MemoryAudit(new ManualClock(0));
    m.record({ who: "system", via: "daemon", action: "x", result: "ok" });
    expect(m.entries).toEqual([{ who: "system", via: "daemon", action: "x", result: "ok", when: "1970-01-01T00:00:00.000Z" }]);
  });
});
