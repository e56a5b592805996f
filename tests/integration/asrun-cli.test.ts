import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/store/db.js";
import { recordItemAired } from "../../src/store/asrun-export.js";
import { runCli } from "../helpers/cli.js";

const T = Date.UTC(2025, 5, 1, 12, 0, 0);
let dir: string;
let db: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "onair-asrun-cli-"));
  db = join(dir, "onair.db");
  const s = openStore(db);
  for (let i = 0; i < 4; i++)
    recordItemAired(
      s,
      "news",
      { startMs: T + i * 3600_000, durationMs: 3600_000, title: `Show ${i}`, eventId: 100 + i },
      T + i * 3600_000 + 5,
    );
  s.insertAsRun({
    channel: "news",
    kind: "cue",
    scheduledMs: T + 1800_000,
    actualMs: T + 1800_000,
    pts: 123,
    eventId: 9,
    details: { command: "splice_insert" },
  });
  s.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("onair asrun export", () => {
  it("exports CSV between --from and --to", async () => {
    const r = await runCli([
      "asrun",
      "export",
      "--channel",
      "news",
      "--store",
      db,
      "--from",
      "2025-06-01T12:00:00Z",
      "--to",
      "2025-06-01T14:00:00Z",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\r\n");
    expect(lines.map((l) => l.split(",")[2])).toEqual(["kind", "item", "cue", "item"]);
    expect(lines[3]).toContain("Show 1");
  });

  it("exports JSON to a file", async () => {
    const out = join(dir, "asrun.json");
    const r = await runCli([
      "asrun",
      "export",
      "--channel",
      "news",
      "--store",
      db,
      "--format",
      "json",
      "--kind",
      "item",
      "--from",
      "2025-06-01T14:00",
      "--out",
      out,
    ]);
    expect(r.code).toBe(0);
    const j = JSON.parse(readFileSync(out, "utf8"));
    expect(j.entries.map((e: { eventId: number }) => e.eventId)).toEqual([102, 103]);
    expect(j.entries[0]).toMatchObject({ scheduled: "2025-06-01T14:00:00.000Z", actual: "2025-06-01T14:00:00.005Z", offsetMs: 5 });
  });

  it("refuses --to before --from and an unknown format", async () => {
    const a = await runCli(["asrun", "export", "--store", db, "--from", "2025-06-02", "--to", "2025-06-01"]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("ONAIR_CLI_BAD_TIME");
    const b = await runCli(["asrun", "export", "--store", db, "--format", "xml"]);
    expect(b.code).not.toBe(0);
  });
});
