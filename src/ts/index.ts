/** Public API of the MPEG-TS core: pure, synchronous, no I/O. */
export * from "./crc32.js";
export * from "./packet.js";
export * from "./reader.js";
export * from "./timestamps.js";
export * from "./pes.js";
export * from "./ids.js";
export * from "./section.js";
export * from "./section-assembler.js";
export * from "./packetizer.js";
export * from "./pat.js";
export * from "./pmt.js";
export * from "./psi-tracker.js";
