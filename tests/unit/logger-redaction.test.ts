import { describe, expect, it } from "vitest";
import { OnairError } from "../../src/core/errors.js";
import { SecretSet, redactString } from "../../src/config/redact.js";
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
    expect(redactString("open https://alice:s3cret@origin.example/live.ts now")).toBe(
      "open https://alice:***@origin.example/live.ts now",
    );
  });

  it("masks a URL user without a password (stream keys) and secret query parameters", () => {
    expect(redactString("rtmp://streamkey123@host/app")).toBe("rtmp://***@host/app");
    expect(redactString("srt://h:9000?mode=caller&passphrase=abcdefghijk&latency=200")).toBe(
      "srt://h:9000?mode=caller&passphrase=***&latency=200",
    );
  });

  it("masks Telegram bot tokens, also inside API paths", () => {
    expect(redactString(`POST https://api.telegram.org/bot${TOKEN}/sendMessage`)).toBe(
      "POST https://api.telegram.org/bot***/sendMessage",
    );
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
    child.info({ url: "srt://h:1?passphrase=fieldsecret1", nested: { botToken: "plain-token-value" } }, `fetch https://u:msgpass@h/ and ${TOKEN}`);
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
    const err = new OnairError("ONAIR_TEST", "failed with opaque-secret-no-pattern inside", { detail: "opaque-secret-no-pattern" });
    c.logger.error({ err, event: "x" }, "oops opaque-secret-no-pattern");
    const text = c.text();
    expect(text).not.toContain("opaque-secret-no-pattern");
    expect(c.json()[0]).toMatchObject({ err: { code: "ONAIR_TEST" } });
  });

  it("scrubs secrets added after the logger was created (profiles load later)", () => {
    const c = capture();
    c.logger.secrets.add("late-secret-value");
    c.logger.info("value late-secret-value");
    expect(c.text()).not.toContain("late-secret-value");
  });
});
