/**
 * One channel's SI, kept current: owns the build states (versions) and a carousel, and
 * rebuilds tables when time or data asks for it. The injector calls {@link SiGenerator.next}
 * at every free null slot with the stream's wall time; a call with nothing to rebuild and
 * nothing due costs a few comparisons.
 *
 * Rebuilds: p/f at the instant its content changes by time (item boundaries, "starts in
 * a few seconds"), so a new version is out well within 1 s of a boundary; the schedule
 * every `scheduleRebuildMs` (past segments empty, the window moves at midnight) and on
 * new events; SDT on a service change; TOT at the next DST change and every day.
 */
import { buildSdt, buildTdt, buildTot, type SdtState } from "./build.js";
import { SI_MAX_INTERVAL_MS, SiCarousel, TDT_PERIOD_MS, TOT_PERIOD_MS, type CarouselOptions, type CarouselSlot } from "./carousel.js";
import { buildPresentFollowing, buildSchedule, type EitBuildOptions, type PfState, type ScheduleState } from "./eit-build.js";
import type { SiEvent, SiService } from "./event.js";
import { EIT_PID, SDT_PID, TDT_PID } from "../ts/ids.js";
import { refreshTdt } from "./tdt.js";
import { zoneOffsets } from "./timezone.js";
import { refreshTot } from "./tot.js";

export interface SiGeneratorConfig extends EitBuildOptions {
  service: SiService;
  /** Days of EIT schedule, 1…64 (profile; default 7). */
  scheduleDays?: number;
  /** IANA zone and country code for the TOT; no TOT without them. */
  timeZone?: string;
  countryCode?: string;
  /** Send a TDT (default true). */
  tdt?: boolean;
  /** Schedule rebuild period (default 60 s). */
  scheduleRebuildMs?: number;
  carousel?: CarouselOptions;
}

export class SiGenerator {
  readonly carousel: SiCarousel;
  private config: SiGeneratorConfig;
  private events: readonly SiEvent[];
  private pf: PfState | undefined;
  private schedule: ScheduleState | undefined;
  private sdt: SdtState | undefined;
  private pfDueMs = -Infinity;
  private scheduleDueMs = -Infinity;
  private totDueMs = -Infinity;
  private scheduleKeys: string[] = [];
  /** Events that the last schedule build could not fit (for a metric). */
  droppedEvents = 0;

  constructor(config: SiGeneratorConfig, events: readonly SiEvent[], nowMs: number) {
    this.config = config;
    this.events = events;
    this.carousel = new SiCarousel(config.carousel);
    this.setService(config.service, nowMs);
    if (config.tdt ?? true) {
      this.carousel.set(
        {
          key: "tdt",
          pid: TDT_PID,
          sections: [buildTdt(nowMs)],
          maxIntervalMs: SI_MAX_INTERVAL_MS.tdt,
          periodMs: TDT_PERIOD_MS,
          refresh: refreshTdt,
        },
        nowMs,
      );
    }
    this.update(nowMs);
  }

  /** New or edited events from the schedule store: p/f and schedule are rebuilt now. */
  setEvents(events: readonly SiEvent[], nowMs: number): void {
    this.events = events;
    this.pfDueMs = -Infinity;
    this.scheduleDueMs = -Infinity;
    this.update(nowMs);
  }

  /** Service name, provider or flags changed: SDT (and EIT ids) rebuilt now. */
  setService(service: SiService, nowMs: number): void {
    this.config = { ...this.config, service };
    const r = buildSdt(service, this.sdt, { charset: this.config.charset });
    this.sdt = r.state;
    this.carousel.set({ key: "sdt", pid: SDT_PID, sections: [r.section], maxIntervalMs: SI_MAX_INTERVAL_MS.sdt }, nowMs);
    this.pfDueMs = -Infinity;
    this.scheduleDueMs = -Infinity;
  }

  /** Rebuilds whatever is due at `nowMs`. */
  update(nowMs: number): void {
    const { service } = this.config;
    if (nowMs >= this.pfDueMs) {
      if (service.eitPresentFollowing) {
        const r = buildPresentFollowing(service, this.events, nowMs, this.pf, this.config);
        this.pf = r.state;
        this.carousel.set(
          { key: "eit-pf", pid: EIT_PID, sections: r.sections, maxIntervalMs: SI_MAX_INTERVAL_MS.eitPresentFollowing },
          nowMs,
        );
        this.pfDueMs = r.nextChangeMs ?? Infinity;
      } else {
        this.carousel.remove("eit-pf");
        this.pfDueMs = Infinity;
      }
    }
    if (nowMs >= this.scheduleDueMs) {
      const keys: string[] = [];
      if (service.eitSchedule) {
        const r = buildSchedule(service, this.events, nowMs, this.config.scheduleDays ?? 7, this.schedule, this.config);
        this.schedule = r.state;
        this.droppedEvents = r.dropped;
        for (const t of r.tables) {
          const key = `eit-0x${t.tableId.toString(16)}`;
          keys.push(key);
          this.carousel.set({ key, pid: EIT_PID, sections: t.sections, maxIntervalMs: t.maxIntervalMs }, nowMs);
        }
      }
      for (const k of this.scheduleKeys) if (!keys.includes(k)) this.carousel.remove(k);
      this.scheduleKeys = keys;
      this.scheduleDueMs = nowMs + (this.config.scheduleRebuildMs ?? 60_000);
    }
    if (nowMs >= this.totDueMs) {
      const { timeZone, countryCode } = this.config;
      if (timeZone && countryCode) {
        this.carousel.set(
          {
            key: "tot",
            pid: TDT_PID,
            sections: [buildTot(nowMs, timeZone, countryCode)],
            maxIntervalMs: SI_MAX_INTERVAL_MS.tot,
            periodMs: TOT_PERIOD_MS,
            refresh: refreshTot,
          },
          nowMs,
        );
        const change = zoneOffsets(timeZone, nowMs).changeMs;
        this.totDueMs = Math.min(nowMs + 86_400_000, change ?? Infinity);
      } else {
        this.totDueMs = Infinity;
      }
    }
  }

  /** Rebuilds what is due, then asks the carousel for the section to send now (if any). */
  next(nowMs: number): CarouselSlot | undefined {
    if (nowMs >= this.pfDueMs || nowMs >= this.scheduleDueMs || nowMs >= this.totDueMs) this.update(nowMs);
    return this.carousel.next(nowMs);
  }
}
