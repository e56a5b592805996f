/**
 * A part of the daemon that runs beside the channels: started once the channels were started,
 * closed (in the shutdown's order, daemon.ts) after the channels stopped. The backup scheduler
 * and the disk watch are parts; so is any housekeeping added later (a retention prune, backup
 * copies): make one with `part(...)` and add it to the daemon's `housekeeping` list.
 */
export interface Part {
  /** named in the shutdown's log lines */
  readonly name: string;
  start(): void;
  /** stops it and waits for work under way */
  close(): void | Promise<void>;
}

/** A part from a start and a close function. */
export function part(name: string, start: () => void, close: () => void | Promise<void>): Part {
  return { name, start, close };
}
