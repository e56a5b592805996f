/**
 * XMLTV import benchmark: a 20,000-programme XMLTV file imported into a fresh temp store
 * (read + validate + parse + checks + one SQLite transaction), against fast-xml-parser's bare
 * `XMLParser.parse` of the same string in the same run. Targets: ≤ 2 s, ≤ 3× the bare parse.
 */
import { XMLParser } from "fast-xml-parser";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importScheduleFile } from "../src/schedule/import.js";
import { openStore } from "../src/store/db.js";
import { generateXmltv } from "../tests/helpers/xmltv.js";

const PROGRAMMES = 20_000;
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function time(fn: () => void): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "onair-bench-xmltv-"));
  try {
    const { xml } = generateXmltv({ channels: [{ id: "bench" }], count: PROGRAMMES });
    const file = join(dir, "bench.xml");
    writeFileSync(file, xml);
    const bytes = Buffer.byteLength(xml);

    const ours: number[] = [];
    const bare: number[] = [];
    const bareAttrs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const store = openStore(join(dir, `run-${i}.db`));
      try {
        ours.push(
          time(() => {
            const r = importScheduleFile(store, file, { channel: "bench", force: true });
            if (r.inserted !== PROGRAMMES) throw new Error(`imported ${r.inserted} of ${PROGRAMMES}`);
          }),
        );
      } finally {
        store.close();
      }
      const text = readFileSync(file, "utf8");
      bare.push(time(() => void new XMLParser().parse(text)));
      bareAttrs.push(time(() => void new XMLParser({ ignoreAttributes: false }).parse(text)));
      await new Promise((r) => setImmediate(r));
    }
    const o = median(ours);
    const b = median(bare);
    const ba = median(bareAttrs);
    const mb = (bytes / 1e6).toFixed(1);
    process.stdout.write(`file: ${PROGRAMMES} programmes, ${mb} MB; median of ${RUNS} runs\n`);
    process.stdout.write(
      `onair import (validate+parse+checks+SQLite): ${o.toFixed(0)} ms  (${(bytes / 1e6 / (o / 1000)).toFixed(1)} MB/s)  target ≤ 2000 ms: ${o <= 2000 ? "ok" : "MISSED"}\n`,
    );
    process.stdout.write(`fast-xml-parser bare parse (defaults):       ${b.toFixed(0)} ms\n`);
    process.stdout.write(`fast-xml-parser bare parse (attributes on):  ${ba.toFixed(0)} ms\n`);
    process.stdout.write(
      `ratio import / bare parse: ${(o / b).toFixed(2)}× (target ≤ 3×: ${o / b <= 3 ? "ok" : "MISSED"}); vs parse with attributes: ${(o / ba).toFixed(2)}×\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
