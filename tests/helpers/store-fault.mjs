/**
 * Preload for daemon tests (`NODE_OPTIONS=--import <file URL of this module>`, see
 * storeFaultEnv in store-fault.ts): while the file named by ONAIR_TEST_STORE_FAULT_FILE
 * exists, every SQLite statement that writes (INSERT, UPDATE, DELETE, REPLACE) throws
 * better-sqlite3's SqliteError with the code ONAIR_TEST_STORE_FAULT_CODE and SQLite's own
 * message for it, as a store on a failing disk does; reads go on. Codes:
 * - SQLITE_IOERR_WRITE (the default): "disk I/O error", a failing disk;
 * - SQLITE_FULL: "database or disk is full", a full disk (SQLite cannot grow the database
 *   or its WAL, so every write fails while reads go on).
 * Without ONAIR_TEST_STORE_FAULT_FILE it does nothing.
 *
 * It patches the Statement prototype of the better-sqlite3 this repository resolves, the
 * same module instance the daemon's store uses (CommonJS modules are cached by path).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

/** SQLite's message for each code (sqlite3_errstr). */
const MESSAGES = { SQLITE_IOERR_WRITE: "disk I/O error", SQLITE_FULL: "database or disk is full" };

const faultFile = process.env.ONAIR_TEST_STORE_FAULT_FILE;
const code = process.env.ONAIR_TEST_STORE_FAULT_CODE || "SQLITE_IOERR_WRITE";
if (faultFile) {
  const message = MESSAGES[code];
  if (!message) throw new Error(`store-fault.mjs: unknown ONAIR_TEST_STORE_FAULT_CODE ${code}`);
  const require = createRequire(import.meta.url);
  const Database = require("better-sqlite3");
  const probe = new Database(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("SELECT 1"));
  probe.close();
  const WRITES = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;
  for (const method of ["run", "get", "all", "iterate"]) {
    const original = proto[method];
    proto[method] = function (...args) {
      if (WRITES.test(this.source) && existsSync(faultFile)) throw new Database.SqliteError(message, code);
      return original.apply(this, args);
    };
  }
}
