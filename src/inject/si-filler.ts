/**
 * The DVB SI carousel as an injector slot filler: SDT actual, EIT p/f and schedule, TDT
 * and TOT written into the stream's free null packets at the TS 101 211 rates.
 *
 * - Tables come from a {@link SiGenerator} (versions, rebuild moments, carousel pacing).
 * - Each section is packetized once per version: packets are cached by the section's
 *   identity (the generator hands back the same Uint8Array while the content is the
 *   same). TDT/TOT are rewritten at send time (`dynamic`) and packetized then (one or two
 *   packets every few seconds).
 * - One continuity counter per PID (0x11, 0x12, 0x14). They continue from the input's
 *   last CC on that PID, so taking over FFmpeg's SDT does not look like a CC error.
 * - A section in progress is finished before the carousel is asked for the next one.
 * - Events come from an injected source (the schedule store) for [now − 1 day, now + days),
 *   loaded at start and every `refreshMs` (default 1 min); never a query per packet.
 * - Service fields: given (the profile), or taken from the input: transport_stream_id and
 *   program_number (= service_id) from its PAT, original_network_id and provider name from
 *   its SDT (FFmpeg's), the channel id as service name. Nothing is sent before the PAT is
 *   seen; after it the input's SDT is awaited for up to `sdtWaitMs` (FFmpeg sends one
 *   every 0.5 s, usually before the PAT).
 *
 * The injector calls {@link SiSlotFiller.observe} with the input's PAT and SI packets
 * (before they become null slots) and {@link SiSlotFiller.fill} at every free null slot.
 */
import type { CarouselOptions, CarouselTableStats } from "../si/carousel.js";
import { SdtSection } from "../si/sdt.js";
import type { SiEvent, SiService } from "../si/event.js";
import { SiGenerator } from "../si/generator.js";
import type { DvbCharset } from "../si/text.js";
import { EIT_PID, PAT_PID, SDT_PID, TABLE_ID_SDT_ACTUAL, TDT_PID } from "../ts/ids.js";
import { continuityCounter, hasPayload } from "../ts/packet.js";
import { ContinuityCounter, packetizeSections } from "../ts/packetizer.js";
import { PatSection } from "../ts/pat.js";
import { SectionAssembler } from "../ts/section-assembler.js";
import type { SlotFiller } from "./injector.js";

const DAY_MS = 86_400_000;

/** The identifying and descriptive fields of the service (the profile's `service`). */
export interface SiServiceFields {
  serviceId: number;
  transportStreamId: number;
  originalNetworkId: number;
  serviceName: string;
  providerName: string;
  /** service_type (default 0x01 digital TV). */
  serviceType?: number;
}

/** Events of the channel overlapping [fromMs, toMs), sorted by start. */
export type SiEventSource = (fromMs: number, toMs: number) => readonly SiEvent[];

export interface SiFillerEvent {
  event: string;
  [k: string]: unknown;
}

export interface SiFillerOptions {
  /** Channel id: the service name when no service fields are given. */
  channel: string;
  /** Service fields (profile). Without them they are read from the input (see above). */
  service?: SiServiceFields | undefined;
  events: SiEventSource;
  /** Send EIT p/f and schedule (profile `epg.enabled`, default true). */
  eit?: boolean;
  /** Days of EIT schedule (default 7). */
  scheduleDays?: number;
  charset?: DvbCharset;
  /** IANA zone and ISO 3166 alpha-3 country for the TOT; no TOT without both. */
  timeZone?: string | undefined;
  countryCode?: string | undefined;
  /** Program to describe when reading the input's PAT (default: the first). */
  programNumber?: number;
  /** Event reload period (default 60 s of stream wall time). */
  refreshMs?: number;
  /** How long after the PAT to wait for the input's SDT (default 1000 ms). */
  sdtWaitMs?: number;
  carousel?: CarouselOptions;
  /** EIT p/f "starts in a few seconds" lead (default 30 s, 0 = off). */
  startsSoonMs?: number;
  onEvent?: (e: SiFillerEvent) => void;
}

export interface SiFillerStats {
  /** "profile", "input", or undefined before the tables started. */
  serviceSource: "profile" | "input" | undefined;
  service: SiService | undefined;
  /** Wall time at which the first table went out (ms), or undefined. */
  startedAtMs: number | undefined;
  packets: number;
  sections: number;
  /** Sections packetized (once per version; dynamic TDT/TOT each time). */
  packetizations: number;
  eventLoads: number;
  eventChanges: number;
  events: number;
  droppedEvents: number;
  tables: CarouselTableStats[];
}

interface InputSdt {
  transportStreamId: number;
  originalNetworkId: number;
  services: { serviceId: number; providerName: string | undefined; serviceName: string | undefined }[];
}

/** SI tables from the schedule, written into null slots by the injector. */
export class SiSlotFiller implements SlotFiller {
  readonly replacesPids: readonly number[] = [SDT_PID, EIT_PID, TDT_PID];

