/** TR 101 290 monitoring of a channel's output: pure, synchronous, no I/O. */
export * from "./tr101290.js";
