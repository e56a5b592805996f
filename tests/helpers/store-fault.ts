/** A store whose writes fail, for daemon tests: see store-fault.mjs (the preload). */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const preload = pathToFileURL(join(import.meta.dirname, "store-fault.mjs")).href;

/** The SQLite error the store's writes fail with: a failing disk, or a full one. */
export type StoreFaultCode = "SQLITE_IOERR_WRITE" | "SQLITE_FULL";

/**
 * Environment for startDaemon: the daemon's store writes fail with `code` (default
 * SQLITE_IOERR_WRITE) while `faultFile` exists.
 */
export function storeFaultEnv(faultFile: string, code: StoreFaultCode = "SQLITE_IOERR_WRITE"): NodeJS.ProcessEnv {
  const before = process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : "";
  return { NODE_OPTIONS: `${before}--import ${preload}`, ONAIR_TEST_STORE_FAULT_FILE: faultFile, ONAIR_TEST_STORE_FAULT_CODE: code };
}
