/**
 * The page's one EventSource on /api/v1/stream (docs/api.md, "The event stream"), feeding the
 * store. EventSource reconnects by itself after a dropped connection (the server says
 * `retry: 2000`); when it gives up (a 503 at the stream limit, a daemon that is down, an answer
 * that is not an event stream) it is CLOSED for good, so we open a new one with a capped backoff.
 * On every (re)connection the server's first event is the full `channels` list, which replaces
 * everything. The session is read again then too (a restarted daemon has forgotten it).
 * A break going on air or ending comes as a `channel` event like any other change (the
 * server compares the view every second around a cue's time).
 */
import type { ChannelsSnapshot, ChannelView, CountersUpdate, EventRow, RefusedProfile, SessionInfo, ThumbnailUpdate } from "./api";
import { getJson } from "./api";
import { store } from "./store";

const STREAM = "/api/v1/stream";
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

function on<T>(es: EventSource, name: string, apply: (data: T) => void): void {
  es.addEventListener(name, (e: MessageEvent<string>) => {
    let data: T;
    try {
      data = JSON.parse(e.data) as T;
    } catch {
      return;
    }
    apply(data);
  });
}

export async function refreshSession(): Promise<void> {
  try {
    store.setSession(await getJson<SessionInfo>("/api/v1/session"));
  } catch {
    // keep what we knew; the next (re)connection asks again
  }
}

/** Opens the stream (once per page) and a first GET of the list, in case the stream is refused. */
export function startLive(): void {
  let backoff = BACKOFF_FIRST_MS;
  let retry: ReturnType<typeof setTimeout> | undefined;
  let es: EventSource | undefined;
  let opened = false;

  const open = (): void => {
    retry = undefined;
    es = new EventSource(STREAM);
    es.onopen = () => {
      backoff = BACKOFF_FIRST_MS;
      store.setConnection("open");
      if (opened) void refreshSession();
      opened = true;
    };
    es.onerror = () => {
      store.setConnection("lost");
      if (es?.readyState === EventSource.CLOSED) {
        es.close();
        retry = setTimeout(open, backoff * (0.75 + Math.random() * 0.5));
        backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
      }
    };
    on<ChannelsSnapshot>(es, "channels", (s) => store.applySnapshot(s));
    on<ChannelView>(es, "channel", (v) => store.applyChannel(v));
    on<CountersUpdate>(es, "counters", (c) => store.applyCounters(c));
    on<ThumbnailUpdate>(es, "thumbnail", (t) => store.applyThumbnail(t));
    on<{ refused: RefusedProfile[] }>(es, "refused", (r) => store.applyRefused(r.refused));
    on<EventRow & { channel: string }>(es, "event", (e) => store.applyEvent(e));
  };

  // back on the network or back to the tab: do not wait out a long backoff
  const hurry = (): void => {
    if (retry !== undefined && document.visibilityState === "visible") {
      clearTimeout(retry);
      backoff = BACKOFF_FIRST_MS;
      open();
    }
  };
  window.addEventListener("online", hurry);
  document.addEventListener("visibilitychange", hurry);

  open();
  void getJson<ChannelsSnapshot>("/api/v1/channels")
    .then((s) => {
      if (store.snapshotCount() === 0) store.applySnapshot(s, false);
    })
    .catch(() => undefined);
  void refreshSession();
}
