/**
 * Preload for daemon tests (`NODE_OPTIONS=--import <file URL of this module>`, see
 * storeFaultEnv in store-fault.ts): while the file named by ONAIR_TEST_STORE_FAULT_FILE
 * exists, every SQLite statement that writes (INSERT, UPDATE, DELETE, REPLACE) throws
 * better-sqlite3's SqliteError SQLITE_IOERR_WRITE "disk I/O error", as a store on a failing
 * disk does; reads go on. Without the variable it does nothing.
 *
 * It patches the Statement prototype of the better-sqlite3 this repository resolves, the
 * same module instance the daemon's store uses (CommonJS modules are cached by path).
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

const faultFile = process.env.ONAIR_TEST_STORE_FAULT_FILE;
if (faultFile) {
  const require = createRequire(import.meta.url);
  const Database = require("better-sqlite3");
  const probe = new Database(":memory:");
  const proto = Object.getPrototypeOf(probe.prepare("SELECT 1"));
  probe.close();
  const WRITES = /^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i;
  for (const method of ["run", "get", "all", "iterate"]) {
    const original = proto[method];
    proto[method] = function (...args) {
      if (WRITES.test(this.source) && existsSync(faultFile)) throw new Database.SqliteError("disk I/O error", "SQLITE_IOERR_WRITE");
      return original.apply(this, args);
    };
  }
}
