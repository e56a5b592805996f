/**
 * Node runtime settings the daemon relies on.
 *
 * The young generation: V8 starts it small (1 MB semi-spaces) and doubles it, up to 16 MB,
 * each time enough objects have survived scavenges. A playout daemon survives a steady trickle,
 * so after some minutes on air the young generation steps up to 32 MB, and the 64 KB pipe-read
 * buffers (freed only when the scavenge that drops their last reference runs) pile up for longer
 * between scavenges, raising glibc's high-water mark. Measured with the daemon bench (a kill every
 * 10 s): RSS stepped up ~25 MB after 3–5 minutes and stayed there; with the semi-space fixed at
 * 1 MB it stayed flat, 21 MB lower, and the process took ~10× fewer page faults. The size is read
 * once when V8 starts, so it must be on node's command line: `bin/onair.js` passes it in its
 * shebang (used when the file is executed, as the systemd units do).
 */
export const YOUNG_GENERATION_FLAG = "--max-semi-space-size=1";

/** True when node was started with a semi-space cap (on its command line or in NODE_OPTIONS). */
export function youngGenerationCapped(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions = process.env.NODE_OPTIONS ?? "",
): boolean {
  const flagged = (a: string): boolean => /^--max[-_]semi[-_]space[-_]size(=|$)/.test(a);
  return execArgv.some(flagged) || nodeOptions.split(/\s+/).some(flagged);
}
