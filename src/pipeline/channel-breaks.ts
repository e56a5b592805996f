/**
 * A channel's scheduled breaks, handed to the injector ahead of time: on each look (at start
 * and on the channel's break timer), every break of the schedule due in (now, now + horizon]
 * (default 10 min) — the schedule's own break rows and the breaks inside its items (items
 * that started up to a day ago included) — is added to the injector at its wall time, once
 * per channel run.
 */
import type { Logger } from "pino";
import type { Clock } from "../core/clock.js";
import { TICKS } from "../inject/planner.js";
import type { Store } from "../store/db.js";
import type { CueTarget } from "./channel-cues.js";

/** How far back items are looked at for breaks inside them. */
const ITEM_LOOKBACK_MS = 86_400_000;

export interface ScheduleBreaksOptions {
  channel: string;
  store: Pick<Store, "listBreaks" | "listItems">;
  clock: Clock;
  target: Pick<CueTarget, "addBreakAtWall">;
  log: Logger;
  /** default 10 min */
  horizonMs?: number | undefined;
  /** a store read failed */
  storeError: (err: unknown, what: string) => void;
}

interface DueBreak {
  startMs: number;
  durationMs: number;
  breakId?: string | undefined;
}

export class ScheduleBreaks {
  /** `startMs:breakId` of the breaks handed over in this run */
  private readonly handed = new Set<string>();

  constructor(private readonly o: ScheduleBreaksOptions) {}

  /** Hands the breaks of the coming horizon to the injector, once each. */
  refresh(): void {
    const now = this.o.clock.now();
    const horizon = now + (this.o.horizonMs ?? 600_000);
    let list: DueBreak[];
    try {
      list = this.lookup(now, horizon);
    } catch (err) {
      this.o.storeError(err, "break lookup");
      return;
    }
    for (const b of list) {
      if (b.startMs <= now || b.startMs > horizon) continue;
      const key = `${b.startMs}:${b.breakId ?? ""}`;
      if (this.handed.has(key)) continue;
      this.handed.add(key);
      this.o.target.addBreakAtWall(b.startMs, Math.round((b.durationMs / 1000) * TICKS), b.breakId);
      this.o.log.info({ event: "break_scheduled", startMs: b.startMs, durationMs: b.durationMs, breakId: b.breakId });
    }
  }

  private lookup(now: number, horizon: number): DueBreak[] {
    const { store, channel } = this.o;
    const list: DueBreak[] = [...store.listBreaks(channel, now, horizon)];
    for (const item of store.listItems(channel, now - ITEM_LOOKBACK_MS, horizon)) {
      for (const b of item.breaks) list.push({ startMs: item.startMs + b.offsetMs, durationMs: b.durationMs, breakId: b.breakId });
    }
    return list;
  }
}
