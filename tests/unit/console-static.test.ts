/**
 * The console's front-end files (src/console/static.ts) through the real router on a real
 * HTTP server: the page at / and /channels/:id, hashed assets with their content types and a
 * year of immutable caching, the security headers, no way out of the assets folder, and
 * 503 ONAIR_CONSOLE_NOT_BUILT when dist/web was not built.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CONTENT_SECURITY_POLICY, defaultWebDir, staticRoutes } from "../../src/console/static.js";
import { sendError, toHttpError } from "../../src/observe/http-respond.js";
import { route } from "../../src/observe/http-router.js";

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A request with the path sent exactly as written (fetch would normalize `..`). */
function get(port: number, path: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("console static files", () => {
  let dir = "";
  let server: Server;
  let port = 0;

  async function serve(webDir: string): Promise<void> {
    const groups = [staticRoutes({ dir: webDir })];
    server = createServer((req, res) => {
      route(groups, req, res, { template: "" }).catch((e: unknown) => sendError(res, toHttpError(e)));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    port = (server.address() as AddressInfo).port;
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "onair-static-"));
    mkdirSync(join(dir, "web", "assets"), { recursive: true });
    writeFileSync(join(dir, "web", "index.html"), "<!doctype html><title>onair</title>");
    for (const f of ["app-3f9a1c.js", "app-3f9a1c.css", "logo.svg", "icon-16.png", "inter-latin.woff2", "app-3f9a1c.js.map"]) {
      writeFileSync(join(dir, "web", "assets", f), `content of ${f}`);
    }
    writeFileSync(join(dir, "web", "secret.js"), "not an asset");
    writeFileSync(join(dir, "secret.txt"), "outside");
  });
  afterEach(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves the page at / and /channels/:id, not cached, with the security headers", async () => {
    await serve(join(dir, "web"));
    for (const path of ["/", "/channels/news"]) {
      const a = await get(port, path);
      expect(a.status, path).toBe(200);
      expect(a.body.toString()).toBe("<!doctype html><title>onair</title>");
      expect(a.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(a.headers["cache-control"]).toBe("no-cache");
      expect(a.headers["content-security-policy"]).toBe(CONTENT_SECURITY_POLICY);
      expect(a.headers["x-content-type-options"]).toBe("nosniff");
      expect(a.headers["referrer-policy"]).toBe("no-referrer");
      expect(a.headers["x-frame-options"]).toBe("DENY");
    }
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("media-src 'self' blob:");
    expect(CONTENT_SECURITY_POLICY).toContain("worker-src 'self' blob:");
    expect(CONTENT_SECURITY_POLICY).toContain("img-src 'self' data:");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe|\*/);
    const head = await get(port, "/", "HEAD");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
  });

  it("serves assets with their content type and a year of immutable caching", async () => {
    await serve(join(dir, "web"));
    const types: Record<string, string> = {
      "app-3f9a1c.js": "text/javascript; charset=utf-8",
      "app-3f9a1c.css": "text/css; charset=utf-8",
      "logo.svg": "image/svg+xml",
      "icon-16.png": "image/png",
      "inter-latin.woff2": "font/woff2",
      "app-3f9a1c.js.map": "application/json; charset=utf-8",
    };
    for (const [file, type] of Object.entries(types)) {
      const a = await get(port, `/assets/${file}`);
      expect(a.status, file).toBe(200);
      expect(a.headers["content-type"], file).toBe(type);
      expect(a.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(a.headers["x-content-type-options"]).toBe("nosniff");
      expect(a.body.toString()).toBe(`content of ${file}`);
    }
    expect((await get(port, "/assets/missing-123.js")).status).toBe(404);
  });

  it("refuses every way out of the assets folder and every other kind of file", async () => {
    await serve(join(dir, "web"));
    for (const path of [
      "/assets/..%2Fsecret.js",
      "/assets/..%2F..%2Fsecret.txt",
      "/assets/%2e%2e%2fsecret.js",
      "/assets/../secret.js",
      "/assets/../../secret.txt",
      "/assets/.hidden.js",
      "/assets/index.html",
      "/assets/app.txt",
      "/assets/sub/app.js",
      "/assets/%00.js",
      "/secret.js",
      "/index.html",
    ]) {
      const a = await get(port, path);
      expect(a.status, path).toBe(404);
      expect(a.body.toString(), path).not.toContain("not an asset");
      expect(a.body.toString(), path).not.toContain("outside");
    }
  });

  it("answers 503 ONAIR_CONSOLE_NOT_BUILT when the front end was not built", async () => {
    await serve(join(dir, "nothing-here"));
    const a = await get(port, "/");
    expect(a.status).toBe(503);
    const body = JSON.parse(a.body.toString()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("ONAIR_CONSOLE_NOT_BUILT");
    expect(body.error.message).toContain("npm run build");
    expect((await get(port, "/assets/app-3f9a1c.js")).status).toBe(404);
  });

  it("finds dist/web from the compiled module and from the source alike", () => {
    expect(defaultWebDir("file:///opt/onair/dist/src/console/static.js")).toBe("/opt/onair/dist/web");
    expect(defaultWebDir("file:///work/onair/src/console/static.ts")).toBe("/work/onair/dist/web");
  });
});
