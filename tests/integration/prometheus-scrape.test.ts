import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { MemoryAudit } from "../../src/observe/audit.js";
import { startHttpServer, type HttpServerHandle } from "../../src/observe/http.js";
import { createMetrics, siFromCarousel, type ChannelSnapshot } from "../../src/observe/metrics.js";

/** promtool from Debian's `prometheus` package (scripts/setup.sh installs it). */
function promtool(args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync("promtool", args, { input, encoding: "utf8" });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error(
      "promtool is not installed: run `bash scripts/setup.sh` (installs Debian's `prometheus` package) or `apt-get install prometheus`",
    );
  }
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const dataDir = mkdtempSync(join(tmpdir(), "onair-scrape-data-"));
const recDir = mkdtempSync(join(tmpdir(), "onair-scrape-rec-"));
let srv: HttpServerHandle;

/** What a channel five minutes into a 6 Mbit/s CBR run with one break looks like. */
function news(): ChannelSnapshot {
  const si = siFromCarousel([
    { key: "sdt", versionNumber: 1, sectionsSent: 150 },
    { key: "eit-pf", versionNumber: 7, sectionsSent: 600 },
    { key: "eit-0x50", versionNumber: 3, sectionsSent: 90 },
    { key: "eit-0x51", versionNumber: 2, sectionsSent: 30 },
    { key: "tdt", versionNumber: undefined, sectionsSent: 60 },
    { key: "tot", versionNumber: 0, sectionsSent: 10 },
  ]);
  return {
    up: true,
    restartsByReason: { stall: 1, input_unreachable: 2 },
    inputBitrateBps: 6_000_000,
    outputBitrateBps: 6_000_000,
    packetsIn: 1_196_808,
    packetsOut: 1_196_808,
    nullsReplaced: 4_321,
    packetsInserted: 0,
    cuesSent: { splice_insert: 8, splice_null: 30 },
    cuesRepeated: { splice_insert: 6 },
    cuesLate: {},
    breaksDue: 1,
    secondsToNextSplice: 1754.2,
    ...si,
    slateActive: false,
    monitorErrors: { continuity_count_error: 3, pcr_accuracy_error: 1 },
  };
}

function sport(): ChannelSnapshot {
  return {
    up: false,
    restartsByReason: { spawn_error: 5, manual: 1, planned: 4 },
    inputBitrateBps: null,
    outputBitrateBps: 2_000_000,
    packetsIn: 0,
    packetsOut: 80_000,
    nullsReplaced: 0,
    packetsInserted: 12,
    cuesSent: { time_signal: 2 },
    cuesRepeated: {},
    cuesLate: { time_signal: 1 },
    breaksDue: 2,
    secondsToNextSplice: null,
    tableVersions: { sdt: 0 },
    sectionsSent: { sdt: 40 },
    slateActive: true,
    playlistMediaMissing: 3,
    playlistMediaFailed: 1,
    monitorErrors: { ts_sync_loss: 1 },
  };
}

let scrape = "";

beforeAll(async () => {
  const metrics = createMetrics({
    defaultMetrics: true,
    directories: [
      { name: "data", path: dataDir },
      { name: "recordings", path: recDir },
    ],
  });
  metrics.registerChannel("news", news);
  metrics.registerChannel("sport", sport);
  metrics.setAlertsSource(() => ({ sent: 12, failed: 1, outboxDepth: 2 }));
  metrics.setStoreSource(() => ({ errors: 0 }));
  srv = await startHttpServer({
    host: "127.0.0.1",
    port: 0,
    metrics,
    health: { storeOk: () => true, channelsReady: () => ({ ready: true, details: {} }) },
    api: {
      listChannels: () => [],
      channel: () => undefined,
      addCue: () => undefined,
      returnCue: () => undefined,
      cancelCue: () => false,
      restart: () => false,
    },
    tokenFile: join(dataDir, "no-token-file"),
    auditLog: new MemoryAudit(),
  });
  const res = await fetch(`${srv.url}/metrics`);
  expect(res.status).toBe(200);
  scrape = await res.text();
});

afterAll(async () => {
  await srv.close();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(recDir, { recursive: true, force: true });
});

describe("a scrape of the running server", () => {
  test("passes promtool check metrics with no lint problem", () => {
    const r = promtool(["check", "metrics"], scrape);
    expect(r.out.trim()).toBe("");
    expect(r.status).toBe(0);
  });

  test("carries the per-channel values the snapshots gave", () => {
    const lines = scrape.split("\n");
    for (const l of [
      'onair_channel_up{channel="news"} 1',
      'onair_channel_up{channel="sport"} 0',
      'onair_channel_restarts_total{channel="news",reason="input_unreachable"} 2',
      'onair_channel_restarts_total{channel="sport",reason="manual"} 1',
      'onair_channel_restarts_total{channel="sport",reason="planned"} 4',
      'onair_playlist_media_missing_total{channel="sport"} 3',
      'onair_playlist_media_failed_total{channel="sport"} 1',
      'onair_channel_output_bytes_per_second{channel="news"} 750000',
      'onair_scte35_cues_sent_total{channel="news",command="splice_insert"} 8',
      'onair_scte35_cues_late_total{channel="sport",command="time_signal"} 1',
      'onair_scte35_seconds_to_next_splice{channel="news"} 1754.2',
      'onair_si_sections_sent_total{channel="news",table="eit_schedule"} 120',
      'onair_si_table_version{channel="news",table="eit_pf"} 7',
      'onair_channel_slate_active{channel="sport"} 1',
      'onair_ts_monitor_errors_total{channel="news",indicator="continuity_count_error",priority="1"} 3',
      "onair_alerts_outbox_depth 2",
    ]) {
      expect(lines, l).toContain(l);
    }
    expect(scrape).toMatch(/^onair_directory_free_bytes\{directory="recordings",path="[^"]+"\} \d+/m);
    expect(scrape).toMatch(/^process_cpu_seconds_total \d/m);
    expect(scrape).not.toContain('onair_scte35_seconds_to_next_splice{channel="sport"}');
    expect(scrape).not.toContain('onair_channel_input_bytes_per_second{channel="sport"}');
  });

  test("times HTTP requests by templated route, never the raw path", async () => {
    expect((await fetch(`${srv.url}/api/v1/channels/news%2Dhd`)).status).toBe(404);
    expect((await fetch(`${srv.url}/no/such/page`)).status).toBe(404);
    const text = await (await fetch(`${srv.url}/metrics`)).text();
    const lines = text.split("\n");
    expect(lines).toContain('onair_http_request_duration_seconds_count{method="GET",route="/api/v1/channels/:id",status="404"} 1');
    expect(lines).toContain('onair_http_request_duration_seconds_count{method="GET",route="other",status="404"} 1');
    expect(lines).toContain('onair_http_request_duration_seconds_count{method="GET",route="/metrics",status="200"} 1');
    expect(text).not.toMatch(/route="[^"]*(news|no\/such)/);
    expect(promtool(["check", "metrics"], text).out.trim()).toBe("");
  });
});
