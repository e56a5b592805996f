#!/usr/bin/env node
/**
 * `npm run screenshots`: the README's pictures of the console, taken from a live demo.
 *
 * Starts `onair demo` (the built dist/, through bin/onair.js) with a fresh temp data directory
 * and its own HTTP port, opens the console in Debian's Chromium (driven by playwright-core,
 * never a downloaded browser) at 1920x1080, signs in with the demo's token, waits until the
 * wall shows the demo channel on air with its programme and a thumbnail, and writes
 *   docs/console-wall.png      the wall
 *   docs/console-channel.png   the channel page, its player playing
 * then stops the browser and the daemon and removes the data directory.
 *
 * Options: --http HOST:PORT (or ONAIR_SCREENSHOTS_HTTP; default 127.0.0.1:0, a free port),
 * --out DIR (default docs/ of the repository).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
// the same browser and switches as the tests (tests/helpers/browser.ts)
const CHROMIUM_PATH = "/usr/lib/chromium/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
const CHANNEL = "demo";
const START_TIMEOUT_MS = 60_000;
const VIEW_TIMEOUT_MS = 60_000;

const { values: flags } = parseArgs({
  options: { http: { type: "string" }, out: { type: "string" } },
  strict: true,
});
const http = flags.http ?? process.env.ONAIR_SCREENSHOTS_HTTP ?? "127.0.0.1:0";
const outDir = flags.out ?? join(root, "docs");

function say(line) {
  process.stderr.write(`screenshots: ${line}\n`);
}

function versions() {
  const pw = JSON.parse(readFileSync(require.resolve("playwright-core/package.json"), "utf8")).version;
  let chrome;
  try {
    chrome = execFileSync(CHROMIUM_PATH, ["--version"], { encoding: "utf8", timeout: 10_000 }).trim();
  } catch (e) {
    chrome = `${CHROMIUM_PATH} --version failed: ${String(e.message).split("\n")[0]}`;
  }
  return `playwright-core ${pw}, ${chrome}`;
}

/** Starts `onair demo`; resolves with its URL once it listens. */
function startDemo(dataDir) {
  const config = join(dataDir, "onair.yaml");
  writeFileSync(config, "log:\n  level: info\nconsole:\n  enabled: true\n");
  const child = spawn(process.execPath, [join(root, "bin", "onair.js"), "demo", "--data-dir", dataDir, "--http", http], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ONAIR_CONFIG: config },
  });
  let out = "";
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the demo did not listen within ${START_TIMEOUT_MS / 1000} s:\n${out.slice(-3000)}`)),
      START_TIMEOUT_MS,
    );
    const look = (chunk) => {
      out += chunk.toString();
      // the daemon's log line when its HTTP server listens
      const m = /"event":"http_listening","url":"(http:\/\/[^"]+)"/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on("data", look);
    child.stderr.on("data", look);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited (${code ?? signal}) before listening:\n${out.slice(-3000)}`));
    });
  });
  return { child, url, exited, log: () => out };
}

async function stopDemo(demo) {
  if (demo.child.exitCode !== null || demo.child.signalCode !== null) return;
  demo.child.kill("SIGTERM");
  const timer = setTimeout(() => demo.child.kill("SIGKILL"), 20_000);
  await demo.exited;
  clearTimeout(timer);
}

/** Fails when the page loads anything from another host (the console must not). */
function guardRequests(context, foreign) {
  const local = (url) => {
    const u = new URL(url);
    return u.protocol === "data:" || u.protocol === "blob:" || ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname);
  };
  context.on("request", (r) => {
    if (!local(r.url())) foreign.push(r.url());
  });
  return context.route(
    (u) => !local(u.href),
    (route) => route.abort("blockedbyclient"),
  );
}

async function signIn(page, base, token) {
  await page.goto(`${base}/`);
  const form = page.locator('form[action="/sign-in"]');
  if (!(await form.isVisible())) await page.getByRole("button", { name: /sign in/i }).click();
  await form.locator('input[name="token"]').fill(token);
  await form.locator('input[name="token"]').press("Enter");
  const deadline = Date.now() + 10_000;
  for (;;) {
    const s = await (await page.context().request.get(`${base}/api/v1/session`)).json();
    if (s.signedIn) return;
    if (Date.now() > deadline) throw new Error("the sign-in with the demo's token did not give a session");
    await page.waitForTimeout(200);
  }
}

