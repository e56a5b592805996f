/** Test helpers for channels: a small test profile, a UDP receiver that records arrival times. */
import { createSocket, type Socket } from "node:dgram";
import { validateProfile } from "../../src/config/profile.js";
import type { ChannelProfile } from "../../src/config/profile-schema.js";

export interface TestProfileOptions {
  id?: string;
  udpPort: number;
  input?: unknown;
  extraOutputs?: unknown[];
  epg?: unknown;
  scte35?: unknown;
  restart?: unknown;
}

/** A 320x240 test channel with a 1 s closed GOP, CBR 1.5 Mb/s, short restart backoff. */
export function testProfile(over: TestProfileOptions): ChannelProfile {
  return validateProfile(testProfileInput(over), "test-profile");
}

/** The same profile as authored (what a YAML/JSON profile file holds). */
export function testProfileInput(over: TestProfileOptions): Record<string, unknown> {
  return {
    channel: { id: over.id ?? "t1", name: "Test One" },
    service: { serviceId: 7, transportStreamId: 3, originalNetworkId: 0xff01, name: "Test One", provider: "onair tests" },
    input: over.input ?? { kind: "test", pattern: "testsrc2", toneHz: 440 },
    encoding: {
      mode: "transcode",
      video: { codec: "libx264", width: 320, height: 240, fps: 25, bitrate: "600k", gopSeconds: 1, preset: "ultrafast" },
      audio: { codec: "aac", bitrate: "64k" },
      muxRate: "1500k",
    },
    outputs: [{ kind: "udp", host: "127.0.0.1", port: over.udpPort }, ...(over.extraOutputs ?? [])],
    scte35: over.scte35 ?? { heartbeatSeconds: 0 },
    epg: over.epg ?? { days: 2, language: "eng", timeZone: "Europe/Paris", country: "FRA" },
    restart: over.restart ?? { backoffMinSeconds: 0.1, backoffMaxSeconds: 1, stallTimeoutSeconds: 3 },
    slate: { kind: "generated", color: "navy" },
  };
}

export interface Capture {
  port: number;
  datagrams: Buffer[];
  /** arrival time (performance.now()) of each datagram */
  times: number[];
  /** the largest gap between datagrams from `fromMs` on */
  maxGap(fromMs?: number): number;
  bytes(): Buffer;
  close(): Promise<void>;
}

export async function udpCapture(): Promise<Capture> {
  const sock: Socket = createSocket("udp4");
  const datagrams: Buffer[] = [];
  const times: number[] = [];
  sock.on("message", (m) => {
    datagrams.push(m);
    times.push(performance.now());
  });
  await new Promise<void>((resolve) => sock.bind(0, "127.0.0.1", resolve));
  // a busy test process must not lose datagrams (each loss shows as CC errors on several PIDs)
  sock.setRecvBufferSize(16 * 1024 * 1024);
  return {
    port: sock.address().port,
    datagrams,
    times,
    maxGap(fromMs = Number.NEGATIVE_INFINITY) {
      let max = 0;
      for (let i = 1; i < times.length; i++) if (times[i] >= fromMs) max = Math.max(max, times[i] - times[i - 1]);
      return max;
    },
    bytes: () => Buffer.concat(datagrams),
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
