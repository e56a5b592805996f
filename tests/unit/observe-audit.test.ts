import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { SecretSet } from "../../src/config/redact.js";
import { ManualClock } from "../../src/core/clock.js";
import { AuditLog, MemoryAudit, whoTelegram, whoToken } from "../../src/observe/audit.js";
import { createLogger } from "../../src/observe/logger.js";

const dir = mkdtempSync(join(tmpdir(), "onair-audit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (p: string): Record<string, unknown>[] =>
  readFileSync(p, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("audit log", () => {
  test("writes one JSON line per action with who, what, when and result; creates its directory", () => {
    const path = join(dir, "a", "b", "audit.jsonl");
    const clock = new ManualClock(Date.parse("2030-05-01T08:00:00Z"));
    const log = new AuditLog({ path, clock });
    log.record({ who: whoToken("ops"), via: "http", action: "cue.add", channel: "news", params: { durationSeconds: 30 }, result: "ok", status: 201, remote: "127.0.0.1" });
    clock.advance(1500);
    log.record({ who: whoTelegram(-100123), via: "telegram", action: "channel.restart", channel: "news", result: "denied", detail: "chat not allowed" });
    log.close();
    expect(lines(path)).toEqual([
      { when: "2030-05-01T08:00:00.000Z", who: "token:ops", via: "http", action: "cue.add", channel: "news", params: { durationSeconds: 30 }, result: "ok", status: 201, remote: "127.0.0.1" },
      { when: "2030-05-01T08:00:01.500Z", who: "telegram:-100123", via: "telegram", action: "channel.restart", channel: "news", result: "denied", detail: "chat not allowed" },
    ]);
    expect(statSync(path).mode & 0o027).toBe(0); // at most rw-r-----
  });

  test("appends: reopening keeps earlier lines", () => {
    const path = join(dir, "append.jsonl");
    const a = new AuditLog({ path });
    a.record({ who: "system", via: "daemon", action: "x", result: "ok" });
    a.close();
    const b = new AuditLog({ path });
    b.record({ who: "system", via: "daemon", action: "y", result: "ok" });
    b.close();
    expect(lines(path).map((l) => l.action)).toEqual(["x", "y"]);
  });

  test("records profile loads and reloads", () => {
    const path = join(dir, "profiles.jsonl");
    const log = new AuditLog({ path });
    log.profileLoaded({ who: "system", via: "daemon", path: "/etc/onair/news.profile", channel: "news", reload: false, ok: true });
    log.profileLoaded({ who: "cli:root", via: "cli", path: "/etc/onair/news.profile", channel: "news", reload: true, ok: false, error: "ONAIR_PROFILE_AUTH_FAILED" });
    log.close();
    expect(lines(path)).toMatchObject([
      { who: "system", via: "daemon", action: "profile.load", channel: "news", params: { path: "/etc/onair/news.profile" }, result: "ok" },
      { who: "cli:root", via: "cli", action: "profile.reload", channel: "news", result: "error", detail: "ONAIR_PROFILE_AUTH_FAILED" },
    ]);
  });

  test("never writes secrets: secret keys, known values and URL credentials are redacted", () => {
    const path = join(dir, "secrets.jsonl");
    const secrets = new SecretSet();
    secrets.add("hunter2-passphrase");
    const log = new AuditLog({ path, secrets });
    log.record({
      who: "token:ops",
      via: "http",
      action: "profile.reload",
      params: { token: "abcdefabcdefabcdef", url: "srt://user:pw@host:9000", note: "uses hunter2-passphrase" },
      result: "ok",
    });
    log.close();
    const text = readFileSync(path, "utf8");
    for (const s of ["abcdefabcdefabcdef", ":pw@", "hunter2-passphrase"]) expect(text).not.toContain(s);
  });

  test("a failed write is logged and counted, not thrown", () => {
    const path = join(dir, "closed.jsonl");
    const logged: Record<string, unknown>[] = [];
    const log = new AuditLog({ path, logger: createLogger({ destination: { write: (l: string) => logged.push(JSON.parse(l)) } }) });
    log.close();
    expect(() => log.record({ who: "system", via: "daemon", action: "x", result: "ok" })).not.toThrow();
    expect(log.writeErrors).toBe(1);
    expect(logged[0]).toMatchObject({ event: "audit_write_failed", path });
  });

  test("the memory sink keeps entries with a time", () => {
    const m = new MemoryAudit(new ManualClock(0));
    m.record({ who: "system", via: "daemon", action: "x", result: "ok" });
    expect(m.entries).toEqual([{ who: "system", via: "daemon", action: "x", result: "ok", when: "1970-01-01T00:00:00.000Z" }]);
  });
});
