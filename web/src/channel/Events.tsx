/**
 * The channel's recent events, newest first: GET …/events once (and again after a reconnection,
 * for what the stream missed), then each `event` of the stream for this channel on top.
 */
import { useEffect, useState } from "preact/hooks";
import type { EventRow } from "../api";
import { channelPath, getJson } from "../api";
import { useReconnects } from "../hooks";
import { store } from "../store";
import { clock } from "../time";
import { ScrollRegion } from "./ScrollRegion";

const KEEP = 200;
const keyOf = (e: EventRow): string => `${e.at}|${e.kind}|${e.text}`;
const LEVEL_WORDS: Record<string, string> = { info: "info", warn: "warning", error: "error" };

export function Events({ id, timeZone }: { id: string; timeZone: string }) {
  const reconnects = useReconnects();
  const [events, setEvents] = useState<EventRow[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    const ac = new AbortController();
    const live: EventRow[] = [];
    // events that arrive while the list loads are kept and put on top of it
    const off = store.onEvent((e) => {
      if (e.channel !== id) return;
      live.unshift(e);
      setEvents((list) => (list.some((x) => keyOf(x) === keyOf(e)) ? list : [e, ...list].slice(0, KEEP)));
    });
    getJson<{ events: EventRow[] }>(`${channelPath(id)}/events?limit=100`, ac.signal)
      .then((r) => {
        setError(undefined);
        const seen = new Set(r.events.map(keyOf));
        setEvents([...live.filter((e) => !seen.has(keyOf(e))), ...r.events].slice(0, KEEP));
      })
      .catch((e: unknown) => {
        if (!ac.signal.aborted) setError(`The events could not be read: ${e instanceof Error ? e.message : String(e)}`);
      });
    return () => {
      off();
      ac.abort();
    };
  }, [id, reconnects]);
  return (
    <section class="panel events" aria-labelledby="events-heading">
      <h2 id="events-heading">Recent events</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {events.length === 0 && !error && <p class="muted">No events yet.</p>}
      <ScrollRegion label="Event list" class="event-scroll">
        <ol class="event-list">
          {events.map((e) => (
            <li key={keyOf(e)} class={`lvl-${e.level}`} data-kind={e.kind}>
              <time dateTime={e.at}>{clock(e.at, timeZone, true)}</time>
              <span class={`level lvl-${e.level}`}>{LEVEL_WORDS[e.level] ?? e.level}</span>
              <span class="kind">{e.kind}</span>
              <span class="text">{e.text}</span>
              {e.source === "alert" && <span class="chip">alert</span>}
            </li>
          ))}
        </ol>
      </ScrollRegion>
    </section>
  );
}
