/**
 * A channel's page (`/channels/:id`), its own chunk: status, live player (hls.js, loaded by the
 * player alone), actions, the schedule timeline, the import, the as-run log and recent events.
 */
import { useEffect, useState } from "preact/hooks";
import type { ChannelView } from "../api";
import { useChannel, useTiles } from "../hooks";
import { followLink } from "../router";
import { Countdown, Programmes, SourceChip, StateBadge, Stats, Thumb } from "../ui/status";
import { Actions } from "./Actions";
import { AsRun } from "./AsRun";
import { Events } from "./Events";
import { Import } from "./Import";
import { Player } from "./Player";
import { Schedule } from "./Schedule";

function Counters({ v }: { v: ChannelView }) {
  const entries = Object.entries(v.tr101290 ?? {});
  if (entries.length === 0) return null;
  return (
    <details class="counters">
      <summary>TR 101 290 counters</summary>
      <table class="data compact">
        <tbody>
          {entries.map(([k, n]) => (
            <tr key={k} class={n > 0 ? "warn" : undefined}>
              <th scope="row">{k.replace(/_/g, " ")}</th>
              <td class="num">{n}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function StatusPanel({ v }: { v: ChannelView }) {
  return (
    <section class={`panel status st-${v.state}`} aria-labelledby="status-heading" data-channel={v.id} data-state={v.state}>
      <h2 id="status-heading" class="visually-hidden">
        Status
      </h2>
      <div class="status-grid">
        <Thumb v={v} />
        <div class="tile-info">
          <p class="status-line">
            <StateBadge state={v.state} /> <SourceChip v={v} /> {!v.enabled && <span class="chip">disabled</span>}
            <span class="muted"> · {v.restarts} restarts</span>
          </p>
          <Programmes v={v} />
          <Countdown v={v} />
          <Stats v={v} />
          <Counters v={v} />
        </div>
      </div>
    </section>
  );
}

function LiveSection({ v }: { v: ChannelView }) {
  return (
    <section class="panel live" aria-labelledby="live-heading">
      <h2 id="live-heading">Live output</h2>
      {v.hls ? (
        <Player playlist={v.hls.playlist} name={v.name} timeZone={v.timeZone} />
      ) : (
        <p class="note" data-field="no-hls">
          This channel has no HLS output, so there is no live picture to play here. Add an <code>hls</code> output to its profile to watch
          it in the console; the confidence picture above still shows what it sends.
        </p>
      )}
    </section>
  );
}

export function ChannelPage({ id }: { id: string }) {
  const v = useChannel(id);
  const { loaded } = useTiles();
  const [scheduleRefresh, setScheduleRefresh] = useState(0);
  useEffect(() => {
    document.title = `${v?.name ?? id} — onair`;
  }, [v?.name, id]);

  if (!v) {
    return (
      <section aria-labelledby="channel-heading">
        <p class="crumbs">
          <a href="/" onClick={followLink}>
            ← All channels
          </a>
        </p>
        <h1 id="channel-heading" tabIndex={-1}>
          {id}
        </h1>
        <p class="empty">{loaded ? `There is no channel "${id}" on this daemon.` : "Loading…"}</p>
      </section>
    );
  }
  return (
    <div class="channel-page">
      <p class="crumbs">
        <a href="/" onClick={followLink}>
          ← All channels
        </a>
      </p>
      <div class="page-head">
        <h1 id="channel-heading" tabIndex={-1}>
          {v.name}
        </h1>
        <span class="muted">
          {v.id} · EPG time zone {v.timeZone}
        </span>
      </div>
      <StatusPanel v={v} />
      <div class="columns">
        <LiveSection v={v} />
        <Actions v={v} />
      </div>
      <Schedule id={v.id} timeZone={v.timeZone} refresh={scheduleRefresh} />
      <Import id={v.id} timeZone={v.timeZone} onImported={() => setScheduleRefresh((n) => n + 1)} />
      <AsRun id={v.id} timeZone={v.timeZone} />
      <Events id={v.id} timeZone={v.timeZone} />
    </div>
  );
}
