import { describe, expect, test } from "vitest";
import { EXIT_REASONS } from "../../src/pipeline/supervisor.js";
import {
  RESTART_REASONS,
  SCTE35_COMMANDS,
  SI_TABLES,
  TR101290_INDICATOR_NAMES,
  createMetrics,
  restartReason,
  siFromCarousel,
  siTableForKey,
  type ChannelSnapshot,
} from "../../src/observe/metrics.js";

function snapshot(over: Partial<ChannelSnapshot> = {}): ChannelSnapshot {
  return {
    up: true,
    restartsByReason: {},
    inputBitrateBps: 4_000_000,
    outputBitrateBps: 4_000_000,
    packetsIn: 0,
    packetsOut: 0,
    nullsReplaced: 0,
    packetsInserted: 0,
    cuesSent: {},
    cuesRepeated: {},
    cuesLate: {},
    breaksDue: 0,
    secondsToNextSplice: null,
    tableVersions: {},
    sectionsSent: {},
    slateActive: false,
    monitorErrors: {},
    ...over,
  };
}

/** Parses an exposition into "name{labels}" → value. */
function samples(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const i = line.lastIndexOf(" ");
    m.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return m;
}

interface Family {
  name: string;
  type: string;
  labelNames?: string[];
}
const families = (m: ReturnType<typeof createMetrics>): Family[] => m.registry.getMetricsAsArray() as unknown as Family[];

describe("metric naming", () => {
  const m = createMetrics({ defaultMetrics: true });
  const ours = families(m).filter((f) => !f.name.startsWith("process_") && !f.name.startsWith("nodejs_"));

  test("every onair metric name starts with onair_ and is snake_case", () => {
    expect(ours.length).toBeGreaterThan(20);
    for (const f of ours) expect(f.name).toMatch(/^onair_[a-z0-9_]+$/);
  });

  test("counters end in _total and nothing else does", () => {
    for (const f of families(m)) {
      if (f.type === "counter") expect(f.name, f.name).toMatch(/_total$/);
      else expect(f.name, f.name).not.toMatch(/_total$/);
    }
  });

  test("units are base units: no milliseconds, kilobytes or bits", () => {
    for (const f of ours) expect(f.name).not.toMatch(/_(ms|milliseconds|kb|kilobytes|mb|megabytes|bits|bps)(_|$)/);
  });

  test("labels come from the bounded set", () => {
    // ops-metrics.ts: method (fixed list + other), route (templates), status (codes the server
    // sends), op (statement|transaction), cgroup (our one cgroup's path)
    const allowed = new Set([
      "channel",
      "reason",
      "command",
      "table",
      "indicator",
      "priority",
      "mode",
      "directory",
      "path",
      "output",
      "method",
      "route",
      "status",
      "op",
      "cgroup",
    ]);
    for (const f of ours) for (const l of f.labelNames ?? []) expect(allowed, `${f.name} ${l}`).toContain(l);
  });

  test("the default metrics are there without the gauges named _total", async () => {
    const text = await m.scrape();
    expect(text).toContain("process_cpu_seconds_total");
    expect(text).toContain("nodejs_heap_size_used_bytes");
    expect(text).not.toContain("nodejs_active_handles_total");
  });

  test("restart reasons cover every supervisor exit reason", () => {
    for (const r of EXIT_REASONS) expect(RESTART_REASONS).toContain(r);
    expect(restartReason("stall")).toBe("stall");
    expect(restartReason("something new")).toBe("other");
  });
});

