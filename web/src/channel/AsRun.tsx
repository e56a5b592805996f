/**
 * The as-run log of one day (GET …/asrun?day=, the day in the channel's EPG time zone; today
 * there by default): filtered by kind on the server and by text here, with an "Export CSV" link
 * to the same rows as the daemon's CSV.
 */
import { useEffect, useState } from "preact/hooks";
import type { AsRunDay, AsRunRow } from "../api";
import { channelPath, getJson, serverNow } from "../api";
import { useReconnects } from "../hooks";
import { clock, dayIn } from "../time";
import { ScrollRegion } from "./ScrollRegion";

type KindFilter = "" | "item" | "cue";

function useAsRun(id: string, day: string, kind: KindFilter): { data?: AsRunDay; error?: string; loading: boolean } {
  const reconnects = useReconnects();
  const [state, setState] = useState<{ data?: AsRunDay; error?: string; loading: boolean }>({ loading: true });
  useEffect(() => {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return;
    const ac = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    const q = new URLSearchParams({ day });
    if (kind) q.set("kind", kind);
    getJson<AsRunDay>(`${channelPath(id)}/asrun?${q}`, ac.signal)
      .then((data) => setState({ data, loading: false }))
      .catch((e: unknown) => {
        if (!ac.signal.aborted)
          setState({ error: `The as-run log could not be read: ${e instanceof Error ? e.message : String(e)}`, loading: false });
      });
    return () => ac.abort();
  }, [id, day, kind, reconnects]);
  return state;
}

function matches(r: AsRunRow, text: string): boolean {
  if (!text) return true;
  const hay = `${r.kind} ${r.title ?? ""} ${r.eventId ?? ""} ${r.details ? JSON.stringify(r.details) : ""}`.toLowerCase();
  return hay.includes(text.toLowerCase());
}

function offset(ms: number | null): string {
  if (ms === null) return "—";
  const s = ms / 1000;
  return `${s > 0 ? "+" : ""}${s.toFixed(3)} s`;
}

function Rows({ rows, tz }: { rows: AsRunRow[]; tz: string }) {
  return (
    <ScrollRegion label="As-run rows">
      <table class="data">
        <thead>
          <tr>
            <th scope="col">Aired</th>
            <th scope="col">UTC</th>
            <th scope="col">Scheduled</th>
            <th scope="col">Offset</th>
            <th scope="col">Kind</th>
            <th scope="col">Title / command</th>
            <th scope="col">Event id</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id}>
              <td class="num">{clock(r.actual, tz, true)}</td>
              <td class="num utc">{clock(r.actual, "UTC", true)}</td>
              <td class="num">{r.scheduled ? clock(r.scheduled, tz, true) : "—"}</td>
              <td class="num">{offset(r.offsetMs)}</td>
              <td>{r.kind}</td>
              <td>{r.title ?? "—"}</td>
              <td class="num">{r.eventId ?? "—"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

export function AsRun({ id, timeZone }: { id: string; timeZone: string }) {
  const [day, setDay] = useState(() => dayIn(serverNow(), timeZone));
  const [kind, setKind] = useState<KindFilter>("");
  const [text, setText] = useState("");
  const { data, error, loading } = useAsRun(id, day, kind);
  const rows = (data?.rows ?? []).filter((r) => matches(r, text));
  const csv = `${channelPath(id)}/asrun?${new URLSearchParams({ day, ...(kind ? { kind } : {}), format: "csv" })}`;
  const tz = data?.timeZone ?? timeZone;
  return (
    <section class="panel asrun" aria-labelledby="asrun-heading">
      <h2 id="asrun-heading">As-run log</h2>
      <div class="filters">
        <p class="field">
          <label for="asrun-day">Day ({tz})</label>
          <input
            id="asrun-day"
            type="date"
            name="day"
            value={day}
            required
            onChange={(e) => e.currentTarget.value && setDay(e.currentTarget.value)}
          />
        </p>
        <p class="field">
          <label for="asrun-kind">Kind</label>
          <select id="asrun-kind" name="kind" value={kind} onChange={(e) => setKind(e.currentTarget.value as KindFilter)}>
            <option value="">All</option>
            <option value="item">Programmes</option>
            <option value="cue">Cues</option>
          </select>
        </p>
        <p class="field">
          <label for="asrun-text">Filter</label>
          <input id="asrun-text" type="search" name="filter" value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </p>
        <a class="button-link" href={csv} download>
          Export CSV
        </a>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {loading && !data && <p class="muted">Loading the as-run log…</p>}
      {data && (
        <p class="muted">
          {rows.length} of {data.rows.length} rows on {data.day}
        </p>
      )}
      {rows.length > 0 && <Rows rows={rows} tz={tz} />}
    </section>
  );
}
