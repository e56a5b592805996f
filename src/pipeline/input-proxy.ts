/**
 * A local HTTP proxy that keeps an http/hls input's credentials out of FFmpeg's argv.
 *
 * Anything in argv is readable by every local user (`ps`, /proc/PID/cmdline). FFmpeg 5.1/6.x
 * take an input URL and its `-headers` only from argv, so a URL with `user:password@` or a
 * query (tokens) is not given to FFmpeg: FFmpeg reads `http://onair:TOKEN@127.0.0.1:PORT/PATH`
 * instead, and this proxy forwards each request to the origin with the URL's credentials.
 * FFmpeg still does everything else itself (its own demuxer, with its timestamp
 * discontinuity handling; reconnects; HLS playlists and segments), so the input behaves as
 * with `-i URL`.
 *
 * Contracts:
 * - Listens on 127.0.0.1 only and answers only requests that carry its per-start random
 *   token (HTTP Basic, user `onair`); argv shows that token, never the origin's
 *   credentials, host or query.
 * - Paths map one to one (`/PATH` → origin `/PATH`), so playlist-relative URIs resolve to
 *   the origin; a request for the input's own path without a query gets the URL's query.
 * - The origin's user and password go as a preemptive `Authorization: Basic` header, and
 *   only to the origin's host (Digest is not supported). Status, body and the headers a
 *   player needs are relayed; an origin that cannot be reached is a 502, logged with its
 *   error code.
 * - An https origin's certificate is verified (Node's CA store, plus NODE_EXTRA_CA_CERTS),
 *   as credentials go to it; FFmpeg 5.1 on its own does not verify.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

/** Request headers passed on to the origin. */
const FORWARD_REQUEST = ["range", "user-agent", "accept", "icy-metadata", "if-range"];
/** Response headers passed back to FFmpeg. */
const FORWARD_RESPONSE = [
  "content-type",
  "content-length",
  "content-range",
  "accept-ranges",
  "location",
  "last-modified",
  "etag",
  "cache-control",
];

export interface InputProxyLog {
  warn(o: Record<string, unknown>): void;
}

/** True when a URL carries something FFmpeg's argv must not show: userinfo or a query. */
export function needsInputProxy(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false; // not a URL WHATWG can read: FFmpeg gets it as written (and will refuse it)
  }
  return u.username !== "" || u.password !== "" || u.search !== "";
}

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

function pick(headers: IncomingHttpHeaders, names: readonly string[]): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const n of names) {
    const v = headers[n];
    if (v !== undefined) out[n] = v;
  }
  return out;
}

export class InputProxy {
  private readonly origin: URL;
  private readonly originAuth: string | undefined;
  private readonly token = randomBytes(18).toString("base64url");
  private readonly expected: Buffer;
  private readonly server: http.Server;
  private readonly agent: http.Agent;
  private port = 0;

  constructor(
    url: string,
    private readonly log?: InputProxyLog,
  ) {
    const u = new URL(url);
    this.originAuth = u.username || u.password ? basic(decodeURIComponent(u.username), decodeURIComponent(u.password)) : undefined;
    u.username = "";
    u.password = "";
    this.origin = u;
    this.expected = Buffer.from(basic("onair", this.token));
    this.agent = new (u.protocol === "https:" ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 8 });
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  /** Listens on 127.0.0.1 (a free port). */
  async start(): Promise<void> {
    if (this.server.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** The URL to give FFmpeg: the local proxy, the origin's path, no query. */
  get url(): string {
    return `http://onair:${this.token}@127.0.0.1:${this.port}${this.origin.pathname}`;
  }

  /** Stops listening and drops open connections. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    this.agent.destroy();
    await closed;
  }

  /** A redirect to the origin's host stays on the proxy (with its token); others are left as they are. */
  private local(to: URL): string {
    if (to.origin !== this.origin.origin) return to.href;
    return `http://onair:${this.token}@127.0.0.1:${this.port}${to.pathname}${to.search}`;
  }

  private authorized(req: IncomingMessage): boolean {
    const got = Buffer.from(req.headers.authorization ?? "");
    return got.length === this.expected.length && timingSafeEqual(got, this.expected);
  }

  /** The origin URL for a request path (`/PATH?QUERY`). */
  private target(path: string): URL {
    const t = new URL(path, this.origin);
    if (t.pathname === this.origin.pathname && t.search === "") t.search = this.origin.search;
    return t;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    if (!this.authorized(req)) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="onair input"' }).end();
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    const target = this.target(req.url ?? "/");
    const headers = pick(req.headers, FORWARD_REQUEST);
    if (this.originAuth && target.host === this.origin.host) headers.authorization = this.originAuth;
    const client = target.protocol === "https:" ? https : http;
    const up = client.request(target, { method: req.method, headers, agent: this.agent }, (ur) => {
      const out = pick(ur.headers, FORWARD_RESPONSE);
      if (typeof out.location === "string") out.location = this.local(new URL(out.location, target));
      res.writeHead(ur.statusCode ?? 502, out);
      ur.pipe(res);
      ur.on("error", () => res.destroy());
    });
    up.on("error", (e: NodeJS.ErrnoException) => {
      this.log?.warn({ event: "input_proxy_error", error: e.code ?? "EIO", message: "the input's origin could not be reached" });
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    });
    // FFmpeg gone (or reconnecting) before the end: the origin request goes too
    res.on("close", () => {
      if (!res.writableFinished) up.destroy();
    });
    up.end();
  }
}
