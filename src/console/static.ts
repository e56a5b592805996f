/**
 * The console's front end, bundled into dist/web/ by `npm run build` (scripts/build-web.mjs):
 *
 *   GET /, GET /channels/:id   index.html (the page routes itself), `Cache-Control: no-cache`
 *   GET /assets/:file          a bundled file (hashed names): its content type (js, css, svg,
 *                              png, woff2, map) and `Cache-Control: public, max-age=31536000,
 *                              immutable`; any other name is 404 before the file system is
 *                              touched (no `..`, no slash, no other extension), so nothing
 *                              outside dist/web/assets is reachable
 *
 * Every answer carries a Content-Security-Policy that allows only this origin ('self'; plus
 * blob: for media and workers, which hls.js needs, and data: for images),
 * `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` and `X-Frame-Options: DENY`.
 * Not built (no dist/web/index.html): GET / is 503 ONAIR_CONSOLE_NOT_BUILT, saying to run
 * `npm run build`.
 *
 * The folder is found from this module's place: compiled, dist/src/console/static.js →
 * dist/web; run from source (tests), src/console/static.ts → dist/web as well.
 */
import { createReadStream } from "node:fs";
import { open, readFile } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { basename, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { HTTP_ERROR_CODES, HttpError } from "../observe/http-respond.js";
import type { RouteGroup } from "../observe/http-router.js";

export const NOT_BUILT_CODE = "ONAIR_CONSOLE_NOT_BUILT";

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob:",
  "worker-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

/** The headers of every answer of the console's pages and files. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
  svg: "image/svg+xml",
  png: "image/png",
  woff2: "font/woff2",
  map: "application/json; charset=utf-8",
};

const ASSET_RE = /^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*\.(js|css|svg|png|woff2|map)$/;
const IMMUTABLE = "public, max-age=31536000, immutable";

/** dist/web, from this module's place (see the file comment). */
export function defaultWebDir(moduleUrl: string = import.meta.url): string {
  const root = join(dirname(fileURLToPath(moduleUrl)), "..", "..");
  return basename(root) === "dist" ? join(root, "web") : join(root, "dist", "web");
}

function notFound(path: string): HttpError {
  return new HttpError(404, HTTP_ERROR_CODES.notFound, `no console file ${path}`);
}

async function sendIndex(dir: string, res: ServerResponse, head: boolean): Promise<void> {
  let html: Buffer;
  try {
    html = await readFile(join(dir, "index.html"));
  } catch {
    throw new HttpError(
      503,
      NOT_BUILT_CODE,
      "the console is not built: run `npm run build` (it writes dist/web/)",
      {},
      { ...PAGE_HEADERS },
    );
  }
  res.writeHead(200, {
    ...PAGE_HEADERS,
    "content-type": "text/html; charset=utf-8",
    "content-length": String(html.length),
    "cache-control": "no-cache",
  });
  res.end(head ? undefined : html);
}

async function sendAsset(dir: string, file: string, res: ServerResponse, head: boolean, path: string): Promise<void> {
  const m = ASSET_RE.exec(file);
  if (!m) throw notFound(path);
  let fh;
  try {
    fh = await open(join(dir, "assets", file), "r");
  } catch {
    throw notFound(path);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw notFound(path);
    res.writeHead(200, {
      ...PAGE_HEADERS,
      "content-type": CONTENT_TYPES[m[1]],
      "content-length": String(st.size),
      "cache-control": IMMUTABLE,
    });
    if (head || st.size === 0) {
      res.end();
      return;
    }
    await pipeline(createReadStream("", { fd: fh.fd, autoClose: false, start: 0, end: st.size - 1 }), res);
  } finally {
    await fh.close();
  }
}

/** GET /, /channels/:id and /assets/:file from `dir` (default dist/web). */
export function staticRoutes(o: { dir?: string | undefined } = {}): RouteGroup {
  const dir = o.dir ?? defaultWebDir();
  return ({ req, res, path, template, only }) => {
    const head = req.method === "HEAD";
    if ((template === "/" || template === "/channels/:id") && only("GET")) return sendIndex(dir, res, head);
    if (template === "/assets/:file" && only("GET")) return sendAsset(dir, path.slice("/assets/".length), res, head, path);
    return undefined;
  };
}
