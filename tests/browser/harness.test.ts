/**
 * The browser harness itself (tests/helpers/browser.ts), against a static page on a loopback
 * server: Chromium starts and leaves no process behind, every request is recorded, a request
 * to another host is aborted and reported, an uncaught page error is reported, console errors
 * are kept, screenshots are PNG files, axe-core runs in the page (under a Content-Security-Policy without inline scripts) and finds what it should.
 */
import { readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  axeViolations,
  closeBrowser,
  launchBrowser,
  openPage,
  screenshot,
  seriousViolations,
  type TestBrowser,
} from "../helpers/browser.js";

const GOOD = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>harness</title></head>
<body><main><h1>Static page</h1><img src="/pixel.svg" alt="a square"><p id="done">ready</p></main></body></html>`;

const FOREIGN = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>foreign</title></head>
<body><main><h1>Foreign</h1><img src="http://example.invalid/x.png" alt="x"></main>
<script>console.error("a console error"); setTimeout(() => { throw new Error("boom in the page"); }, 0);</script></body></html>`;

const NO_ALT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>no alt</title></head>
<body><main><h1>No alt</h1><img src="/pixel.svg"></main></body></html>`;

const CSP = "default-src 'self'; script-src 'self'; img-src 'self'";

const PIXEL = `<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8" fill="navy"/></svg>`;

describe("browser harness", () => {
  let server: Server;
  let base = "";
  let b: TestBrowser | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const pages: Record<string, [string, string]> = {
        "/": ["text/html", GOOD],
        "/foreign": ["text/html", FOREIGN],
        "/no-alt": ["text/html", NO_ALT],
        "/pixel.svg": ["image/svg+xml", PIXEL],
      };
      const p = pages[req.url ?? ""];
      // the console's own policy: no inline script (axe-core must still run)
      res.writeHead(p ? 200 : 404, {
        "content-type": p?.[0] ?? "text/plain",
        ...(req.url === "/foreign" ? {} : { "content-security-policy": CSP }),
      });
      res.end(p?.[1] ?? "not found");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    b = await launchBrowser();
  });

  afterAll(async () => {
    await closeBrowser(b);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it("loads a local page, records its requests and takes a PNG screenshot", async () => {
    const w = await openPage(b!, { baseURL: base });
    await w.page.goto("/");
    await w.page.waitForFunction(
      () => (globalThis as unknown as { document: { images: Array<{ complete: boolean }> } }).document.images[0]?.complete,
    );
    expect(w.requests).toEqual([`${base}/`, `${base}/pixel.svg`]);
    const path = await screenshot(w.page, "harness");
    expect(readFileSync(path).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    rmSync(path);
  });

  it("aborts and reports a request to another host, an uncaught error and console errors", async () => {
    const w = await openPage(b!, { baseURL: base });
    await w.page.goto("/foreign");
    await expect.poll(() => w.pageErrors.length, { timeout: 10_000 }).toBe(1);
    await expect.poll(() => w.foreign, { timeout: 10_000 }).toEqual(["http://example.invalid/x.png"]);
    expect(w.consoleErrors.some((e) => e.startsWith("a console error"))).toBe(true);
    expect(() => w.check()).toThrow(/request to another host: http:\/\/example\.invalid\/x\.png\nuncaught error in the page: Error: boom/);
    // what this test provoked on purpose must not fail it when it finishes
    w.foreign.length = 0;
    w.pageErrors.length = 0;
  });

  it("runs axe-core: a clean page passes, an image without alt text is a critical violation", async () => {
    const w = await openPage(b!, { baseURL: base });
    await w.page.goto("/");
    expect(seriousViolations(await axeViolations(w.page))).toEqual([]);
    await w.page.goto("/no-alt");
    const found = seriousViolations(await axeViolations(w.page));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^critical image-alt: /);
  });
});
