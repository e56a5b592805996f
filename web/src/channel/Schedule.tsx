/**
 * The schedule as a timeline: GET …/schedule (today ± 7 days), one day at a time in the
 * channel's EPG time zone (the day's real length, 23 or 25 hours on a DST change), with its
 * programmes, its breaks and "now" on a 24-hour bar, and beneath it the day's programmes with
 * local and UTC times.
 */
import { useEffect, useState } from "preact/hooks";
import type { ScheduleItem, ScheduleWindow } from "../api";
import { channelPath, getJson, serverNow } from "../api";
import { useNow, useReconnects } from "../hooks";
import { ScrollRegion } from "./ScrollRegion";
import { addDays, clock, dayIn, dayStart, duration, offsetLabel, shortDay } from "../time";

const DAYS_EACH_SIDE = 7;

function useSchedule(id: string, refresh: number): { data?: ScheduleWindow; error?: string } {
  const reconnects = useReconnects();
  const [state, setState] = useState<{ data?: ScheduleWindow; error?: string }>({});
  useEffect(() => {
    const ac = new AbortController();
    getJson<ScheduleWindow>(`${channelPath(id)}/schedule`, ac.signal)
      .then((data) => setState({ data }))
      .catch((e: unknown) => {
        if (!ac.signal.aborted)
          setState((s) => ({ ...s, error: `The schedule could not be read: ${e instanceof Error ? e.message : String(e)}` }));
      });
    return () => ac.abort();
  }, [id, refresh, reconnects]);
  return state;
}

interface DayFrame {
  day: string;
  from: number;
  to: number;
}

function frameOf(day: string, tz: string): DayFrame {
  return { day, from: dayStart(day, tz), to: dayStart(addDays(day, 1), tz) };
}

function DayBar({ f, items, breaks, tz }: { f: DayFrame; items: ScheduleItem[]; breaks: ScheduleWindow["breaks"]; tz: string }) {
  const now = useNow();
  const len = f.to - f.from;
  const pos = (ms: number): number => Math.min(100, Math.max(0, ((ms - f.from) / len) * 100));
  const hours = [];
  for (let h = 0; h * 3_600_000 < len; h += 3) hours.push(f.from + h * 3_600_000);
  return (
    <div class="day-bar-wrap" aria-hidden="true">
      <div class="day-bar">
        {items.map((it) => {
          const a = pos(Date.parse(it.start));
          const b = pos(Date.parse(it.end));
          return (
            <div
              key={it.start}
              class="day-item"
              style={{ left: `${a}%`, width: `${Math.max(0.2, b - a)}%` }}
              title={`${clock(it.start, tz)} ${it.title}`}
            >
              <span>{it.title}</span>
            </div>
          );
        })}
        {breaks.map((b) => (
          <span
            key={b.at}
            class="day-break"
            data-break={b.at}
            style={{ left: `${pos(Date.parse(b.at))}%` }}
            title={`Break ${clock(b.at, tz)} (${b.durationSeconds} s)`}
          />
        ))}
        {now >= f.from && now < f.to && <span class="day-now" style={{ left: `${pos(now)}%` }} />}
      </div>
      <div class="day-hours">
        {hours.map((h) => (
          <span key={h} style={{ left: `${pos(h)}%` }}>
            {clock(h, tz)}
          </span>
        ))}
      </div>
    </div>
  );
}

function DayTable({ items, tz }: { items: ScheduleItem[]; tz: string }) {
  const now = useNow();
  if (items.length === 0) return <p class="muted">Nothing scheduled on this day.</p>;
  return (
    <ScrollRegion label="Programmes of the day">
      <table class="data">
        <thead>
          <tr>
            <th scope="col">Start</th>
            <th scope="col">UTC</th>
            <th scope="col">End</th>
            <th scope="col">Length</th>
            <th scope="col">Title</th>
            <th scope="col">Breaks</th>
          </tr>
        </thead>
        <tbody>
          {items.map((it) => {
            const s = Date.parse(it.start);
            const e = Date.parse(it.end);
            const onAir = now >= s && now < e;
            return (
              <tr key={it.start} class={onAir ? "current" : undefined}>
                <td class="num">{clock(s, tz)}</td>
                <td class="num utc">{clock(s, "UTC")}</td>
                <td class="num">{clock(e, tz)}</td>
                <td class="num">{duration((e - s) / 1000)}</td>
                <td>
                  {it.title}
                  {onAir && <span class="chip now-chip">now</span>}
                </td>
                <td>{it.breaks?.length ? it.breaks.map((b) => `${duration(b.offsetSeconds)} +${b.durationSeconds} s`).join(", ") : "—"}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </ScrollRegion>
  );
}

export function Schedule({ id, timeZone, refresh }: { id: string; timeZone: string; refresh: number }) {
  const { data, error } = useSchedule(id, refresh);
  const tz = data?.timeZone ?? timeZone;
  const today = dayIn(serverNow(), tz);
  const [day, setDay] = useState(today);
  const days = Array.from({ length: DAYS_EACH_SIDE * 2 + 1 }, (_, i) => addDays(today, i - DAYS_EACH_SIDE));
  const f = frameOf(day, tz);
  const overlaps = (s: string, e: string): boolean => Date.parse(e) > f.from && Date.parse(s) < f.to;
  const items = (data?.items ?? []).filter((it) => overlaps(it.start, it.end));
  const breaks = (data?.breaks ?? []).filter((b) => {
    const t = Date.parse(b.at);
    return t >= f.from && t < f.to;
  });
  const i = days.indexOf(day);
  return (
    <section class="panel schedule" aria-labelledby="schedule-heading">
      <h2 id="schedule-heading">Schedule</h2>
      <p class="muted">
        Times in {tz} ({offsetLabel(f.from, tz)}), UTC beside.
      </p>
      <div class="day-nav">
        <button type="button" class="secondary" disabled={i <= 0} onClick={() => setDay(days[i - 1])}>
          Previous day
        </button>
        <label for="schedule-day">Day</label>
        <select id="schedule-day" value={day} onChange={(e) => setDay(e.currentTarget.value)}>
          {days.map((d) => (
            <option key={d} value={d}>
              {shortDay(dayStart(d, tz) + 12 * 3_600_000, tz)}
              {d === today ? " (today)" : ""}
            </option>
          ))}
        </select>
        <button type="button" class="secondary" disabled={i >= days.length - 1} onClick={() => setDay(days[i + 1])}>
          Next day
        </button>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!data && !error && <p class="muted">Loading the schedule…</p>}
      {data && <DayBar f={f} items={items} breaks={breaks} tz={tz} />}
      {data && <DayTable items={items} tz={tz} />}
    </section>
  );
}
