import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { createMetrics } from "../../src/observe/metrics.js";

const dir = join(import.meta.dirname, "..", "..", "prometheus");

function promtool(args: string[]): { status: number; out: string } {
  const r = spawnSync("promtool", args, { cwd: dir, encoding: "utf8" });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error(
      "promtool is not installed: run `bash scripts/setup.sh` (installs Debian's `prometheus` package) or `apt-get install prometheus`",
    );
  }
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Every metric name our registry exports, default process metrics included. */
function exportedNames(): Set<string> {
  const m = createMetrics({ defaultMetrics: true });
  const names = new Set<string>();
  for (const metric of m.registry.getMetricsAsArray()) {
    const name = (metric as unknown as { name: string }).name;
    names.add(name);
    for (const suffix of ["_bucket", "_sum", "_count"]) names.add(name + suffix);
  }
  return names;
}

/** Metric names in a PromQL expression (identifiers not followed by "(" and not label names or keywords). */
function metricNames(expr: string): string[] {
  const stripped = expr.replace(/\{[^}]*\}/g, "{}").replace(/"[^"]*"/g, '""');
  const words = stripped.match(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b(?!\s*\()/g) ?? [];
  const keywords = new Set(["by", "on", "without", "ignoring", "and", "or", "unless", "group_left", "group_right", "bool", "offset"]);
  const withinBy = new Set<string>();
  for (const m of stripped.matchAll(/\b(?:by|on|without|ignoring)\s*\(([^)]*)\)/g)) for (const l of m[1].split(",")) withinBy.add(l.trim());
  return words.filter((w) => !keywords.has(w) && !withinBy.has(w) && /_/.test(w));
}

describe("alert rules", () => {
  test("promtool check rules accepts onair.rules.yml", () => {
    const r = promtool(["check", "rules", "onair.rules.yml"]);
    expect(r.out).toContain("SUCCESS: 10 rules found");
    expect(r.status).toBe(0);
  });

  test("promtool test rules passes every case", () => {
    const r = promtool(["test", "rules", "onair.rules.test.yml"]);
    expect(r.out, r.out).toContain("SUCCESS");
    expect(r.status).toBe(0);
  });

  test("the rules use only metric names we export", () => {
    const exported = exportedNames();
    const exprs = [...readFileSync(join(dir, "onair.rules.yml"), "utf8").matchAll(/expr: (\|\n(?:\s{10}.*\n)+|.*)/g)].map((m) => m[1]);
    expect(exprs).toHaveLength(10);
    for (const e of exprs) for (const n of metricNames(e)) expect(exported, `${n} in ${e}`).toContain(n);
  });
});

describe("Grafana dashboard", () => {
  interface Panel {
    type: string;
    title: string;
    targets?: { expr: string }[];
  }
  const dash = JSON.parse(readFileSync(join(dir, "grafana-dashboard.json"), "utf8")) as { uid: string; title: string; panels: Panel[] };

  test("is valid JSON with panels that all query something", () => {
    expect(dash.uid).toBe("onair-playout");
    const graphs = dash.panels.filter((p) => p.type !== "row");
    expect(graphs.length).toBeGreaterThan(15);
    for (const p of graphs) expect(p.targets?.length, p.title).toBeGreaterThan(0);
  });

  test("queries only metric names we export", () => {
    const exported = exportedNames();
    for (const p of dash.panels)
      for (const t of p.targets ?? []) for (const n of metricNames(t.expr)) expect(exported, `${n} in panel ${p.title}`).toContain(n);
  });

  test("shows every onair metric family", () => {
    // a histogram family is shown when its _bucket, _sum or _count series is queried
    const used = new Set(
      dash.panels.flatMap((p) =>
        (p.targets ?? []).flatMap((t) => metricNames(t.expr).flatMap((n) => [n, n.replace(/_(bucket|sum|count)$/, "")])),
      ),
    );
    const onair = [...exportedNames()].filter((n) => n.startsWith("onair_") && !/_(bucket|sum|count)$/.test(n));
    const missing = onair.filter(
      (n) =>
        !used.has(n) &&
        n !== "onair_channel_snapshot_failed" &&
        n !== "onair_metrics_snapshot_errors_total" &&
        n !== "onair_directory_size_bytes",
    );
    expect(missing).toEqual([]);
  });
});
