/**
 * The wall (`/`): a tile per channel and per refused profile, in a responsive grid. A tile
 * subscribes to its own channel only, so a `counters` event repaints one tile. A channel's tile
 * is a link to its page (click, Enter, or Space).
 */
import type { TargetedKeyboardEvent } from "preact";
import { useEffect } from "preact/hooks";
import type { RefusedProfile } from "../api";
import { useChannel, useStates, useTiles } from "../hooks";
import { channelHref, followLink, navigate } from "../router";
import { store } from "../store";
import { Countdown, Programmes, SourceChip, StateBadge, Stats, Thumb } from "../ui/status";

/** A safe id fragment for aria-labelledby (file names may hold dots or spaces). */
const domId = (prefix: string, key: string): string => `${prefix}-${key.replace(/[^A-Za-z0-9_-]/g, "_")}`;

function onTileKey(e: TargetedKeyboardEvent<HTMLAnchorElement>): void {
  if (e.key === " " || e.key === "Spacebar") {
    e.preventDefault();
    navigate(e.currentTarget.pathname);
  }
}

export function ChannelTile({ id }: { id: string }) {
  const v = useChannel(id);
  if (!v) return null;
  return (
    <a
      class={`tile st-${v.state}`}
      href={channelHref(id)}
      data-channel={id}
      data-state={v.state}
      data-source={v.source}
      onClick={followLink}
      onKeyDown={onTileKey}
    >
      <div class="tile-head">
        <h2 class="tile-name">{v.name}</h2>
        <StateBadge state={v.state} />
      </div>
      <div class="tile-body">
        <Thumb v={v} />
        <div class="tile-info">
          <p class="chips">
            <SourceChip v={v} />
            {!v.enabled && <span class="chip">disabled</span>}
          </p>
          <Programmes v={v} />
          <Countdown v={v} />
        </div>
      </div>
      <Stats v={v} />
    </a>
  );
}

export function RefusedTile({ r }: { r: RefusedProfile }) {
  const nameId = domId("refused-name", r.file);
  return (
    <div class="tile st-refused" data-channel={r.file} data-state="refused" role="group" aria-labelledby={nameId}>
      <div class="tile-head">
        <h2 class="tile-name" id={nameId}>
          {r.file}
        </h2>
        <StateBadge state="refused" />
      </div>
      <p class="refused-code">{r.code}</p>
      <p class="refused-message">{r.message}</p>
    </div>
  );
}

const SUMMARY_WORDS: [string, string][] = [
  ["on_air", "on air"],
  ["slate", "on slate"],
  ["starting", "starting"],
  ["failed", "failed"],
  ["stopped", "stopped"],
];

function summaryLine(): string {
  const { ids, refused } = store.tiles();
  const counts = new Map<string, number>();
  for (const id of ids) {
    const s = store.channel(id)?.state;
    if (s) counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  const parts = SUMMARY_WORDS.filter(([k]) => counts.get(k)).map(([k, w]) => `${counts.get(k)} ${w}`);
  if (refused.length) parts.push(`${refused.length} refused`);
  return parts.join(" · ");
}

function Summary() {
  const line = useStates(summaryLine);
  return <p class="summary">{line}</p>;
}

export function Wall() {
  const { ids, refused, loaded } = useTiles();
  useEffect(() => {
    document.title = "Channels — onair";
  }, []);
  return (
    <section aria-labelledby="wall-heading">
      <div class="page-head">
        <h1 id="wall-heading" tabIndex={-1}>
          Channels
        </h1>
        <Summary />
      </div>
      {!loaded && <p class="empty">Loading channels…</p>}
      {loaded && ids.length === 0 && refused.length === 0 && <p class="empty">No channels are configured.</p>}
      <ul class="wall">
        {ids.map((id) => (
          <li key={id}>
            <ChannelTile id={id} />
          </li>
        ))}
        {refused.map((r) => (
          <li key={`refused:${r.file}`}>
            <RefusedTile r={r} />
          </li>
        ))}
      </ul>
    </section>
  );
}
