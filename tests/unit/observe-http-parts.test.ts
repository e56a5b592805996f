import { describe, expect, test } from "vitest";
import { ManualClock } from "../../src/core/clock.js";
import {
  DEFAULT_API_TOKEN_FILE,
  RateLimiter,
  matchToken,
  parseHttpAddress,
  parseTokenFile,
  resolveApiTokenFile,
} from "../../src/observe/http.js";

describe("--http HOST:PORT", () => {
  test("parses host and port, IPv6 in brackets, and a bare port", () => {
    expect(parseHttpAddress("127.0.0.1:9780")).toEqual({ host: "127.0.0.1", port: 9780 });
    expect(parseHttpAddress("0.0.0.0:0")).toEqual({ host: "0.0.0.0", port: 0 });
    expect(parseHttpAddress("[::1]:8080")).toEqual({ host: "::1", port: 8080 });
    expect(parseHttpAddress(":9000")).toEqual({ host: "127.0.0.1", port: 9000 });
    expect(parseHttpAddress("9001")).toEqual({ host: "127.0.0.1", port: 9001 });
  });

  test("refuses what is not HOST:PORT with ONAIR_HTTP_BAD_ADDRESS", () => {
    for (const bad of ["localhost", "host:99999", "::1:80", "a:b"]) {
      expect(() => parseHttpAddress(bad), bad).toThrow(expect.objectContaining({ code: "ONAIR_HTTP_BAD_ADDRESS" }));
    }
  });
});

describe("token file", () => {
  test("location: flag, then ONAIR_API_TOKEN_FILE, then /etc/onair/api.token", () => {
    expect(resolveApiTokenFile("/x/t", { ONAIR_API_TOKEN_FILE: "/y/t" })).toBe("/x/t");
    expect(resolveApiTokenFile(undefined, { ONAIR_API_TOKEN_FILE: "/y/t" })).toBe("/y/t");
    expect(resolveApiTokenFile(undefined, {})).toBe(DEFAULT_API_TOKEN_FILE);
    expect(DEFAULT_API_TOKEN_FILE).toBe("/etc/onair/api.token");
  });

  test("reads name:token lines and a bare token named default; skips comments, blanks and short tokens", () => {
    const { tokens, ignored } = parseTokenFile(
      "# tokens\nops:aaaaaaaaaaaaaaaaaaaa\n\n  bbbbbbbbbbbbbbbbbbbb  \nweak:123\ntelegram-bot:c:c:cccccccccccccccc\r\n",
    );
    expect(tokens.map((t) => t.name)).toEqual(["ops", "default", "telegram-bot"]);
    expect(ignored).toEqual([5]);
    expect(matchToken(tokens, "aaaaaaaaaaaaaaaaaaaa")).toBe("ops");
    expect(matchToken(tokens, "bbbbbbbbbbbbbbbbbbbb")).toBe("default");
    expect(matchToken(tokens, "c:c:cccccccccccccccc")).toBe("telegram-bot");
    expect(matchToken(tokens, "aaaaaaaaaaaaaaaaaaa")).toBeUndefined();
    expect(matchToken(tokens, "")).toBeUndefined();
  });

  test("keeps no token text in memory, only digests", () => {
    const { tokens } = parseTokenFile("ops:aaaaaaaaaaaaaaaaaaaa\n");
    expect(JSON.stringify(tokens)).not.toContain("aaaaaaaaaaaaaaaaaaaa");
    expect(tokens[0].digest).toHaveLength(32);
  });

  test("hands every used token to the redaction set, and no ignored one", () => {
    const seen: string[] = [];
    parseTokenFile("ops:aaaaaaaaaaaaaaaaaaaa\nweak:123\nbbbbbbbbbbbbbbbbbbbb\n", (t) => seen.push(t));
    expect(seen).toEqual(["aaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbbbbbb"]);
  });
});

describe("rate limiter", () => {
  test("allows a burst, then one call per refill interval, per key", () => {
    const clock = new ManualClock();
    const rl = new RateLimiter({ burst: 3, perMinute: 6 }, clock);
    expect([rl.take("a"), rl.take("a"), rl.take("a")]).toEqual([0, 0, 0]);
    expect(rl.take("a")).toBe(10);
    expect(rl.take("b")).toBe(0);
    clock.advance(5_000);
    expect(rl.take("a")).toBe(5);
    clock.advance(5_000);
    expect(rl.take("a")).toBe(0);
    expect(rl.take("a")).toBe(10);
    clock.advance(60_000);
    expect([rl.take("a"), rl.take("a"), rl.take("a"), rl.take("a")]).toEqual([0, 0, 0, 10]);
  });
});
