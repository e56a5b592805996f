/**
 * DVB SI for the injector: codecs (SDT, EIT, TDT, TOT, descriptors, text, time), builders
 * from the channel's service and events, and the carousel that paces them.
 * Pure and synchronous: time comes in as arguments; output is sections (Uint8Array).
 */
export * from "./text.js";
export * from "./time.js";
export * from "./descriptors.js";
export * from "./eit.js";
export * from "./sdt.js";
export * from "./tdt.js";
export * from "./tot.js";
export * from "./timezone.js";
export * from "./event.js";
export * from "./eit-build.js";
export * from "./build.js";
export * from "./carousel.js";
export * from "./generator.js";