  private readonly opts: SiFillerOptions;
  private readonly counters: ContinuityCounter[] = [];
  /** Our first packet on a PID written: the input's CC no longer matters. */
  private readonly owned: boolean[] = [];
  private readonly cache = new WeakMap<Uint8Array, Uint8Array[]>();
  private readonly patAsm: SectionAssembler;
  private sdtAsm: SectionAssembler | undefined;

  private generator: SiGenerator | undefined;
  private service: SiService | undefined;
  private serviceSource: "profile" | "input" | undefined;
  private pat: { transportStreamId: number; programNumber: number } | undefined;
  private patWallMs = -1;
  private inputSdt: InputSdt | undefined;

  private current: Uint8Array[] | undefined;
  private cursor = 0;
  private currentCounter: ContinuityCounter | undefined;
  private lastWallMs = 0;

  private nextRefreshMs = Infinity;
  private eventsKey = "";
  private startedAtMs: number | undefined;
  private packets = 0;
  private sections = 0;
  private packetizations = 0;
  private eventLoads = 0;
  private eventChanges = 0;
  private eventCount = 0;
  /** Nothing on now nor to come in the window at the last load (`epg_empty` / `epg_filled` on a change). */
  private empty = false;

  constructor(opts: SiFillerOptions) {
    this.opts = opts;
    for (const p of this.replacesPids) {
      this.counters[p] = new ContinuityCounter();
      this.owned[p] = false;
    }
    this.patAsm = new SectionAssembler(PAT_PID, { onSection: (s) => this.onPat(s) });
    if (!opts.service) this.sdtAsm = new SectionAssembler(SDT_PID, { onSection: (s) => this.onInputSdt(s) });
  }

  /** The generator (tables, carousel) once started. */
  get siGenerator(): SiGenerator | undefined {
    return this.generator;
  }

  stats(): SiFillerStats {
    return {
      serviceSource: this.serviceSource,
      service: this.service,
      startedAtMs: this.startedAtMs,
      packets: this.packets,
      sections: this.sections,
      packetizations: this.packetizations,
      eventLoads: this.eventLoads,
      eventChanges: this.eventChanges,
      events: this.eventCount,
      droppedEvents: this.generator?.droppedEvents ?? 0,
      tables: this.generator?.carousel.stats() ?? [],
    };
  }

  observe(src: Uint8Array, off: number, pid: number): void {
    if (pid === PAT_PID) {
      this.patAsm.push(src, off);
      return;
    }
    // continue the input's CC on a PID we take over, until our first packet there
    if (this.owned[pid] === false && hasPayload(src, off)) this.counters[pid].set(continuityCounter(src, off));
    if (pid === SDT_PID && this.sdtAsm) this.sdtAsm.push(src, off);
  }

  fill(dst: Uint8Array, off: number, _nowPcr: number, wallMs: number): boolean {
    const cur = this.current;
    if (cur !== undefined) {
      this.write(dst, off, cur[this.cursor++]);
      if (this.cursor === cur.length) this.current = undefined;
      return true;
    }
    const gen = this.generator ?? this.start(wallMs);
    if (gen === undefined) return false;
    this.lastWallMs = wallMs;
    if (wallMs >= this.nextRefreshMs) this.refresh(gen, wallMs);
    const slot = gen.next(wallMs);
    if (slot === undefined) return false;
    let pkts: Uint8Array[] | undefined;
    if (slot.dynamic) {
      pkts = packetizeSections(slot.section, slot.pid);
      this.packetizations++;
    } else {
      pkts = this.cache.get(slot.section);
      if (pkts === undefined) {
        pkts = packetizeSections(slot.section, slot.pid);
        this.cache.set(slot.section, pkts);
        this.packetizations++;
      }
    }
    this.sections++;
    this.currentCounter = this.counters[slot.pid];
    this.owned[slot.pid] = true;
    this.write(dst, off, pkts[0]);
    if (pkts.length > 1) {
      this.current = pkts;
      this.cursor = 1;
    }
    return true;
  }

  private write(dst: Uint8Array, off: number, pkt: Uint8Array): void {
    dst.set(pkt, off);
    this.currentCounter!.stamp(dst, off);
    this.packets++;
  }

  private emit(e: SiFillerEvent): void {
    this.opts.onEvent?.(e);
  }

  private onPat(bytes: Uint8Array): void {
    let pat: PatSection;
    try {
      pat = PatSection.decode(bytes);
    } catch {
      return;
    }
    const want = this.opts.programNumber;
    const prog = pat.programs.find((p) => p.programNumber !== 0 && (want === undefined || p.programNumber === want));
    if (!prog) return;
    const next = { transportStreamId: pat.transportStreamId, programNumber: prog.programNumber };
    const prev = this.pat;
    this.pat = next;
    if (prev && prev.transportStreamId === next.transportStreamId && prev.programNumber === next.programNumber) return;
    if (this.opts.service) {
      if (next.programNumber !== this.opts.service.serviceId || next.transportStreamId !== this.opts.service.transportStreamId) {
        this.emit({
          event: "si_service_mismatch",
          patProgramNumber: next.programNumber,
          patTransportStreamId: next.transportStreamId,
          serviceId: this.opts.service.serviceId,
          transportStreamId: this.opts.service.transportStreamId,
        });
      }
    } else if (prev && this.generator && this.service) {
      // the input's PAT changed (a restarted encoder with other ids): follow it
      this.service = { ...this.service, serviceId: next.programNumber, transportStreamId: next.transportStreamId };
      this.generator.setService(this.service, this.lastWallMs);
      this.emit({ event: "si_service_changed", serviceId: next.programNumber, transportStreamId: next.transportStreamId });
    }
  }