/** Waits for `fn(arg)` to be true in the page; a timeout names what was awaited and what the page showed. */
async function waitFor(page, what, fn, arg, polling) {
  try {
    await page.waitForFunction(fn, arg, { timeout: VIEW_TIMEOUT_MS, polling });
  } catch (e) {
    const seen = await page
      .evaluate(() => {
        const v = document.querySelector('video[data-field="player"]');
        const player = v
          ? `player: readyState ${v.readyState}, currentTime ${v.currentTime.toFixed(1)}, paused ${v.paused}, error ${v.error?.message ?? "none"}, buffered ${[
              ...Array(v.buffered.length).keys(),
            ]
              .map((i) => `${v.buffered.start(i).toFixed(1)}-${v.buffered.end(i).toFixed(1)}`)
              .join(" ")}\n`
          : "";
        return `${player}${document.querySelector("main")?.innerText ?? "(no main element)"}`;
      })
      .catch((err) => `(${err.message})`);
    throw new Error(
      `${what}: not within ${VIEW_TIMEOUT_MS / 1000} s (${e.message.split("\n")[0]}); the page showed:\n${seen.slice(0, 1500)}`,
    );
  }
}

async function shootWall(page, base, file) {
  await page.goto(`${base}/`);
  await waitFor(
    page,
    `the wall showing ${CHANNEL} on air with its programme and a thumbnail`,
    (sel) => {
      const t = document.querySelector(sel);
      const img = t?.querySelector('img[data-field="thumbnail"]');
      const title = t?.querySelector('[data-field="current-title"]')?.textContent?.trim();
      return t?.getAttribute("data-state") === "on_air" && img?.complete && img.naturalWidth > 0 && Boolean(title);
    },
    `[data-channel="${CHANNEL}"]`,
    250,
  );
  await page.screenshot({ path: file, animations: "disabled", caret: "hide" });
}

async function shootChannel(page, base, file) {
  await page.goto(`${base}/channels/${CHANNEL}`);
  await waitFor(
    page,
    "the channel page's player playing",
    () => {
      const v = document.querySelector('video[data-field="player"]');
      if (!v || v.readyState < 2) return false;
      // playing: the time went on since the last look
      const last = Number(v.dataset.screenshotLastTime ?? "-1");
      v.dataset.screenshotLastTime = String(v.currentTime);
      return last >= 0 && v.currentTime > last + 0.5;
    },
    undefined,
    1000,
  );
  await page.evaluate(() => delete document.querySelector('video[data-field="player"]').dataset.screenshotLastTime);
  await page.screenshot({ path: file, animations: "disabled", caret: "hide" });
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), "onair-screenshots-"));
  let demo;
  let browser;
  try {
    demo = startDemo(dataDir);
    const base = await demo.url;
    say(`demo listening on ${base}`);
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
    } catch (e) {
      throw new Error(`cannot launch Chromium (${versions()}): ${e.message}`);
    }
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1, serviceWorkers: "block" });
    const foreign = [];
    await guardRequests(context, foreign);
    const page = await context.newPage();
    const token = readFileSync(join(dataDir, "api.token"), "utf8").trim().split("\n")[0].split(":").slice(1).join(":");
    await signIn(page, base, token);
    mkdirSync(outDir, { recursive: true });
    const wall = join(outDir, "console-wall.png");
    const channel = join(outDir, "console-channel.png");
    await shootWall(page, base, wall);
    say(`wrote ${wall}`);
    await shootChannel(page, base, channel);
    say(`wrote ${channel}`);
    if (foreign.length) throw new Error(`the console loaded from other hosts: ${foreign.join(", ")}`);
  } finally {
    await browser?.close();
    if (demo) await stopDemo(demo);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  say(e instanceof Error ? e.message : String(e));
  process.exitCode = 1;
});
