/**
 * The channel's live HLS output in a <video>, always through hls.js (never the browser's native
 * HLS, so every browser shows the same thing and we see the playlist's cue tags), loaded on
 * demand: hls.js is its own chunk, fetched when this player mounts. Under the console's CSP
 * (worker-src 'self' blob:) its worker is not needed: the light build runs in the page
 * (enableWorker false), and it makes no metadata text track (whose data: URL the CSP refuses).
 * Below the picture, the live window as a timeline with the ad breaks hls.js parsed (cue-out /
 * cue-in markers) and the playhead.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type Hls from "hls.js";
import { clock } from "../time";
import { breakSpans, liveWindowOf, type DetailsLike, type LiveWindow, type Marker } from "./markers";

const RESTART_AFTER_MS = 4000;

function startPlayer(
  HlsClass: typeof Hls,
  video: HTMLVideoElement,
  playlist: string,
  on: { window: (w: LiveWindow | null) => void; status: (s: string) => void; fatal: () => void },
): Hls {
  const hls = new HlsClass({
    enableWorker: false,
    // no metadata text track: it would load a data: URL as media, which the CSP (media-src 'self' blob:) refuses;
    // the markers are read from the parsed playlist instead
    enableDateRangeMetadataCues: false,
    enableID3MetadataCues: false,
    enableEmsgMetadataCues: false,
    backBufferLength: 30,
    liveDurationInfinity: true,
  });
  hls.on(HlsClass.Events.LEVEL_UPDATED, (_e, data) => on.window(liveWindowOf(data.details as unknown as DetailsLike)));
  hls.on(HlsClass.Events.FRAG_BUFFERED, () => on.status(""));
  hls.on(HlsClass.Events.ERROR, (_e, data) => {
    if (!data.fatal) return;
    if (data.type === HlsClass.ErrorTypes.MEDIA_ERROR) {
      hls.recoverMediaError();
      return;
    }
    on.status(`The stream stopped (${data.details}); trying again…`);
    on.fatal();
  });
  hls.loadSource(playlist);
  hls.attachMedia(video);
  return hls;
}

/** Keeps an hls.js player on `playlist`, re-created after a fatal network error. */
function useHls(video: { current: HTMLVideoElement | null }, playlist: string) {
  const [win, setWin] = useState<LiveWindow | null>(null);
  const [status, setStatus] = useState("Loading the player…");
  useEffect(() => {
    const el = video.current;
    if (!el) return;
    let hls: Hls | undefined;
    let stopped = false;
    let retry: ReturnType<typeof setTimeout> | undefined;
    const start = (HlsClass: typeof Hls): void => {
      hls = startPlayer(HlsClass, el, playlist, {
        window: setWin,
        status: setStatus,
        fatal: () => {
          hls?.destroy();
          hls = undefined;
          if (!stopped) retry = setTimeout(() => start(HlsClass), RESTART_AFTER_MS);
        },
      });
    };
    import("hls.js/light")
      .then(({ default: HlsClass }) => {
        if (stopped) return;
        if (!HlsClass.isSupported()) setStatus("This browser cannot play the stream: it lacks Media Source Extensions.");
        else start(HlsClass);
      })
      .catch(() => setStatus("The player could not be loaded (is the daemon up?)."));
    return () => {
      stopped = true;
      clearTimeout(retry);
      hls?.destroy();
    };
  }, [playlist]);
  return { win, status };
}

function usePlayhead(video: { current: HTMLVideoElement | null }): number | null {
  const [t, setT] = useState<number | null>(null);
  useEffect(() => {
    const el = video.current;
    if (!el) return;
    const l = (): void => setT(el.currentTime);
    el.addEventListener("timeupdate", l);
    return () => el.removeEventListener("timeupdate", l);
  }, []);
  return t;
}

function markerLabel(m: Marker, timeZone: string): string {
  const at = m.wallMs !== null ? clock(m.wallMs, timeZone, true) : `${m.time.toFixed(1)} s`;
  if (m.kind === "cue-in") return `Back to programme at ${at}`;
  return `Break out at ${at}${m.durationSeconds !== undefined ? ` (${m.durationSeconds} s)` : ""}`;
}

function WindowTimeline({ w, playhead, timeZone }: { w: LiveWindow; playhead: number | null; timeZone: string }) {
  const span = Math.max(0.001, w.end - w.start);
  const pct = (t: number): string => `${Math.min(100, Math.max(0, ((t - w.start) / span) * 100)).toFixed(2)}%`;
  return (
    <div class="hls-window">
      <div class="hls-bar" aria-hidden="true">
        {breakSpans(w).map(([a, b]) => (
          <div key={a} class="hls-break" style={{ left: pct(a), width: `${(((Math.min(b, w.end) - a) / span) * 100).toFixed(2)}%` }} />
        ))}
        {w.markers.map((m) => (
          <span
            key={`${m.kind}${m.time}`}
            class={`marker ${m.kind}`}
            data-marker={m.kind}
            style={{ left: pct(m.time) }}
            title={markerLabel(m, timeZone)}
          />
        ))}
        {playhead !== null && playhead >= w.start && <span class="playhead" style={{ left: pct(playhead) }} />}
      </div>
      <div class="hls-scale">
        <span>{w.startWallMs !== null ? clock(w.startWallMs, timeZone, true) : ""}</span>
        <span>live window {Math.round(span)} s</span>
        <span>{w.startWallMs !== null ? clock(w.startWallMs + span * 1000, timeZone, true) : ""}</span>
      </div>
      {w.markers.length === 0 && !w.inBreakAtStart ? (
        <p class="muted">No ad break in the live window.</p>
      ) : (
        <ul class="marker-list" aria-label="Ad markers in the live window">
          {w.inBreakAtStart && <li>In a break since before the window</li>}
          {w.markers.map((m) => (
            <li key={`${m.kind}${m.time}`}>{markerLabel(m, timeZone)}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Player({ playlist, name, timeZone }: { playlist: string; name: string; timeZone: string }) {
  const video = useRef<HTMLVideoElement>(null);
  const { win, status } = useHls(video, playlist);
  const playhead = usePlayhead(video);
  return (
    <div class="player">
      <video ref={video} data-field="player" controls muted autoplay playsInline aria-label={`Live output of ${name}`} />
      {status && (
        <p class="muted" role="status">
          {status}
        </p>
      )}
      {win && <WindowTimeline w={win} playhead={playhead} timeZone={timeZone} />}
    </div>
  );
}
