/**
 * Preload for daemon crash tests (`NODE_OPTIONS=--import <file URL of this module>`, see
 * crashEnv in crash.ts). When the file named by ONAIR_TEST_CRASH_FILE exists as the process
 * starts, it is removed (the next start runs normally) and, 1.5 s after the process has an
 * FFmpeg child (the daemon on air), a timer throws `new Error(<the file's text>)`: an
 * uncaught exception, as a bug would throw. Without the variable or the file it does
 * nothing.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";

/** True when a child of this process runs ffmpeg (/proc/PID/stat: pid (comm) state ppid …). */
function hasFfmpegChild() {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      if (comm === "ffmpeg" && Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === process.pid) return true;
    } catch {
      // gone meanwhile
    }
  }
  return false;
}

const control = process.env.ONAIR_TEST_CRASH_FILE;
if (control && existsSync(control)) {
  const message = readFileSync(control, "utf8").trim();
  rmSync(control);
  const poll = setInterval(() => {
    if (!hasFfmpegChild()) return;
    clearInterval(poll);
    setTimeout(() => {
      throw new Error(message);
    }, 1500).unref();
  }, 100);
  poll.unref();
}