describe("channel snapshots", () => {
  test("every fixed label value is exported from the first scrape, as 0", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.registerChannel("news", () => snapshot());
    const s = samples(await m.scrape());
    for (const reason of RESTART_REASONS) expect(s.get(`onair_channel_restarts_total{channel="news",reason="${reason}"}`)).toBe(0);
    for (const command of SCTE35_COMMANDS) expect(s.get(`onair_scte35_cues_sent_total{channel="news",command="${command}"}`)).toBe(0);
    for (const table of SI_TABLES) expect(s.get(`onair_si_sections_sent_total{channel="news",table="${table}"}`)).toBe(0);
    expect(TR101290_INDICATOR_NAMES).toHaveLength(13);
    expect(s.get('onair_ts_monitor_errors_total{channel="news",indicator="continuity_count_error",priority="1"}')).toBe(0);
    expect(s.get('onair_ts_monitor_errors_total{channel="news",indicator="pcr_accuracy_error",priority="2"}')).toBe(0);
  });

  test("gauges follow the snapshot; bitrates are exported as bytes per second", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let cur = snapshot({ up: true, slateActive: false, secondsToNextSplice: 12.5, tableVersions: { sdt: 3 } });
    m.registerChannel("news", () => cur);
    let s = samples(await m.scrape());
    expect(s.get('onair_channel_up{channel="news"}')).toBe(1);
    expect(s.get('onair_channel_slate_active{channel="news"}')).toBe(0);
    expect(s.get('onair_channel_output_bytes_per_second{channel="news"}')).toBe(500_000);
    expect(s.get('onair_scte35_seconds_to_next_splice{channel="news"}')).toBe(12.5);
    expect(s.get('onair_si_table_version{channel="news",table="sdt"}')).toBe(3);
    cur = snapshot({ up: false, slateActive: true, secondsToNextSplice: null, inputBitrateBps: null });
    s = samples(await m.scrape());
    expect(s.get('onair_channel_up{channel="news"}')).toBe(0);
    expect(s.get('onair_channel_slate_active{channel="news"}')).toBe(1);
    expect(s.has('onair_scte35_seconds_to_next_splice{channel="news"}')).toBe(false);
    expect(s.has('onair_channel_input_bytes_per_second{channel="news"}')).toBe(false);
    expect(s.has('onair_si_table_version{channel="news",table="sdt"}')).toBe(false);
  });

  test("outputs: failed attempts counted by output, and whether each is failing now", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const udp = "udp://127.0.0.1:5000";
    const file = "file:/var/lib/onair/recordings/news-%H.ts";
    let cur = snapshot({
      outputs: [
        { name: udp, errors: 0, failing: false },
        { name: file, errors: 3, failing: true },
      ],
    });
    m.registerChannel("news", () => cur);
    let s = samples(await m.scrape());
    expect(s.get(`onair_channel_output_errors_total{channel="news",output="${udp}"}`)).toBe(0);
    expect(s.get(`onair_channel_output_errors_total{channel="news",output="${file}"}`)).toBe(3);
    expect(s.get(`onair_channel_output_failing{channel="news",output="${file}"}`)).toBe(1);
    expect(s.get(`onair_channel_output_failing{channel="news",output="${udp}"}`)).toBe(0);
    cur = snapshot({
      outputs: [
        { name: udp, errors: 0, failing: false },
        { name: file, errors: 5, failing: false },
      ],
    });
    s = samples(await m.scrape());
    expect(s.get(`onair_channel_output_errors_total{channel="news",output="${file}"}`)).toBe(5);
    expect(s.get(`onair_channel_output_failing{channel="news",output="${file}"}`)).toBe(0);
  });

  test("counters add the growth of cumulative values and survive a component restarting from 0", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let cur = snapshot({ packetsOut: 1000, cuesSent: { splice_insert: 4 }, restartsByReason: { stall: 1 } });
    m.registerChannel("news", () => cur);
    const key = 'onair_channel_output_packets_total{channel="news"}';
    expect(samples(await m.scrape()).get(key)).toBe(1000);
    cur = snapshot({ packetsOut: 1500, cuesSent: { splice_insert: 5 }, restartsByReason: { stall: 1 } });
    expect(samples(await m.scrape()).get(key)).toBe(1500);
    // the injector was rebuilt: its counters start again
    cur = snapshot({ packetsOut: 200, cuesSent: { splice_insert: 1 }, restartsByReason: { stall: 2 } });
    const s = samples(await m.scrape());
    expect(s.get(key)).toBe(1700);
    expect(s.get('onair_scte35_cues_sent_total{channel="news",command="splice_insert"}')).toBe(6);
    expect(s.get('onair_channel_restarts_total{channel="news",reason="stall"}')).toBe(2);
  });

  test("one snapshot per channel per scrape", async () => {
    const m = createMetrics({ defaultMetrics: false });
    let calls = 0;
    m.registerChannel("news", () => {
      calls++;
      return snapshot();
    });
    await m.scrape();
    expect(calls).toBe(1);
    await m.scrape();
    expect(calls).toBe(2);
  });

  test("unregistering a channel removes its series", async () => {
    const m = createMetrics({ defaultMetrics: false });
    const off = m.registerChannel("news", () => snapshot({ packetsOut: 5 }));
    m.registerChannel("sport", () => snapshot({ packetsOut: 7 }));
    expect(await m.scrape()).toContain('channel="news"');
    off();
    const text = await m.scrape();
    expect(text).not.toContain('channel="news"');
    expect(samples(text).get('onair_channel_output_packets_total{channel="sport"}')).toBe(7);
  });

  test("a snapshot that throws is reported, and the other channels still export", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.registerChannel("bad", () => {
      throw new Error("boom");
    });
    m.registerChannel("good", () => snapshot());
    const s = samples(await m.scrape());
    expect(s.get('onair_channel_snapshot_failed{channel="bad"}')).toBe(1);
    expect(s.get('onair_channel_snapshot_failed{channel="good"}')).toBe(0);
    expect(s.has('onair_channel_up{channel="bad"}')).toBe(false);
    expect(s.get('onair_channel_up{channel="good"}')).toBe(1);
    expect(s.get("onair_metrics_snapshot_errors_total")).toBe(1);
  });

  test("alerts, outbox and store come from their callbacks", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.setAlertsSource(() => ({ sent: 4, failed: 1, outboxDepth: 3 }));
    m.setStoreSource(() => ({ errors: 2 }));
    const s = samples(await m.scrape());
    expect(s.get("onair_alerts_sent_total")).toBe(4);
    expect(s.get("onair_alerts_failed_total")).toBe(1);
    expect(s.get("onair_alerts_outbox_depth")).toBe(3);
    expect(s.get("onair_store_errors_total")).toBe(2);
  });

  test("system metrics: host CPU by mode, memory, free space of watched directories", async () => {
    const m = createMetrics({
      defaultMetrics: false,
      directories: [
        { name: "data", path: "/" },
        { name: "recordings", path: "/does/not/exist" },
      ],
    });
    const s = samples(await m.scrape());
    expect(s.get('onair_system_cpu_seconds_total{mode="idle"}')).toBeGreaterThan(0);
    expect(s.get("onair_system_memory_total_bytes")).toBeGreaterThan(s.get("onair_system_memory_free_bytes") ?? Infinity);
    expect(s.get('onair_directory_free_bytes{directory="data",path="/"}')).toBeGreaterThan(0);
    expect([...s.keys()].some((k) => k.includes("recordings"))).toBe(false);
  });
});

describe("SI helpers", () => {
  test("carousel keys map to the bounded table label", () => {
    expect(siTableForKey("sdt")).toBe("sdt");
    expect(siTableForKey("eit-pf")).toBe("eit_pf");
    expect(siTableForKey("eit-0x50")).toBe("eit_schedule");
    expect(siTableForKey("eit-0x6f")).toBe("eit_schedule");
    expect(siTableForKey("tot")).toBe("tot");
    expect(siTableForKey("nit")).toBeUndefined();
  });

  test("schedule sub-tables are summed; the first one's version is shown", () => {
    expect(
      siFromCarousel([
        { key: "eit-0x51", versionNumber: 9, sectionsSent: 5 },
        { key: "eit-0x50", versionNumber: 2, sectionsSent: 10 },
        { key: "tdt", versionNumber: undefined, sectionsSent: 3 },
      ]),
    ).toEqual({ tableVersions: { eit_schedule: 2 }, sectionsSent: { eit_schedule: 15, tdt: 3 } });
  });
});
