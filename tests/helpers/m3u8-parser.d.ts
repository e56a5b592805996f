/** Minimal types for the parts of videojs m3u8-parser (untyped) that tests use. */
declare module "m3u8-parser" {
  export interface M3u8Segment {
    uri: string;
    duration: number;
    timeline: number;
    discontinuity?: boolean;
    programDateTime?: number;
    dateTimeString?: string;
    cueOut?: string;
    cueOutCont?: string;
    cueIn?: string;
    custom?: Record<string, unknown>;
  }
  export interface M3u8DateRange {
    id: string;
    startDate: Date;
    endDate?: Date;
    duration?: number;
    plannedDuration?: number;
    scte35Out?: string;
    scte35In?: string;
  }
  export interface M3u8Manifest {
    version?: number;
    targetDuration?: number;
    mediaSequence?: number;
    discontinuitySequence?: number;
    endList?: boolean;
    playlistType?: string;
    independentSegments?: boolean;
    segments: M3u8Segment[];
    dateRanges: M3u8DateRange[];
    playlists?: Array<{ uri: string; attributes: { BANDWIDTH?: number; CODECS?: string; RESOLUTION?: { width: number; height: number } } }>;
  }
  export class Parser {
    manifest: M3u8Manifest;
    push(chunk: string): void;
    end(): void;
    on(event: "warn" | "info", fn: (e: { message: string }) => void): void;
    addParser(o: { expression: RegExp; customType: string; dataParser?: (line: string) => unknown; segment?: boolean }): void;
  }
}
