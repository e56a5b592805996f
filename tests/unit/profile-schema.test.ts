/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return -- YAML documents are untyped and mutated freely */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import YAML from "yaml";
import { isOnairError } from "../../src/core/errors.js";
import { SECRET_PATHS, profileJsonSchema, type ChannelProfile } from "../../src/config/profile-schema.js";
import { parseProfileText, profileHash, profileSecrets, redactProfile, validateProfile } from "../../src/config/profile.js";

const root = join(import.meta.dirname, "..", "..");
const demoText = readFileSync(join(root, "profiles", "demo.example.yaml"), "utf8");
const channelText = readFileSync(join(root, "profiles", "channel.example.yaml"), "utf8");

const TOKEN = "987654321:AAHsecretTelegramTokenValue_abcdefghij";
const OUT_PASS = "srt-out-passphrase-do-not-leak";
const URL_PASS = "feedPa55word";

function demo(): Record<string, any> {
  return YAML.parse(demoText);
}

/** The demo with an HTTP input carrying credentials, an SRT output with a passphrase and a bot token. */
function secretProfile(): Record<string, any> {
  const p = demo();
  p.input = { kind: "http", url: `https://feeduser:${URL_PASS}@origin.example.net/live.ts?token=qwertyuiop` };
  p.outputs.push({ kind: "srt", mode: "caller", host: "backup.example.net", port: 9100, passphrase: OUT_PASS });
  p.alerts = { telegram: { chatIds: [-100123], botToken: TOKEN } };
  p.encoding.mode = "transcode";
  return p;
}

function issuesOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    if (isOnairError(e)) return e.fields.issues as { path: string; message: string }[];
    throw e;
  }
  throw new Error("expected a validation error");
}

describe("profile schema", () => {
  it("accepts both example profiles", () => {
    expect(parseProfileText(demoText).channel.id).toBe("demo");
    expect(parseProfileText(channelText).channel.id).toBe("news-hd");
  });

  it("fills broadcast defaults for a minimal profile", () => {
    const p = validateProfile({
      channel: { id: "min", name: "Minimal" },
      input: { kind: "udp", url: "udp://@239.1.1.1:1234" },
      encoding: { mode: "passthrough" },
      outputs: [{ kind: "stdout" }],
    });
    expect(p.service).toEqual({
      serviceId: 1,
      transportStreamId: 1,
      originalNetworkId: 0xff01,
      provider: "onair",
      name: "Minimal",
      type: 0x01,
    });
    expect(p.scte35).toMatchObject({ pid: 500, mode: "splice_insert", prerollSeconds: 6, repeats: 3 });
    expect(p.epg).toMatchObject({ days: 7, charset: "utf-8", timeZone: "UTC" });
    expect(p.restart).toMatchObject({ backoffMinSeconds: 0.5, backoffMaxSeconds: 30, maxRetries: null, stallTimeoutSeconds: 5 });
    expect(p.encoding.pids).toEqual({ pmt: 0x1000, video: 0x100, audio: 0x101 });
    expect(p.slate.kind).toBe("generated");
  });

  it("derives service type 0x19 for AVC HD and 0x16 for AVC SD", () => {
    expect(parseProfileText(demoText).service.type).toBe(0x19);
    const sd = demo();
    sd.encoding.video.width = 720;
    sd.encoding.video.height = 576;
    expect(validateProfile(sd).service.type).toBe(0x16);
  });

  it("parses bitrates written with k and M suffixes", () => {
    const p = parseProfileText(demoText);
    if (p.encoding.mode !== "transcode") throw new Error("demo transcodes");
    expect(p.encoding.video.bitrate).toBe(2_500_000);
    expect(p.encoding.audio.bitrate).toBe(128_000);
    expect(p.encoding.muxRate).toBe(3_500_000);
  });

  it("names the path of a schema error: outputs[1].port: expected number", () => {
    const p = demo();
    p.outputs[1] = { kind: "udp", host: "239.1.1.1", port: "5000" };
    let message = "";
    try {
      validateProfile(p, "demo.yaml");
    } catch (e) {
      message = (e as Error).message;
      expect(isOnairError(e) && e.code).toBe("ONAIR_PROFILE_INVALID");
    }
    expect(message).toContain("outputs[1].port: expected number");
    expect(message.startsWith("demo.yaml: ")).toBe(true);
  });

  it("refuses a preroll under 4 s, more than 64 EPG days and an unknown time zone", () => {
    const p = demo();
    p.scte35.prerollSeconds = 3;
    p.epg.days = 65;
    p.epg.timeZone = "Mars/Olympus";
    const paths = issuesOf(() => validateProfile(p)).map((i) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["scte35.prerollSeconds", "epg.days", "epg.timeZone"]));
  });

  it("requires a mux rate when transcoding and one above the payload bitrate", () => {
    const p = demo();
    delete p.encoding.muxRate;
    expect(issuesOf(() => validateProfile(p)).map((i) => i.path)).toContain("encoding.muxRate");
    const q = demo();
    q.encoding.muxRate = "2M";
    const issue = issuesOf(() => validateProfile(q)).find((i) => i.path === "encoding.muxRate");
    expect(issue?.message).toMatch(/must exceed video \+ audio bitrate/);
  });

  it("refuses a frame rate with a zero numerator or denominator, and accepts NTSC ratios", () => {
    for (const fps of ["1/0", "0/1", "0", "301", "25/0"]) {
      const p = demo();
      p.encoding.video.fps = fps;
      expect(
        issuesOf(() => validateProfile(p)).map((i) => i.path),
        fps,
      ).toContain("encoding.video.fps");
    }
    for (const fps of ["30000/1001", "25", "50/1", 29.97]) {
      const p = demo();
      p.encoding.video.fps = fps;
      expect(validateProfile(p).encoding).toMatchObject({ video: { fps } });
    }
  });

  it("refuses colliding PIDs", () => {
    const p = demo();
    p.scte35.pid = 0x100;
    const issue = issuesOf(() => validateProfile(p)).find((i) => i.path === "scte35.pid");
    expect(issue?.message).toMatch(/already used by encoding\.pids\.video/);
  });

  it("refuses unknown keys (typos) by name", () => {
    const p = demo();
    p.scte35.prerol = 6;
    expect(issuesOf(() => validateProfile(p))[0]).toMatchObject({ path: "scte35", message: expect.stringContaining("prerol") });
  });

  it("refuses an input URL whose scheme does not match its kind", () => {
    const p = demo();
    p.input = { kind: "srt", url: "udp://1.2.3.4:5" };
    expect(issuesOf(() => validateProfile(p)).map((i) => i.path)).toContain("input.url");
  });

  it("reads JSON profiles", () => {
    expect(parseProfileText(JSON.stringify(demo())).channel.id).toBe("demo");
  });

  it("reports a YAML syntax error by line and column without quoting the line", () => {
    const text = `channel:\n  id: x\n  name: [unclosed ${OUT_PASS}\n`;
    let err: unknown;
    try {
      parseProfileText(text, "bad.yaml");
    } catch (e) {
      err = e;
    }
    expect(isOnairError(err) && err.code).toBe("ONAIR_PROFILE_SYNTAX");
    expect((err as Error).message).toMatch(/line \d+, column \d+/);
    expect((err as Error).message).not.toContain(OUT_PASS);
  });

  it("puts no secret value in schema error messages", () => {
    const p = secretProfile();
    p.outputs[2].passphrase = "short"; // too short: an error on a secret field
    p.alerts.telegram.botToken = `${TOKEN} trailing`;
    const text = JSON.stringify(issuesOf(() => validateProfile(p)));
    expect(text).toContain("outputs[2].passphrase");
    expect(text).not.toContain('short"');
    expect(text).not.toContain(TOKEN);
  });
});

