import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Integration tests spend most of their time waiting on real-time FFmpeg streams and
// sockets (the suite uses under half a core on average): two files at a time halves the
// wall time on the 2-core CI machine and leaves each its share of CPU for the timing checks.
const workers = Math.max(1, Math.min(2, availableParallelism()));

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: workers,
    reporters: ["default"],
  },
});
