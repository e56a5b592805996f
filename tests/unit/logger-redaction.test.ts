import { describe, expect, it } from "vitest";
import { OnairError } from "../../src/core/errors.js";
import { LOG_VALUE_MAX_CHARS, SecretSet, redactJsonLine, redactString } from "../../src/config/redact.js";
import { channelLogger, createLogger } from "../../src/observe/logger.js";

const TOKEN = "987654321:AAHsecretTelegramTokenValue_abcdefghij";

/** A logger writing into an array of parsed lines. */
function capture(level: "info" | "debug" = "info", secrets?: SecretSet) {
  const lines: string[] = [];
  const logger = createLogger({ destination: { write: (l: string) => lines.push(l.trimEnd()) }, level, secrets });
  return { logger, lines, text: () => lines.join("\n"), json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("redactString", () => {
  it("keeps the user and masks the password of URL credentials", () => {
    expect(redactString("open https://alice:s3cret@origin.example/live.ts now")).toBe("open https://alice:***@origin.example/live.ts now");
  });

  it("masks a URL user without a password (stream keys) and secret query parameters", () => {
    expect(redactString("rtmp://streamkey123@host/app")).toBe("rtmp://***@host/app");
    expect(redactString("srt://h:9000?mode=caller&passphrase=abcdefghijk&latency=200")).toBe(
      "srt://h:9000?mode=caller&passphrase=***&latency=200",
    );
  });

  it("masks Telegram bot tokens, also inside API paths", () => {
    expect(redactString(`POST https://api.telegram.org/bot${TOKEN}/sendMessage`)).toBe("POST https://api.telegram.org/bot***/sendMessage");
  });

  it("leaves URLs without credentials alone", () => {
    expect(redactString("udp://239.1.1.1:1234?pkt_size=1316")).toBe("udp://239.1.1.1:1234?pkt_size=1316");
  });
});

describe("logger", () => {
  it("writes JSON lines with channel and event fields from a channel child", () => {
    const c = capture();
    channelLogger(c.logger, "news-hd").info({ event: "channel.started" }, "started");
    const [line] = c.json();
    expect(line).toMatchObject({ level: "info", channel: "news-hd", event: "channel.started", msg: "started" });
  });

  it("redacts credentials in messages, fields and bindings", () => {
    const c = capture();
    const child = c.logger.child({ channel: "x", source: "https://u:bindingpass@h/x" });
    child.info(
      { url: "srt://h:1?passphrase=fieldsecret1", nested: { botToken: "plain-token-value" } },
      `fetch https://u:msgpass@h/ and ${TOKEN}`,
    );
    const text = c.text();
    for (const s of ["bindingpass", "fieldsecret1", "plain-token-value", "msgpass", TOKEN]) expect(text).not.toContain(s);
    expect(text).toContain("https://u:***@h/");
  });

  it("redacts values of secret-looking keys at any depth", () => {
    const c = capture();
    c.logger.info({ passphrase: "pp-value-1", cfg: { password: "pw-value-2", key: "k-value-3", keyFile: "/etc/onair/onair.key" } }, "cfg");
    const text = c.text();
    for (const s of ["pp-value-1", "pw-value-2", "k-value-3"]) expect(text).not.toContain(s);
    expect(text).toContain("/etc/onair/onair.key");
  });

  it("scrubs registered secret values wherever they appear, including error messages and stacks", () => {
    const secrets = new SecretSet();
    secrets.add("opaque-secret-no-pattern");
    const c = capture("debug", secrets);
    const err = new OnairError("ONAIR_INTERNAL", "failed with opaque-secret-no-pattern inside", { detail: "opaque-secret-no-pattern" });
    c.logger.error({ err, event: "x" }, "oops opaque-secret-no-pattern");
    const text = c.text();
    expect(text).not.toContain("opaque-secret-no-pattern");
    expect(c.json()[0]).toMatchObject({ err: { code: "ONAIR_INTERNAL" } });
  });

  it("scrubs secrets added after the logger was created (profiles load later)", () => {
    const c = capture();
    c.logger.secrets.add("late-secret-value");
    c.logger.info("value late-secret-value");
    expect(c.text()).not.toContain("late-secret-value");
  });
});

describe("long values", () => {
  it("redacts a line holding a 50 MB value quickly, without overflowing the stack, logging it cut with its length", () => {
    const line = JSON.stringify({ level: "info", event: "item_aired", title: "A".repeat(50_000_000), url: "https://u:pw-after@h/" });
    const t0 = performance.now();
    const out = redactJsonLine(line);
    const ms = performance.now() - t0;
    const o = JSON.parse(out) as { title: string; url: string };
    expect(o.title).toBe(`${"A".repeat(LOG_VALUE_MAX_CHARS)}… [cut, 50000000 chars]`);
    expect(o.url).toBe("https://u:***@h/");
    // measured ≈ 40 ms; the regex it replaces overflowed the stack at 10 MB
    expect(ms).toBeLessThan(2000);
  });

  it("redacts a 10 MB string of each pattern's worst shape in linear time and constant stack", () => {
    const n = 10_000_000;
    const shapes: [string, string][] = [
      // 400 KB of "a." took 195 s: the URL pattern read a scheme from every word boundary
      ["a.".repeat(n / 2), "a.".repeat(n / 2)],
      // `[…]{30,}` overflowed the stack
      [`123456789:${"A".repeat(n)}`, "***"],
      [`https://u:${"p".repeat(n)}@h`, "https://u:***@h"],
      [`?token=${"a".repeat(n)}`, "?token=***"],
      ["a://".repeat(n / 4), "a://".repeat(n / 4)],
    ];
    const t0 = performance.now();
    for (const [value, redacted] of shapes) expect(redactString(value) === redacted, value.slice(0, 12)).toBe(true);
    // measured ≈ 0.4 s for the five
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("replaces a secret that straddles the cut whole", () => {
    const secrets = new SecretSet();
    secrets.add("opaque-secret-no-pattern");
    for (const at of [LOG_VALUE_MAX_CHARS - 10, LOG_VALUE_MAX_CHARS - 1, LOG_VALUE_MAX_CHARS]) {
      const value = `${"x".repeat(at)}opaque-secret-no-pattern ${"y".repeat(5000)}`;
      const out = redactJsonLine(JSON.stringify({ v: value }), secrets);
      expect(out, String(at)).not.toContain("opaq");
      expect(out).toContain(`… [cut, ${value.length} chars]`);
    }
  });

  it("cuts between escapes and surrogate pairs and counts the value's own characters", () => {
    // each unit is 1, 2 or 6 characters long in JSON, so some cut lands inside one
    for (const unit of ["é", '"', "\n", "\u0001", "日本", "😀"]) {
      const value = `x${unit.repeat(5000)}`;
      const o = JSON.parse(redactJsonLine(JSON.stringify({ t: value }))) as { t: string };
      const m = /^([\s\S]*)… \[cut, (\d+) chars\]$/.exec(o.t);
      expect(m, unit).not.toBeNull();
      expect(value.startsWith(m![1]), unit).toBe(true);
      expect(Number(m![2])).toBe(value.length);
    }
  });

  it("logs a 10 MB title through the logger, cut", () => {
    const c = capture();
    channelLogger(c.logger, "ch").info({ event: "item_aired", title: "T".repeat(10_000_000) });
    const [line] = c.json();
    expect(line).toMatchObject({ channel: "ch", event: "item_aired", title: `${"T".repeat(LOG_VALUE_MAX_CHARS)}… [cut, 10000000 chars]` });
  });

  it("still masks the string value of a secret key and registered secrets between strings", () => {
    const secrets = new SecretSet();
    secrets.add("424242");
    expect(redactJsonLine('{"password":"x\\"y","n":424242,"k":"z"}', secrets)).toBe('{"password":"***","n":***,"k":"z"}');
  });
});
