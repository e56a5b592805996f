/**
 * GET /hls/<channel>/<file>: the live HLS output's files, read-only, no token (issue #21).
 *
 * Contract:
 * - Only `index.m3u8`, `master.m3u8` and `seg<N>.ts` of a channel that has an hls output are
 *   served; any other name (`..`, an encoded slash, `state.json`, a temporary file) is 404
 *   before the file system is touched, so nothing outside the channel's folder is reachable.
 * - Playlists: `application/vnd.apple.mpegurl`, `Cache-Control: no-cache`. Segments:
 *   `video/mp2t`, `Cache-Control: public, max-age=<how long a segment is listed and kept>,
 *   immutable` (a segment name is never reused while the folder lives).
 * - Files are streamed from an open descriptor (never read whole on the request path); a
 *   file gone between listing and request is 404. HEAD answers the headers only.
 */
import { createReadStream } from "node:fs";
import type { ServerResponse } from "node:http";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { HTTP_ERROR_CODES, HttpError } from "./http-respond.js";
import type { RouteGroup } from "./http-router.js";

/** Where a channel's HLS files are, and how long a segment may be cached. */
export interface HlsSource {
  dir: string;
  /** seconds a segment stays listed and on disk: its Cache-Control max-age */
  maxAgeSeconds: number;
}

/** The channel's hls output, undefined when it has none (404). */
export type HlsLookup = (channel: string) => HlsSource | undefined;

const FILE_RE = /^(?:index\.m3u8|master\.m3u8|seg\d{1,15}\.ts)$/;
const CHANNEL_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;

function notFound(path: string): HttpError {
  return new HttpError(404, HTTP_ERROR_CODES.notFound, `no HLS file ${path}`);
}

/** The route group of /hls/:channel/:file. */
export function hlsRoutes(lookup: HlsLookup | undefined): RouteGroup {
  return ({ req, res, path, template, only }) => {
    if (template !== "/hls/:channel/:file" || !only("GET")) return undefined;
    const [, , channel, file] = path.split("/");
    if (!lookup || !CHANNEL_RE.test(channel) || !FILE_RE.test(file)) throw notFound(path);
    const source = lookup(channel);
    if (!source) throw notFound(path);
    const playlist = file.endsWith(".m3u8");
    const headers = playlist
      ? { "content-type": "application/vnd.apple.mpegurl", "cache-control": "no-cache" }
      : { "content-type": "video/mp2t", "cache-control": `public, max-age=${Math.round(source.maxAgeSeconds)}, immutable` };
    return serveFile(join(source.dir, file), headers, req.method === "HEAD", res, path);
  };
}

async function serveFile(file: string, headers: Record<string, string>, head: boolean, res: ServerResponse, path: string): Promise<void> {
  let fh;
  try {
    fh = await open(file, "r");
  } catch {
    throw notFound(path);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notFound(path);
    res.writeHead(200, { ...headers, "content-length": String(st.size) });
    if (head) {
      res.end();
      return;
    }
    // the descriptor stays valid after a rename or unlink: the reader gets the whole file
    await pipeline(createReadStream("", { fd: fh.fd, autoClose: false, start: 0, end: Math.max(0, st.size - 1) }), res);
  } finally {
    await fh.close();
  }
}
