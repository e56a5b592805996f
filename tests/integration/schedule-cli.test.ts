/**
 * `onair schedule …` through the built CLI (bin/onair.js → dist/), with real store files.
 * The generated week is in 2025, outside the window an import accepts without --force.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../helpers/cli.js";
import { generateXmltv, UTF8_TITLE, xmltvDate } from "../helpers/xmltv.js";

let dir: string;
const { xml, programmes } = generateXmltv({ channels: [{ id: "one" }, { id: "two" }], days: 2 });
const one = programmes.filter((p) => p.channel === "one");

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "onair-cli-"));
  fs.writeFileSync(path.join(dir, "week.xml"), xml);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const p = (name: string) => path.join(dir, name);
interface ListedItem {
  startMs: number;
  durationMs: number;
  title: string;
  eventId: number;
  description?: string;
}
async function listJson(store: string, channel: string, extra: string[] = []): Promise<ListedItem[]> {
  const r = await runCli(["schedule", "list", "--channel", channel, "--store", store, "--json", ...extra]);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as ListedItem[];
}

describe("onair schedule", () => {
  it("imports an XMLTV file and lists it as a table and as JSON", async () => {
    const store = p("a.db");
    const r = await runCli(["schedule", "import", p("week.xml"), "--channel", "one", "--store", store, "--force"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^imported 80 items into channel one \(2025-06-01T00:00:00Z – 2025-06-03T00:00:00Z\)/);
    const items = await listJson(store, "one");
    expect(items.map((i) => [i.startMs, i.title])).toEqual(one.map((x) => [x.startMs, x.title]));
    const table = await runCli([
      "schedule",
      "list",
      "--channel",
      "one",
      "--store",
      store,
      "--from",
      "2025-06-01T00:00:00Z",
      "--to",
      "2025-06-01T01:00",
    ]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^START \(UTC\)\s+STOP \(UTC\)\s+DURATION\s+EVENT\s+BREAKS\s+TITLE$/);
    expect(lines.slice(1).map((l) => l.slice(0, 20))).toEqual(["2025-06-01T00:00:00Z", "2025-06-01T00:28:48Z"]);
    expect(lines[1]).toContain(`${UTF8_TITLE} 0`);
  });

  it("imports another XMLTV channel under a different channel id", async () => {
    const store = p("b.db");
    const r = await runCli([
      "schedule",
      "import",
      p("week.xml"),
      "--channel",
      "tv2",
      "--xmltv-channel",
      "two",
      "--store",
      store,
      "--json",
      "--force",
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ channel: "tv2", format: "xmltv", inserted: 80 });
    expect(await listJson(store, "two")).toEqual([]);
    expect(await listJson(store, "tv2")).toHaveLength(80);
  });

  it("prints a coded one-line error, exits 1 and changes nothing on a bad file", async () => {
    const store = p("c.db");
    expect((await runCli(["schedule", "import", p("week.xml"), "--channel", "one", "--store", store, "--force"])).code).toBe(0);
    const before = await listJson(store, "one");
    fs.writeFileSync(p("bad.xml"), xml.replace('start="20250601', 'start="2025x601'));
    const r = await runCli(["schedule", "import", p("bad.xml"), "--channel", "one", "--store", store, "--force"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^onair: ONAIR_SCHEDULE_BAD_DATE: bad\.xml:\d+: programme #1 .*start="2025x601/);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(await listJson(store, "one")).toEqual(before);
  });

  it("asks for --format when the extension does not tell", async () => {
    fs.copyFileSync(p("week.xml"), p("week.txt"));
    const store = p("d.db");
    const r = await runCli(["schedule", "import", p("week.txt"), "--channel", "one", "--store", store, "--force"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("ONAIR_SCHEDULE_UNKNOWN_FORMAT");
    expect(
      (await runCli(["schedule", "import", p("week.txt"), "--channel", "one", "--store", store, "--format", "xmltv", "--force"])).code,
    ).toBe(0);
  });

  it("exports XMLTV to stdout and JSON to a file, both importing back to the same items", async () => {
    const store = p("e.db");
    await runCli(["schedule", "import", p("week.xml"), "--channel", "one", "--store", store, "--force"]);
    const original = await listJson(store, "one");
    const x = await runCli(["schedule", "export", "--channel", "one", "--format", "xmltv", "--store", store]);
    expect(x.code).toBe(0);
    fs.writeFileSync(p("out.xml"), x.stdout);
    expect(
      (await runCli(["schedule", "export", "--channel", "one", "--format", "json", "--store", store, "--out", p("out.json")])).code,
    ).toBe(0);
    for (const f of ["out.xml", "out.json"]) {
      const other = p(`rt-${f}.db`);
      const r = await runCli(["schedule", "import", p(f), "--channel", "one", "--store", other, "--force"]);
      expect(r.code, r.stderr).toBe(0);
      const back = await listJson(other, "one");
      const strip = (l: ListedItem[]) => l.map(({ eventId: _e, ...rest }) => ({ ...rest, id: 0 }));
      expect(strip(back)).toEqual(strip(original));
    }
  });

  it("clears a time range of a channel", async () => {
    const store = p("f.db");
    await runCli(["schedule", "import", p("week.xml"), "--channel", "one", "--store", store, "--force"]);
    const r = await runCli(["schedule", "clear", "--channel", "one", "--store", store, "--from", "2025-06-02", "--to", "2025-06-03"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("removed 40 items and 0 standalone breaks from channel one");
    const left = await listJson(store, "one");
    expect(left.map((i) => i.startMs)).toEqual(one.slice(0, 40).map((x) => x.startMs));
  });

  it("keeps the store as onair.db in --data-dir or $ONAIR_DATA_DIR when --store is not given", async () => {
    const dataDir = p("data");
    const r = await runCli(["schedule", "import", p("week.xml"), "--channel", "one", "--data-dir", dataDir, "--force"]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(path.join(dataDir, "onair.db"))).toBe(true);
    const viaEnv = await runCli(["schedule", "list", "--channel", "one", "--json"], { env: { ONAIR_DATA_DIR: dataDir } });
    expect((JSON.parse(viaEnv.stdout) as unknown[]).length).toBe(80);
  });

  it("refuses a year typo (0026) with ONAIR_SCHEDULE_OUT_OF_RANGE and changes nothing", async () => {
    const store = p("typo.db");
    const today = Math.floor(Date.now() / 86_400_000) * 86_400_000;
    const { xml: near } = generateXmltv({ channels: [{ id: "one" }], startMs: today, days: 1, perDay: 8 });
    fs.writeFileSync(p("near.xml"), near);
    const ok = await runCli(["schedule", "import", p("near.xml"), "--channel", "one", "--store", store]);
    expect(ok.stderr).toBe("");
    const before = await listJson(store, "one");
    expect(before).toHaveLength(8);
    const at = near.indexOf('start="', near.indexOf("<programme", near.indexOf("<programme") + 1)) + 'start="'.length;
    const year = near.slice(at, at + 4);
    // start and stop: a typo in the start alone makes a programme longer than 7 days
    const typo = `${near.slice(0, at)}00${year.slice(2)}${near.slice(at + 4).replace(`stop="${year}`, `stop="00${year.slice(2)}`)}`;
    fs.writeFileSync(p("typo.xml"), typo);
    const r = await runCli(["schedule", "import", p("typo.xml"), "--channel", "one", "--store", store]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`^onair: ONAIR_SCHEDULE_OUT_OF_RANGE: typo\\.xml:\\d+: programme #2 .*starts 00${year.slice(2)}-`));
    expect(await listJson(store, "one")).toEqual(before);
  });

  it("keeps the accents of an ISO-8859-1 file and refuses an entity declaration", async () => {
    const store = p("latin1.db");
    const start = xmltvDate(Math.floor(Date.now() / 3600_000) * 3600_000);
    const stop = xmltvDate(Math.floor(Date.now() / 3600_000) * 3600_000 + 3600_000);
    const xml = `<?xml version="1.0" encoding="ISO-8859-1"?>\n<tv>\n<channel id="one"/>\n<programme start="${start}" stop="${stop}" channel="one"><title>Télé</title></programme>\n</tv>\n`;
    fs.writeFileSync(p("latin1.xml"), Buffer.from(xml, "latin1"));
    const r = await runCli(["schedule", "import", p("latin1.xml"), "--channel", "one", "--store", store]);
    expect(r.stderr).toBe("");
    expect((await listJson(store, "one")).map((i) => i.title)).toEqual(["Télé"]);
    fs.writeFileSync(p("bomb.xml"), xml.replace("<tv>", '<!DOCTYPE tv [<!ENTITY a "aaaaaaaaaa">]>\n<tv>').replace("Télé", "&a;&a;"));
    const bomb = await runCli(["schedule", "import", p("bomb.xml"), "--channel", "one", "--store", store]);
    expect([bomb.code, bomb.stderr.trim()]).toEqual([
      1,
      'onair: ONAIR_XMLTV_ENTITY: bomb.xml:2: the DOCTYPE declares entity "a"; entity declarations are refused (they can expand a small file into gigabytes)',
    ]);
    expect((await listJson(store, "one")).map((i) => i.title)).toEqual(["Télé"]);
  });
});
