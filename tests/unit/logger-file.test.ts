/**
 * The file logger: the same redacted JSON lines on stdout and in a pino-roll file in the
 * log directory, rotated by size with a bounded number of files, closed at shutdown.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { channelLogger, createFileLogger, logSizeBytes, type OnairLogger } from "../../src/observe/logger.js";
import { until } from "../helpers/pipeline.js";

const BOT_TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/** The pino-roll files of the directory (onair.N.log), by number. */
function logFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /^onair\.\d+\.log$/.test(f))
    .sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1]));
}

function allText(dir: string): string {
  return logFiles(dir)
    .map((f) => {
      try {
        return readFileSync(join(dir, f), "utf8");
      } catch {
        return ""; // removed by the rotation meanwhile
      }
    })
    .join("");
}

describe("createFileLogger", () => {
  let dir = "";
  let logger: OnairLogger | undefined;
  let stdout: string[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-logfile-"));
    stdout = [];
  });

  afterEach(async () => {
    await logger?.close();
    logger = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const open = async (file: { sizeBytes?: number; files?: number } = {}): Promise<OnairLogger> =>
    (logger = await createFileLogger({ destination: { write: (l: string) => stdout.push(l) }, file: { dir: join(dir, "logs"), ...file } }));

  it("writes the same JSON lines, with channel and event, to stdout and to onair.N.log in the log directory", async () => {
    const log = await open();
    channelLogger(log, "news").info({ event: "channel_started" }, "on air");
    await log.close();
    const files = logFiles(join(dir, "logs"));
    expect(files).toEqual(["onair.1.log"]);
    const lines = readFileSync(join(dir, "logs", files[0]), "utf8")
      .trimEnd()
      .split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0])).toMatchObject({ level: "info", channel: "news", event: "channel_started", msg: "on air" });
    expect(stdout.join("")).toBe(`${lines[0]}\n`);
    // current.log follows the active file
    expect(readFileSync(join(dir, "logs", "current.log"), "utf8")).toBe(`${lines[0]}\n`);
  });

  it("redacts registered secrets, bot tokens and URL credentials in the file too", async () => {
    const log = await open();
    log.secrets.add("opaque-api-token-0123456789");
    const ch = channelLogger(log, "news");
    ch.info(
      { event: "input_open", url: "srt://h:9000?passphrase=srt-pass-value-1", origin: "https://alice:origin-pass-2@cdn.example/live.m3u8" },
      "opening",
    );
    ch.warn({ event: "telegram", botToken: BOT_TOKEN }, `POST /bot${BOT_TOKEN}/sendMessage with opaque-api-token-0123456789`);
    await log.close();
    const text = allText(join(dir, "logs"));
    expect(text.trimEnd().split("\n")).toHaveLength(2);
    for (const s of ["opaque-api-token-0123456789", "srt-pass-value-1", "origin-pass-2", BOT_TOKEN, "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"]) {
      expect(text).not.toContain(s);
      expect(stdout.join("")).not.toContain(s);
    }
    expect(text).toContain("https://alice:***@cdn.example/live.m3u8");
  });

  it("rotates by size and keeps at most `files` + 1 files (one more until the next rotation when the cleanup runs before the new file exists)", async () => {
    const log = await open({ sizeBytes: 2048, files: 3 });
    const pad = "x".repeat(400);
    const seen = new Set<string>();
    for (let batch = 0; batch < 12; batch++) {
      for (let i = 0; i < 6; i++) log.info({ event: "fill", batch, i, pad });
      // wait until the batch is on disk, so each rotation sees its own writes
      const marker = `"batch":${batch},"i":5,`;
      await until(() => allText(join(dir, "logs")).includes(marker), 5000, `batch ${batch} on disk`);
      for (const f of logFiles(join(dir, "logs"))) seen.add(f);
      expect(logFiles(join(dir, "logs")).length).toBeLessThanOrEqual(4);
    }
    await log.close();
    expect(seen.size).toBeGreaterThanOrEqual(5);
    await until(() => logFiles(join(dir, "logs")).length <= 4, 5000, "old files removed");
    const kept = logFiles(join(dir, "logs"));
    expect(kept.length).toBeGreaterThanOrEqual(2);
    // the newest files are the ones kept, and every line in them is whole JSON
    expect(kept[kept.length - 1]).toBe([...seen].sort((a, b) => Number(a.split(".")[1]) - Number(b.split(".")[1])).pop());
    for (const line of allText(join(dir, "logs")).trimEnd().split("\n")) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it("counts files left by an earlier process, so restarts do not pile files up", async () => {
    const pad = "y".repeat(400);
    for (let run = 0; run < 3; run++) {
      const log = await open({ sizeBytes: 1024, files: 2 });
      for (let batch = 0; batch < 3; batch++) {
        for (let i = 0; i < 4; i++) log.info({ event: "fill", run, batch, i, pad });
        const marker = `"run":${run},"batch":${batch},"i":3,`;
        // generous: the writes go through the thread pool, which a loaded CI machine can starve for seconds
        await until(() => allText(join(dir, "logs")).includes(marker), 20_000, `run ${run} batch ${batch} on disk`);
      }
      await log.close();
      logger = undefined;
    }
    await until(() => logFiles(join(dir, "logs")).length <= 3, 20_000, "old files removed");
  });

  it("close() puts the last lines in the file before it resolves, and lines after it still reach stdout", async () => {
    const log = await open();
    for (let i = 0; i < 500; i++) log.info({ event: "burst", i });
    log.info({ event: "stopped" });
    await log.close();
    const text = allText(join(dir, "logs"));
    expect(text.trimEnd().split("\n")).toHaveLength(501);
    expect(text.trimEnd().split("\n").pop()).toContain('"event":"stopped"');
    log.info({ event: "late" });
    expect(stdout.pop()).toContain('"event":"late"');
    expect(allText(join(dir, "logs"))).not.toContain('"event":"late"');
  });

  it("refuses a log directory it cannot create with ONAIR_LOG_DIR", async () => {
    writeFileSync(join(dir, "plain-file"), "");
    await expect(
      createFileLogger({ destination: { write: () => undefined }, file: { dir: join(dir, "plain-file", "logs") } }),
    ).rejects.toMatchObject({
      code: "ONAIR_LOG_DIR",
    });
  });

  it("creates a missing log directory", async () => {
    expect(existsSync(join(dir, "logs"))).toBe(false);
    const log = await open();
    log.info({ event: "x" });
    await log.close();
    expect(logFiles(join(dir, "logs"))).toHaveLength(1);
  });
});

describe("logSizeBytes", () => {
  it("reads the config's sizes (a bare number is megabytes, as in pino-roll)", () => {
    expect(logSizeBytes("10m")).toBe(10 * 1024 * 1024);
    expect(logSizeBytes("512k")).toBe(512 * 1024);
    expect(logSizeBytes("1G")).toBe(1024 ** 3);
    expect(logSizeBytes(10)).toBe(10 * 1024 * 1024);
    expect(logSizeBytes("7")).toBe(7 * 1024 * 1024);
  });
});
