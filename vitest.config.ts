import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Integration tests spend most of their time waiting on real-time FFmpeg streams and
// sockets (the suite uses under half a core on average): two files at a time halves the
// wall time on the 2-core CI machine and leaves each its share of CPU for the timing checks.
const workers = Math.max(1, Math.min(2, availableParallelism()));

export default defineConfig({
  test: {
    pool: "forks",
    maxWorkers: workers,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: ["tests/unit/**/*.test.ts", "tests/integration/**/*.test.ts", "tests/golden/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        // The console in a real Chromium against a real daemon: one file at a time (a browser,
        // a daemon and its FFmpeg each), in vitest's sequential group, after the node project.
        extends: true,
        test: {
          name: "browser",
          include: ["tests/browser/**/*.test.ts"],
          fileParallelism: false,
          testTimeout: 90_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
