/** A store whose writes fail, for daemon tests: see store-fault.mjs (the preload). */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const preload = pathToFileURL(join(import.meta.dirname, "store-fault.mjs")).href;

/**
 * Environment for startDaemon: the daemon's store writes fail with SQLITE_IOERR_WRITE
 * while `faultFile` exists.
 */
export function storeFaultEnv(faultFile: string): NodeJS.ProcessEnv {
  const before = process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : "";
  return { NODE_OPTIONS: `${before}--import ${preload}`, ONAIR_TEST_STORE_FAULT_FILE: faultFile };
}
