/**
 * CLI start-up benchmark (`npm run bench -- cli`): whole-process wall time of
 *   - `node bin/onair.js --version`  (answered before commander loads)
 *   - `node bin/onair.js status --url http://127.0.0.1:PORT` against a port nobody listens on
 *     (every command declared, then ONAIR_API_UNREACHABLE at once: the path of `onair status`)
 *   - `node -e 0`                      (the reference: Node's own start-up)
 * measured in turn (A B C A B C …) after a warm-up run of each, median of 5. Prints each
 * median and the ratios to `node -e 0`. Target (issue #20): `--version` ≤ 2.5× `node -e 0`.
 * Set ONAIR_BENCH_CLI_RUNS for more runs.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { repoRoot } from "./_common.js";

/** A loopback port that was free a moment ago (connections to it are refused). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Wall milliseconds of one run of `node ARGS`, and its exit code. */
function timeRun(args: string[]): Promise<{ ms: number; code: number | null }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { cwd: repoRoot(), stdio: ["ignore", "ignore", "ignore"] });
    child.on("error", reject);
    child.on("close", (code) => resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, code }));
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export async function run(): Promise<void> {
  const runs = Number(process.env.ONAIR_BENCH_CLI_RUNS ?? 5);
  const bin = join(repoRoot(), "bin", "onair.js");
  const cases: { name: string; args: string[]; ms: number[]; codes: Set<number | null> }[] = [
    { name: "onair --version", args: [bin, "--version"], ms: [], codes: new Set() },
    {
      name: "onair status (no daemon)",
      args: [bin, "status", "--url", `http://127.0.0.1:${await closedPort()}`],
      ms: [],
      codes: new Set(),
    },
    { name: "node -e 0", args: ["-e", "0"], ms: [], codes: new Set() },
  ];
  for (const c of cases) await timeRun(c.args); // warm-up: file cache, first compile
  for (let i = 0; i < runs; i++) {
    for (const c of cases) {
      const r = await timeRun(c.args);
      c.ms.push(r.ms);
      c.codes.add(r.code);
    }
  }
  const ref = median(cases[2].ms);
  for (const c of cases) {
    const m = median(c.ms);
    const ratio = c === cases[2] ? "" : `  ${(m / ref).toFixed(2)}× node -e 0`;
    process.stdout.write(`${c.name.padEnd(26)} median ${m.toFixed(1)} ms of ${runs} (exit ${[...c.codes].join(",")})${ratio}\n`);
  }
  process.stdout.write(`target: onair --version ≤ 2.50× node -e 0\n`);
}
