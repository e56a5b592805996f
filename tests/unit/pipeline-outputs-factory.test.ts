/**
 * createOutput: every output kind of the profile schema builds its output, named as the logs
 * and metrics name it, from the profile entry and the channel's context.
 */
import pino from "pino";
import { describe, expect, it } from "vitest";
import { createOutput, FileOutput, SrtOutput, StdoutOutput, UdpOutput, type OutputConfig } from "../../src/pipeline/outputs/index.js";

const context = { logger: pino({ level: "silent" }), ffmpegPath: "/usr/bin/ffmpeg" };

describe("createOutput (the output factory)", () => {
  it("builds each kind from its profile entry, with the name the logs and metrics use", async () => {
    const configs: OutputConfig[] = [
      { kind: "udp", host: "127.0.0.1", port: 5000, ttl: 4, packetsPerDatagram: 7 },
      { kind: "srt", mode: "caller", host: "10.0.0.2", port: 9000, latencyMs: 200 },
      { kind: "file", path: "/tmp/onair-factory-%H.ts", rotateSeconds: 3600, keep: 3 },
      { kind: "stdout" },
    ];
    const outs = configs.map((c) => createOutput(c, context));
    try {
      expect(outs.map((o) => o.constructor)).toEqual([UdpOutput, SrtOutput, FileOutput, StdoutOutput]);
      expect(outs.map((o) => [o.stats.kind, o.name])).toEqual([
        ["udp", "udp://127.0.0.1:5000"],
        ["srt", "srt://10.0.0.2:9000"],
        ["file", "file:/tmp/onair-factory-%H.ts"],
        ["stdout", "stdout"],
      ]);
      expect((outs[1] as SrtOutput).url).toBe("srt://10.0.0.2:9000?mode=caller&latency=200000&pkt_size=1316");
    } finally {
      // nothing was opened: closing releases only what the constructors took (stdout's listener)
      await Promise.all(outs.map((o) => o.close()));
    }
  });
});
