/** The action of `onair demo` (declared in demo.ts, loaded when it runs). */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runDaemon } from "../daemon.js";
import { openStore } from "../store/db.js";
import { out } from "./io.js";
import { daemonOptions, type RunFlags } from "./run.js";

const DAY = 86_400_000;
const TITLES = [
  "Morning news",
  "Weather",
  "Documentary: the sea",
  "Cartoons",
  "Film: Le départ",
  "Sport highlights",
  "Music hour",
  "Late news",
];

function repoFile(rel: string): string {
  // dist/src/cli/demo-actions.js and src/cli/demo-actions.ts: the package root is two or three levels up
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ["../..", "../../.."]) {
    const p = join(here, up, rel);
    try {
      readFileSync(p);
      return p;
    } catch {
      // next
    }
  }
  return join(here, "../..", rel);
}

/** The demo's live HLS output (<data dir>/hls/demo/, 6 s segments = three 2 s GOPs, both marker styles). */
export const DEMO_HLS_OUTPUT = "  - kind: hls\n    segmentSeconds: 6\n    markers: both\n";

/** Writes the demo profile (the example plus DEMO_HLS_OUTPUT), EPG, breaks and API token into `dataDir`. */
export function prepareDemo(dataDir: string, nowMs: number): { profilesDir: string; tokenFile: string; recordings: string } {
  const profilesDir = join(dataDir, "profiles");
  const recordings = join(dataDir, "recordings");
  mkdirSync(profilesDir, { recursive: true, mode: 0o700 });
  mkdirSync(recordings, { recursive: true });
  const yaml = readFileSync(repoFile("profiles/demo.example.yaml"), "utf8")
    .replace("/tmp/onair-demo/", `${recordings}/`)
    .replace(/^outputs:\n/m, `outputs:\n${DEMO_HLS_OUTPUT}`);
  writeFileSync(join(profilesDir, "demo.yaml"), yaml);
  const store = openStore(join(dataDir, "onair.db"));
  try {
    const start = Math.floor(nowMs / 1_800_000) * 1_800_000 - 1_800_000;
    const items = [];
    for (let t = start, n = 0; t < start + 7 * DAY; t += 1_800_000, n++) {
      const title = TITLES[n % TITLES.length];
      const description = `${title}: the onair demo EPG, item ${n + 1}.`;
      items.push({ startMs: t, durationMs: 1_800_000, title, subtitle: `Episode ${n + 1}`, description, language: "fra", breaks: [] });
    }
    const breaks = [];
    for (let t = Math.ceil(nowMs / 120_000) * 120_000 + 120_000; t < start + 7 * DAY; t += 120_000) {
      breaks.push({ channel: "demo", startMs: t, durationMs: 30_000, breakId: `demo-${t / 1000}` });
    }
    store.replaceItems("demo", start, start + 7 * DAY, items, breaks);
  } finally {
    store.close();
  }
  const tokenFile = join(dataDir, "api.token");
  writeFileSync(tokenFile, `demo:${randomBytes(24).toString("base64url")}\n`, { mode: 0o600 });
  return { profilesDir, tokenFile, recordings };
}

/** `onair demo`: prepares the data directory and runs the daemon until Ctrl-C. */
export async function demoAction(f: RunFlags): Promise<void> {
  const dataDir = f.dataDir ?? mkdtempSync(join(tmpdir(), "onair-demo-"));
  const { profilesDir, tokenFile, recordings } = prepareDemo(dataDir, Date.now());
  out(`onair demo: data directory ${dataDir}`);
  await runDaemon({
    ...daemonOptions({ ...f, dataDir, profilesDir, apiTokenFile: f.apiTokenFile ?? tokenFile, allowClearProfiles: true }),
    onListening: (url) => {
      const auth = `-H "Authorization: Bearer $(cut -d: -f2 ${tokenFile})"`;
      out(`onair demo is on air. Press Ctrl-C to stop.`);
      out(`  the console:     ${url}/   (sign in with the part after "demo:" in ${tokenFile})`);
      out(`  watch it:        ffplay udp://127.0.0.1:5000`);
      out(`  look inside:     npx onair inspect udp://127.0.0.1:5000 --duration 10`);
      out(`  recordings:      ${recordings}`);
      out(`  HLS:             ${url}/hls/demo/index.m3u8   (ffplay or ffprobe it)`);
      out(`  metrics:         curl ${url}/metrics`);
      out(`  channel state:   curl ${url}/api/v1/channels`);
      out(
        `  a break now:     curl -X POST ${auth} -H 'Content-Type: application/json' -d '{"durationSeconds":30}' ${url}/api/v1/channels/demo/cues`,
      );
      out(`  (API token in ${tokenFile})`);
    },
  });
}
