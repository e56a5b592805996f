/** A daemon that throws once it is on air, for crash tests: see crash-preload.mjs. */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const preload = pathToFileURL(join(import.meta.dirname, "crash-preload.mjs")).href;

/**
 * Environment for startDaemon: while `controlFile` exists at a start, that process throws
 * an uncaught Error (the file's text) 1.5 s after its first FFmpeg started.
 */
export function crashEnv(controlFile: string): NodeJS.ProcessEnv {
  const before = process.env.NODE_OPTIONS ? `${process.env.NODE_OPTIONS} ` : "";
  return { NODE_OPTIONS: `${before}--import ${preload}`, ONAIR_TEST_CRASH_FILE: controlFile };
}
