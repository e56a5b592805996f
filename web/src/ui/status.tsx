/**
 * The pieces of a channel's status shared by its wall tile and its page: the state in colour
 * and words, the programme with its progress bar, the countdown to the next cue, the confidence
 * thumbnail and the TR 101 290 counters. Only the ticking parts (progress, countdown) take the
 * one-second tick, so a tile's other parts render on updates only.
 */
import { useState } from "preact/hooks";
import type { ChannelView, Programme, TileState } from "../api";
import { useNow } from "../hooks";
import { bitrate, clock, duration } from "../time";

export const STATE_WORDS: Record<TileState, string> = {
  on_air: "On air",
  slate: "Slate",
  starting: "Starting",
  failed: "Failed",
  refused: "Refused",
  stopped: "Stopped",
};

export function StateBadge({ state, id }: { state: TileState; id?: string }) {
  return (
    <span class={`badge st-${state}`} data-field="state" id={id}>
      {STATE_WORDS[state] ?? state}
    </span>
  );
}

export function SourceChip({ v }: { v: ChannelView }) {
  return (
    <span class={`chip src-${v.source}`} data-field="source">
      {v.source === "slate" ? "Source: slate" : "Source: live"}
    </span>
  );
}

/** The current programme's progress bar with the time left, ticking. */
export function ProgrammeProgress({ item, timeZone }: { item: Programme; timeZone: string }) {
  const now = useNow();
  const start = Date.parse(item.start);
  const end = Date.parse(item.end);
  const span = end - start;
  const pct = span > 0 ? Math.min(100, Math.max(0, ((now - start) / span) * 100)) : 0;
  return (
    <div class="progress-row">
      <div
        class="bar"
        role="progressbar"
        aria-label="Programme progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(pct)}
      >
        <div class="fill" style={{ width: `${pct.toFixed(2)}%` }} />
      </div>
      <span class="times">
        {clock(start, timeZone)}–{clock(end, timeZone)} · {duration((end - now) / 1000)} left
      </span>
    </div>
  );
}

/** "Next break in 04:12 (30 s)", "In break · back in 00:21", or "No break planned"; ticking. */
export function countdownText(v: ChannelView, now: number): { text: string; inBreak: boolean } {
  if (v.onAirCue) {
    const back = v.onAirCue.returnAt ? Date.parse(v.onAirCue.returnAt) : NaN;
    if (Number.isFinite(back) && back - now < 1000) return { text: "In break · returning now", inBreak: true };
    if (Number.isFinite(back)) return { text: `In break · back in ${duration((back - now) / 1000)}`, inBreak: true };
    return { text: `In break · for ${duration((now - Date.parse(v.onAirCue.at)) / 1000)}`, inBreak: true };
  }
  if (v.nextCue) {
    const at = Date.parse(v.nextCue.at);
    const len = v.nextCue.durationSeconds ? ` (${v.nextCue.durationSeconds} s)` : "";
    if (at - now <= 0) return { text: `Break due now${len}`, inBreak: false };
    return { text: `Next break in ${duration((at - now) / 1000)}${len}`, inBreak: false };
  }
  return { text: "No break planned", inBreak: false };
}

export function Countdown({ v }: { v: ChannelView }) {
  const now = useNow();
  const { text, inBreak } = countdownText(v, now);
  return (
    <p class={inBreak ? "countdown in-break" : "countdown"} data-field="countdown">
      {text}
    </p>
  );
}

export function thumbnailSrc(t: { url: string; seq: number }): string {
  return `${t.url}${t.url.includes("?") ? "&" : "?"}seq=${t.seq}`;
}

export function Thumb({ v }: { v: ChannelView }) {
  // a picture that did not load (the daemon restarted, say) shows the placeholder until the next one
  const [failedSeq, setFailedSeq] = useState<number>();
  if (!v.thumbnail || failedSeq === v.thumbnail.seq) {
    return (
      <div class="thumb placeholder" data-field="thumbnail-placeholder">
        <span>{v.thumbnail ? "No picture" : "No picture yet"}</span>
      </div>
    );
  }
  const seq = v.thumbnail.seq;
  return (
    <img
      class="thumb"
      data-field="thumbnail"
      src={thumbnailSrc(v.thumbnail)}
      alt={`Confidence picture of ${v.name} at ${clock(v.thumbnail.at, undefined, true)}`}
      width={320}
      height={180}
      decoding="async"
      onError={() => setFailedSeq(seq)}
    />
  );
}

/** ETSI TR 101 290 priority of each indicator (as src/observe/metrics-model.ts). */
const PRIORITY: Record<string, 1 | 2> = {
  ts_sync_loss: 1,
  sync_loss: 1,
  sync_byte_error: 1,
  pat_error: 1,
  continuity_count_error: 1,
  pmt_error: 1,
  pid_error: 1,
};

export function trSummary(counters: Record<string, number> | null | undefined): { p1: number; p2: number; worst: [string, number][] } {
  let p1 = 0;
  let p2 = 0;
  const nonZero: [string, number][] = [];
  for (const [k, n] of Object.entries(counters ?? {})) {
    if (!n) continue;
    if (PRIORITY[k] === 1) p1 += n;
    else p2 += n;
    nonZero.push([k, n]);
  }
  nonZero.sort((a, b) => (PRIORITY[b[0]] === 1 ? 1 : 0) - (PRIORITY[a[0]] === 1 ? 1 : 0) || b[1] - a[1]);
  return { p1, p2, worst: nonZero.slice(0, 2) };
}

/** Bitrate, TR 101 290 counts and the last alert, as a description list. */
export function Stats({ v }: { v: ChannelView }) {
  const tr = trSummary(v.tr101290);
  return (
    <dl class="stats">
      <div>
        <dt>Output</dt>
        <dd data-field="bitrate">{bitrate(v.outputBitrateBps)}</dd>
      </div>
      <div>
        <dt>TR 101 290</dt>
        <dd data-field="tr101290" class={tr.p1 > 0 ? "bad" : tr.p2 > 0 ? "warn" : ""}>
          P1 {tr.p1} · P2 {tr.p2}
          {tr.worst.length > 0 && <span class="detail"> ({tr.worst.map(([k, n]) => `${k.replace(/_/g, " ")} ${n}`).join(", ")})</span>}
        </dd>
      </div>
      <div class="wide">
        <dt>Last alert</dt>
        <dd data-field="last-alert">{v.lastAlert ? `${clock(v.lastAlert.at)} ${v.lastAlert.text || v.lastAlert.kind}` : "none"}</dd>
      </div>
    </dl>
  );
}

/** The programme on air with its progress, and the next one (a tile and the channel page). */
export function Programmes({ v }: { v: ChannelView }) {
  return (
    <div class="programmes">
      <div class="prog now">
        <span class="label">Now</span>
        <span class="title" data-field="current-title">
          {v.currentItem?.title ?? "No programme"}
        </span>
        {v.currentItem && <ProgrammeProgress item={v.currentItem} timeZone={v.timeZone} />}
      </div>
      <div class="prog next">
        <span class="label">Next</span>
        <span class="title" data-field="next-title">
          {v.nextItem?.title ?? "Nothing scheduled"}
        </span>
        {v.nextItem && <span class="times"> at {clock(v.nextItem.start, v.timeZone)}</span>}
      </div>
    </div>
  );
}
