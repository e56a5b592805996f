import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { createServer as createTcpServer, type AddressInfo } from "node:net";
import { spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { classifyStderrLine, StderrReader, StderrRing } from "../../src/pipeline/stderr.js";
import { LineSplitter } from "../../src/pipeline/lines.js";
import { redactString } from "../../src/config/redact.js";

/** Runs FFmpeg with `-loglevel level+warning` and returns its stderr (and exit code). */
function ffmpegStderr(args: string[], cmd = "ffmpeg"): Promise<{ stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, cmd === "ffmpeg" ? ["-hide_banner", "-nostdin", "-nostats", "-loglevel", "level+warning", ...args] : args, {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    const t = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(t);
      resolve({ stderr: err, code });
    });
  });
}

/** A TCP port with nothing listening (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function reasons(stderr: string) {
  const r = new StderrReader();
  r.push(stderr);
  r.end();
  return r;
}

let tmp: string;
let http: Server;
let httpPort: number;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "onair-stderr-"));
  http = createServer((_req, res) => {
    res.statusCode = 404;
    res.end("not here");
  });
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  httpPort = (http.address() as AddressInfo).port;
});
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
  await new Promise<void>((r) => http.close(() => r()));
});

describe("classifying real FFmpeg stderr", () => {
  it("a closed TCP port is input_unreachable (Connection refused)", async () => {
    const port = await closedPort();
    const { stderr, code } = await ffmpegStderr(["-i", `tcp://127.0.0.1:${port}`, "-f", "null", "-"]);
    expect(code).not.toBe(0);
    expect(stderr).toContain("Connection refused");
    const r = reasons(stderr);
    expect(r.fatal?.class.reason).toBe("input_unreachable");
    expect(r.counts.get("connection_refused")).toBeGreaterThanOrEqual(1);
    // the top-level line is recognised as FFmpeg's own final word
    const top = stderr.split("\n").find((l) => l.startsWith("[error] tcp://"));
    expect(top && classifyStderrLine(top)).toMatchObject({ topLevel: true, severity: "fatal", level: "error" });
  });

  it("http reconnects are notes, the final refusal is input_unreachable", async () => {
    const port = await closedPort();
    const { stderr } = await ffmpegStderr([
      "-reconnect",
      "1",
      "-reconnect_streamed",
      "1",
      "-reconnect_on_network_error",
      "1",
      "-reconnect_delay_max",
      "1",
      "-i",
      `http://127.0.0.1:${port}/live.ts`,
      "-f",
      "null",
      "-",
    ]);
    const lines = stderr.split("\n").filter(Boolean);
    const reconnect = lines.find((l) => l.includes("Will reconnect"));
    expect(reconnect).toBeDefined();
    expect(classifyStderrLine(reconnect!)).toMatchObject({ severity: "note", category: "reconnecting", component: "http" });
    expect(reasons(stderr).fatal?.class.reason).toBe("input_unreachable");
  });

  it("an HTTP 404 is input_unreachable", async () => {
    const { stderr } = await ffmpegStderr(["-i", `http://127.0.0.1:${httpPort}/missing.ts`, "-f", "null", "-"]);
    expect(stderr).toMatch(/Server returned 404/);
    const r = reasons(stderr);
    expect(r.fatal?.class).toMatchObject({ reason: "input_unreachable", category: "http_error" });
  });

  it("a silent UDP input timing out is input_unreachable (Input/output error)", async () => {
    const port = await closedPort();
    const { stderr } = await ffmpegStderr(["-rw_timeout", "300000", "-i", `udp://127.0.0.1:${port}?timeout=300000`, "-f", "null", "-"]);
    expect(stderr).toContain("Input/output error");
    expect(reasons(stderr).fatal?.class.reason).toBe("input_unreachable");
  });

  it("a missing file is input_unreachable", async () => {
    const { stderr } = await ffmpegStderr(["-i", join(tmp, "nope.ts"), "-f", "null", "-"]);
    expect(reasons(stderr).fatal?.class).toMatchObject({ reason: "input_unreachable", category: "no_such_input" });
  });

  it("a file of garbage is codec_error (Invalid data found)", async () => {
    const bad = join(tmp, "bad.ts");
    const junk = Buffer.alloc(64 * 1024);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) & 0xff;
    writeFileSync(bad, junk);
    const { stderr } = await ffmpegStderr(["-i", bad, "-f", "null", "-"]);
    expect(stderr).toContain("Invalid data found when processing input");
    expect(reasons(stderr).fatal?.class).toMatchObject({ reason: "codec_error", category: "invalid_data" });
  });

  it("an unknown encoder is codec_error", async () => {
    const { stderr } = await ffmpegStderr([
      "-f",
      "lavfi",
      "-i",
      "testsrc2=size=64x64:rate=5",
      "-t",
      "0.2",
      "-c:v",
      "no_such_encoder",
      "-f",
      "null",
      "-",
    ]);
    expect(stderr).toMatch(/Unknown encoder/);
    expect(reasons(stderr).fatal?.class).toMatchObject({ reason: "codec_error", category: "unknown_codec", level: "fatal" });
  });

  it("setpriv failing to execute FFmpeg is spawn_error", async () => {
    const { stderr, code } = await ffmpegStderr(["--pdeathsig", "KILL", "--", join(tmp, "no-ffmpeg")], "setpriv");
    expect(code).not.toBe(0);
    expect(reasons(stderr).fatal?.class.reason).toBe("spawn_error");
  });
});

describe("classifyStderrLine", () => {
  it("ignores known harmless lines", () => {
    for (const l of [
      "[swscaler @ 0x5600] [warning] deprecated pixel format used, make sure you did set range correctly",
      "[warning] Past duration 0.999992 too large",
      "[info] Exiting normally, received signal 15.",
      "[aac @ 0x55d] [warning] Guessed Channel Layout for Input Stream #0.1 : mono",
    ]) {
      expect(classifyStderrLine(l).severity).toBe("ignore");
    }
  });

  it("counts concealed damage as a note, not a fatal", () => {
    for (const l of [
      "[h264 @ 0x55c] [error] error while decoding MB 12 30, bytestream -5",
      "[h264 @ 0x55c] [error] concealing 1200 DC, 1200 AC, 1200 MV errors in P frame",
      "[mpegts @ 0x55] [error] Packet corrupt (stream = 0, dts = 1234).",
      "[h264 @ 0x55c] [error] Invalid data found when processing input",
    ]) {
      expect(classifyStderrLine(l)).toMatchObject({ severity: "note", category: "decode_warning" });
    }
  });

  it("treats an unknown line as a note", () => {
    expect(classifyStderrLine("[warning] something new")).toMatchObject({ severity: "note", category: "other", level: "warning" });
  });
});

describe("StderrRing and StderrReader", () => {
  it("keeps only the last N lines, oldest first", () => {
    const r = new StderrRing(3);
    for (let i = 1; i <= 7; i++) r.push(`line ${i}`);
    expect(r.lines()).toEqual(["line 5", "line 6", "line 7"]);
    expect(r.lines(2)).toEqual(["line 6", "line 7"]);
    expect(r.total).toBe(7);
    expect(r.size).toBe(3);
  });

  it("assembles lines split anywhere, redacts them and bounds their length", () => {
    const text =
      "[error] srt://h:1?passphrase=supersecret1&x=1: Input/output error\n[warning] a\r\n" + "x".repeat(5000) + "\n[warning] b\n";
    for (const step of [1, 3, 17, 4096]) {
      const r = new StderrReader({ capacity: 10, maxLineLength: 200, redact: (l) => redactString(l) });
      const buf = Buffer.from(text);
      for (let i = 0; i < buf.length; i += step) r.push(buf.subarray(i, i + step));
      r.end();
      const lines = r.ring.lines();
      expect(lines).toHaveLength(4);
      expect(lines[0]).not.toContain("supersecret1");
      expect(lines[0]).toContain("passphrase=***");
      expect(lines[2]).toHaveLength(200);
      expect(lines[3]).toBe("[warning] b");
      expect(r.fatal?.class.reason).toBe("input_unreachable");
    }
  });

  it("splits UTF-8 safely at every byte offset", () => {
    const text = "ligne é😀 un\nzwei ü\n";
    const buf = Buffer.from(text);
    for (let cut = 0; cut <= buf.length; cut++) {
      const s = new LineSplitter();
      const out = [...s.push(buf.subarray(0, cut)), ...s.push(buf.subarray(cut)), ...s.flush()];
      expect(out).toEqual(["ligne é😀 un", "zwei ü"]);
    }
  });
});