  private onInputSdt(bytes: Uint8Array): void {
    if (this.inputSdt || bytes[0] !== TABLE_ID_SDT_ACTUAL) return;
    try {
      const sdt = SdtSection.decode(bytes);
      this.inputSdt = {
        transportStreamId: sdt.transportStreamId,
        originalNetworkId: sdt.originalNetworkId,
        services: sdt.services.map((s) => {
          const d = s.descriptors.find((x) => x.kind === "service");
          return {
            serviceId: s.serviceId,
            providerName: d?.kind === "service" ? d.serviceProviderName : undefined,
            serviceName: d?.kind === "service" ? d.serviceName : undefined,
          };
        }),
      };
    } catch {
      // a broken input SDT: fall back to defaults after sdtWaitMs
    }
  }

  /** Builds the generator once the service is known; undefined while waiting. */
  private start(wallMs: number): SiGenerator | undefined {
    this.lastWallMs = wallMs;
    const fields = this.opts.service ?? this.serviceFromInput(wallMs);
    if (!fields) return undefined;
    const eit = this.opts.eit ?? true;
    this.service = {
      serviceId: fields.serviceId,
      transportStreamId: fields.transportStreamId,
      originalNetworkId: fields.originalNetworkId,
      serviceName: fields.serviceName,
      providerName: fields.providerName,
      serviceType: fields.serviceType ?? 0x01,
      eitSchedule: eit,
      eitPresentFollowing: eit,
      runningStatus: 4,
    };
    this.serviceSource = this.opts.service ? "profile" : "input";
    this.sdtAsm = undefined;
    const events = this.loadEvents(wallMs);
    this.eventsKey = JSON.stringify(events);
    this.generator = new SiGenerator(
      {
        service: this.service,
        scheduleDays: this.opts.scheduleDays ?? 7,
        timeZone: this.opts.timeZone,
        countryCode: this.opts.countryCode,
        charset: this.opts.charset,
        startsSoonMs: this.opts.startsSoonMs,
        carousel: this.opts.carousel,
      },
      events,
      wallMs,
    );
    this.nextRefreshMs = wallMs + (this.opts.refreshMs ?? 60_000);
    this.startedAtMs = wallMs;
    this.emit({ event: "si_started", source: this.serviceSource, ...this.service, events: events.length, wallMs });
    return this.generator;
  }

  private serviceFromInput(wallMs: number): SiServiceFields | undefined {
    const pat = this.pat;
    if (!pat) return undefined;
    if (this.patWallMs < 0) this.patWallMs = wallMs;
    const sdt = this.inputSdt;
    if (!sdt && wallMs - this.patWallMs < (this.opts.sdtWaitMs ?? 1000)) return undefined;
    const entry = sdt?.services.find((s) => s.serviceId === pat.programNumber) ?? sdt?.services[0];
    if (!sdt) this.emit({ event: "si_no_input_sdt", waitedMs: wallMs - this.patWallMs });
    return {
      serviceId: pat.programNumber,
      transportStreamId: pat.transportStreamId,
      // FFmpeg's default when the input carries no SDT
      originalNetworkId: sdt?.originalNetworkId ?? 0xff01,
      serviceName: this.opts.channel,
      providerName: entry?.providerName || "onair",
      serviceType: 0x01,
    };
  }

  private loadEvents(wallMs: number): readonly SiEvent[] {
    const days = this.opts.scheduleDays ?? 7;
    const events = this.opts.events(wallMs - DAY_MS, wallMs + days * DAY_MS);
    this.eventLoads++;
    this.eventCount = events.length;
    // what a receiver's EPG shows: no present and no following event is an empty guide
    const empty = !events.some((ev) => ev.startMs + ev.durationSec * 1000 > wallMs);
    if (empty !== this.empty) {
      this.empty = empty;
      this.emit({ event: empty ? "epg_empty" : "epg_filled", days, wallMs });
    }
    return events;
  }

  private refresh(gen: SiGenerator, wallMs: number): void {
    this.nextRefreshMs = wallMs + (this.opts.refreshMs ?? 60_000);
    const events = this.loadEvents(wallMs);
    const key = JSON.stringify(events);
    if (key === this.eventsKey) return;
    this.eventsKey = key;
    this.eventChanges++;
    gen.setEvents(events, wallMs);
  }
}
