/**
 * Program Association Table (ISO/IEC 13818-1 §2.4.4.3), PID 0, table_id 0x00.
 * Extension = transport_stream_id; loop of {program_number 16, reserved 3, PID 13};
 * program_number 0 points to the NIT PID, the others to PMT PIDs.
 */
import { OnairError } from "../core/errors.js";
import { TABLE_ID_PAT } from "./ids.js";
import { buildLongSection, checkLongSection, CRC_SIZE, LONG_SECTION_HEADER_SIZE, MAX_PSI_SECTION_LENGTH, PSI_SECTION_CODES } from "./section.js";

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

  /** Serializes the whole section, CRC included. */
  encode(): Uint8Array {
    const body = new Uint8Array(this.programs.length * 4);
    let o = 0;
    for (const p of this.programs) {
      body[o] = (p.programNumber >> 8) & 0xff;
      body[o + 1] = p.programNumber & 0xff;
      body[o + 2] = 0xe0 | ((p.pid >> 8) & 0x1f);
      body[o + 3] = p.pid & 0xff;
      o += 4;
    }
    return buildLongSection(
      {
        tableId: TABLE_ID_PAT,
        privateIndicator: false,
        tableIdExtension: this.transportStreamId,
        versionNumber: this.versionNumber,
        currentNextIndicator: this.currentNextIndicator,
        sectionNumber: this.sectionNumber,
        lastSectionNumber: this.lastSectionNumber,
      },
      body,
    );
  }

  /**
   * Parses a whole PAT section. Throws OnairError ONAIR_TS_BAD_TABLE_ID, ONAIR_TS_TRUNCATED,
   * ONAIR_TS_BAD_SECTION or ONAIR_TS_CRC.
   */
  static decode(bytes: Uint8Array): PatSection {
    const h = checkLongSection(bytes, PAT_SPEC);
    const end = 3 + h.sectionLength - CRC_SIZE;
    if ((end - LONG_SECTION_HEADER_SIZE) % 4 !== 0) {
      throw new OnairError("ONAIR_TS_BAD_SECTION", "PAT program loop is not a multiple of 4 bytes", {
        sectionLength: h.sectionLength,
      });
    }
    const programs: PatProgram[] = [];
    for (let o = LONG_SECTION_HEADER_SIZE; o < end; o += 4) {
      programs.push({ programNumber: (bytes[o] << 8) | bytes[o + 1], pid: ((bytes[o + 2] & 0x1f) << 8) | bytes[o + 3] });
    }
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