describe("profile secrets", () => {
  it("redacts the token, passphrases and URL credentials", () => {
    const p = validateProfile(secretProfile());
    const shown = JSON.stringify(redactProfile(p));
    for (const s of [TOKEN, OUT_PASS, URL_PASS, "qwertyuiop", "feeduser"]) expect(shown).not.toContain(s);
    expect(redactProfile(p).input).toMatchObject({ url: "https://***@origin.example.net/***" });
    expect(redactProfile(p).outputs[2]).toMatchObject({ passphrase: "***", host: "backup.example.net" });
    // the original is untouched
    expect(p.alerts.telegram?.botToken).toBe(TOKEN);
  });

  it("lists every secret value for log scrubbing", () => {
    const secrets = profileSecrets(validateProfile(secretProfile()));
    expect(secrets).toEqual(expect.arrayContaining([TOKEN, OUT_PASS, URL_PASS, "qwertyuiop"]));
  });

  it("marks exactly the SECRET_PATHS fields as secret in the JSON Schema", () => {
    const found = new Set<string>();
    const walk = (node: unknown, path: string): void => {
      if (!node || typeof node !== "object") return;
      const n = node as Record<string, any>;
      if (n["x-onair-secret"] === true) found.add(path);
      if (n.properties) for (const [k, v] of Object.entries(n.properties)) walk(v, path ? `${path}.${k}` : k);
      if (n.items) walk(n.items, `${path}.*`);
      for (const k of ["oneOf", "anyOf", "allOf"]) if (Array.isArray(n[k])) for (const v of n[k]) walk(v, path);
    };
    walk(profileJsonSchema(), "");
    expect([...found].sort()).toEqual([...SECRET_PATHS].sort());
  });
});

describe("profile hash", () => {
  it("ignores comments, key order and spelled-out defaults", () => {
    const a = parseProfileText(demoText);
    const reordered = demo();
    const b = validateProfile(Object.fromEntries(Object.entries(reordered).reverse()));
    const c = validateProfile({ ...demo(), scte35: { ...demo().scte35, enabled: true } });
    expect(profileHash(b)).toBe(profileHash(a));
    expect(profileHash(c)).toBe(profileHash(a));
  });

  it("changes when a value changes", () => {
    const a: ChannelProfile = parseProfileText(demoText);
    const p = demo();
    p.outputs[0].port = 5002;
    expect(profileHash(validateProfile(p))).not.toBe(profileHash(a));
  });
});
