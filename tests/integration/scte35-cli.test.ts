import { describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli.js";
import { GOLDEN_CUES, SPLICE_INSERT_14_2_JSON } from "../golden/scte35-vectors.js";

describe("onair scte35", () => {
  it("decode prints the §14.2 cue as the issue's JSON, pretty-printed", async () => {
    const r = await runCli(["scte35", "decode", GOLDEN_CUES[1].base64]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(SPLICE_INSERT_14_2_JSON);
    expect(r.stdout).toContain('\n  "tableId": 252,');
  });

  it("decode accepts hex (fc…) and reads the cue from stdin when no argument is given", async () => {
    const hex = await runCli(["scte35", "decode", GOLDEN_CUES[1].hex!]);
    expect(JSON.parse(hex.stdout)).toEqual(SPLICE_INSERT_14_2_JSON);
    const stdin = await runCli(["scte35", "decode"], { stdin: `${GOLDEN_CUES[1].base64}\n` });
    expect(JSON.parse(stdin.stdout)).toEqual(SPLICE_INSERT_14_2_JSON);
  });

  it("decode piped into encode gives the original base64 for every golden cue", async () => {
    for (const cue of GOLDEN_CUES) {
      const d = await runCli(["scte35", "decode", cue.base64]);
      expect(d.code).toBe(0);
      const e = await runCli(["scte35", "encode"], { stdin: d.stdout });
      expect(e.code, e.stderr).toBe(0);
      expect(e.stdout.trim()).toBe(cue.base64);
    }
  });

  it("encode --hex prints hex", async () => {
    const r = await runCli(["scte35", "encode", "--hex"], { stdin: JSON.stringify(SPLICE_INSERT_14_2_JSON) });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(GOLDEN_CUES[1].hex);
  });

  it("decode of a cut-off cue exits 1 and says where it is truncated", async () => {
    const r = await runCli(["scte35", "decode", `0x${GOLDEN_CUES[1].hex!.slice(0, 34)}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("onair: ONAIR_SCTE35_TRUNCATED: section truncated at byte 17");
  });

  it("decode of a cue with a wrong CRC exits 1 with CRC mismatch and both values", async () => {
    const hex = `${GOLDEN_CUES[1].hex!.slice(0, -2)}0b`;
    const r = await runCli(["scte35", "decode", hex]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("onair: ONAIR_SCTE35_CRC: CRC mismatch: section carries 0x62dba30b, computed 0x62dba30a");
  });

  it("decode of a string that is neither hex nor base64 exits 1 with ONAIR_SCTE35_BAD_INPUT", async () => {
    const r = await runCli(["scte35", "decode", "not a cue!"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("onair: ONAIR_SCTE35_BAD_INPUT:");
  });

  it("decode of a 5 MB cue string exits 1 with ONAIR_SCTE35_TOO_LARGE (not a stack overflow)", async () => {
    const r = await runCli(["scte35", "decode"], { stdin: "A".repeat(5 * 1024 * 1024) });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^onair: ONAIR_SCTE35_TOO_LARGE: cue string too long \(\d+ characters\): a splice_info_section is at most 4096 bytes/,
    );
  });

  it("decode of another table exits 1 with ONAIR_SCTE35_BAD_TABLE_ID", async () => {
    const r = await runCli(["scte35", "decode", "0x00b00d0001c100000001f0002ab104b2"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("onair: ONAIR_SCTE35_BAD_TABLE_ID: table_id is 0x00");
  });

  it("encode of an out-of-range field exits 1 naming the field path", async () => {
    const bad = {
      ...SPLICE_INSERT_14_2_JSON,
      spliceCommand: { ...SPLICE_INSERT_14_2_JSON.spliceCommand, spliceTime: { timeSpecifiedFlag: true, ptsTime: 2 ** 33 } },
    };
    const r = await runCli(["scte35", "encode"], { stdin: JSON.stringify(bad) });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("onair: ONAIR_SCTE35_BAD_FIELD: spliceCommand.spliceTime.ptsTime: must be an integer 0..8589934591");
  });
});
