/**
 * The console's event stream hub (src/console/stream.ts) on a real HTTP server on
 * 127.0.0.1: SSE framing, the `channels` event on connect, the heartbeat (hand-driven timers),
 * demand on and off, the cap (503 ONAIR_STREAM_LIMIT with Retry-After), a client that does not
 * read being dropped instead of buffered for, and close() ending every stream.
 */
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HEARTBEAT_FRAME, StreamHub, sseFrame, type StreamHubOptions } from "../../src/console/stream.js";
import { sendError, toHttpError } from "../../src/observe/http-respond.js";
import { ManualTimers } from "../helpers/manual-timers.js";
import { until } from "../helpers/pipeline.js";

interface Client {
  res: IncomingMessage;
  text: () => string;
  ended: Promise<void>;
  close: () => void;
}

describe("console event stream", () => {
  let server: Server;
  let port = 0;
  let hub: StreamHub;
  let timers: ManualTimers;
  let demand: boolean[];
  const clients: Client[] = [];

  async function start(over: Partial<StreamHubOptions> = {}): Promise<void> {
    timers = new ManualTimers();
    demand = [];
    hub = new StreamHub({
      maxStreams: 3,
      snapshot: () => ({ channels: [{ id: "a" }], refused: [] }),
      timers,
      onDemand: (on) => demand.push(on),
      ...over,
    });
    server = createServer((req, res) => {
      try {
        hub.open(req, res);
      } catch (e) {
        sendError(res, toHttpError(e));
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  }

  function open(): Promise<Client> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path: "/api/v1/stream", headers: { accept: "text/event-stream" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (text += c));
        const ended = new Promise<void>((r) => {
          res.once("end", r);
          res.once("close", r);
          res.once("error", () => r());
        });
        const c = { res, text: () => text, ended, close: () => req.destroy() };
        clients.push(c);
        resolve(c);
      });
      req.on("error", reject);
      req.end();
    });
  }

  beforeEach(() => {
    clients.length = 0;
  });
  afterEach(async () => {
    for (const c of clients) c.close();
    hub.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("opens with retry and the channel list, then frames each event as event/data lines", async () => {
    await start();
    const c = await open();
    expect(c.res.statusCode).toBe(200);
    expect(c.res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
    expect(c.res.headers["cache-control"]).toBe("no-store");
    const hello = `retry: 2000\n\n${sseFrame("channels", { channels: [{ id: "a" }], refused: [] })}`;
    await until(() => c.text() === hello, 5000, "the opening frames");
    expect(hello).toBe('retry: 2000\n\nevent: channels\ndata: {"channels":[{"id":"a"}],"refused":[]}\n\n');
    hub.send("channel", { id: "a", state: "on_air", note: "two\nlines" });
    await until(() => c.text().length > hello.length, 5000, "the channel event");
    expect(c.text().slice(hello.length)).toBe('event: channel\ndata: {"id":"a","state":"on_air","note":"two\\nlines"}\n\n');
  });

  it("sends a heartbeat comment every 5 s while a stream is open, and tells demand on and off", async () => {
    await start();
    expect(timers.size).toBe(0);
    const c = await open();
    await until(() => c.text().includes("event: channels"), 5000, "the opening frames");
    expect(demand).toEqual([true]);
    expect(timers.delays()).toEqual([5000]);
    const before = c.text().length;
    timers.advance(5000);
    await until(() => c.text().length > before, 5000, "a heartbeat");
    expect(c.text().slice(before)).toBe(HEARTBEAT_FRAME);
    timers.advance(10_000);
    await until(() => c.text().split(": hb\n\n").length === 4, 5000, "two more heartbeats");
    c.close();
    await until(() => hub.size === 0, 5000, "the stream to go");
    expect(demand).toEqual([true, false]);
    expect(timers.size).toBe(0);
  });

  it("refuses a stream over the cap with 503 ONAIR_STREAM_LIMIT and Retry-After", async () => {
    await start({ maxStreams: 2 });
    await open();
    await open();
    const third = await open();
    expect(third.res.statusCode).toBe(503);
    expect(third.res.headers["retry-after"]).toMatch(/^\d+$/);
    await third.ended;
    expect(JSON.parse(third.text())).toMatchObject({ error: { code: "ONAIR_STREAM_LIMIT", maxStreams: 2 } });
    expect(hub.size).toBe(2);
    expect(demand).toEqual([true]);
  });

  it("drops a client that does not read instead of buffering for it", async () => {
    const maxBufferedBytes = 256 * 1024;
    await start({ maxBufferedBytes });
    // a raw client that sends its request and never reads a byte
    const sock: Socket = connect(port, "127.0.0.1");
    await new Promise<void>((r) => sock.once("connect", r));
    sock.pause();
    sock.write(`GET /api/v1/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    const reader = await open(); // one that reads, which must keep its stream
    await until(() => hub.size === 2, 5000, "both streams open");
    const big = { text: "x".repeat(16 * 1024) };
    let sent = 0;
    while (hub.size === 2 && sent < 100 * 1024 * 1024) {
      hub.send("event", big);
      sent += 16 * 1024;
      await new Promise((r) => setImmediate(r));
    }
    expect(hub.size).toBe(1);
    expect(hub.dropped).toBe(1);
    // dropped once the kernel's socket buffers and the limit were full, long before the loop's bound
    expect(sent).toBeLessThan(64 * 1024 * 1024);
    // the server closed its connection: reading what was buffered, the client meets the end
    const closed = new Promise<void>((r) => sock.once("close", () => r()));
    sock.on("error", () => undefined).resume();
    await closed;
    hub.send("event", { text: "still here" });
    await until(() => reader.text().includes("still here"), 10_000, "the reading client's event");
  });

  it("close() ends every stream, stops the heartbeat and refuses new ones", async () => {
    await start();
    const a = await open();
    const b = await open();
    await until(() => hub.size === 2, 5000, "both streams");
    hub.close();
    await Promise.all([a.ended, b.ended]);
    expect(hub.size).toBe(0);
    expect(timers.size).toBe(0);
    const late = await open();
    expect(late.res.statusCode).toBe(503);
  });
});
