/**
 * `onair demo` (and `npm run demo`): a demo channel from the clear example profile, with
 * its store in a fresh data directory: a generated test source (testsrc2 + tone) with a
 * 7-day demo EPG and a 30 s ad break every 2 minutes, out to udp://127.0.0.1:5000, a
 * rotating recording and live HLS with both marker styles (http://127.0.0.1:9780/hls/demo/index.m3u8).
 * Runs until Ctrl-C.
 */
import type { Command } from "commander";
import { addDaemonOptions, type RunFlags } from "./run.js";

export function registerDemo(program: Command): void {
  addDaemonOptions(
    program.command("demo").description("run the demo channel: test source, 7-day EPG, a break every 2 minutes, UDP on 127.0.0.1:5000"),
  ).action(async (f: RunFlags) => (await import("./demo-actions.js")).demoAction(f));
}
