/**
 * Real-browser helpers for the console's tests: Debian's Chromium driven by playwright-core
 * (never a downloaded browser), one browser per test file.
 *
 * - `launchBrowser()` starts Chromium headless and finds its process group; `closeBrowser()`
 *   closes it and waits until no process of that group is left.
 * - `openPage()` opens a fresh context and page (inside a test): every request URL is
 *   recorded; a request to a host other than 127.0.0.1/localhost is aborted and fails the
 *   test, as an uncaught page error does (checked when the test finishes, when the page is
 *   closed too). Console errors are kept for the test to read.
 * - `screenshot()` writes a PNG to a temp directory (or the directory given).
 * - `axeViolations()` runs axe-core in the page (past its Content-Security-Policy).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { onTestFinished } from "vitest";
import { childPids, until } from "./pipeline.js";

export const CHROMIUM_PATH = "/usr/lib/chromium/chromium";
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];

const require = createRequire(import.meta.url);

/** playwright-core's and Chromium's versions, for a launch failure's message. */
export function browserVersions(): string {
  const pw = (JSON.parse(readFileSync(require.resolve("playwright-core/package.json"), "utf8")) as { version: string }).version;
  let chrome: string;
  try {
    chrome = execFileSync(CHROMIUM_PATH, ["--version"], { encoding: "utf8", timeout: 10_000 }).trim();
  } catch (e) {
    chrome = `${CHROMIUM_PATH} --version failed: ${(e as Error).message.split("\n")[0]}`;
  }
  return `playwright-core ${pw}, ${chrome}`;
}

export interface TestBrowser {
  browser: Browser;
  /** the Chromium main process (leader of its process group) */
  pid: number;
}

function isChromium(pid: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === CHROMIUM_PATH;
  } catch {
    return false;
  }
}

/** Pids of live processes in process group `pgid` (from /proc). */
function processGroup(pgid: number): number[] {
  const out: number[] = [];
  for (const pid of readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(Number)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (rest[0] !== "Z" && Number(rest[2]) === pgid) out.push(pid);
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/** Starts headless Chromium; a failure names both versions. */
export async function launchBrowser(): Promise<TestBrowser> {
  const before = new Set(childPids());
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
  } catch (e) {
    throw new Error(`cannot launch Chromium (${browserVersions()}): ${(e as Error).message}`);
  }
  // playwright starts Chromium detached, as the leader of its own process group
  const pid = childPids().find((p) => !before.has(p) && isChromium(p));
  if (pid === undefined) {
    await browser.close();
    throw new Error("Chromium started but its process was not found among this process's children");
  }
  return { browser, pid };
}

/** Closes the browser and waits until no process of its group is left. */
export async function closeBrowser(b: TestBrowser | undefined): Promise<void> {
  if (!b) return;
  await b.browser.close();
  await until(() => processGroup(b.pid).length === 0, 10_000, `Chromium's processes (group ${b.pid}) to end`);
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** every request URL, in order */
  requests: string[];
  /** requests to another host than 127.0.0.1/localhost (aborted) */
  foreign: string[];
  /** console.error messages, with their source */
  consoleErrors: string[];
  /** uncaught exceptions in the page */
  pageErrors: string[];
  /** Throws when a request went elsewhere or the page threw. */
  check(): void;
  close(): Promise<void>;
}

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** True for a URL the console may load: this machine, or data:/blob: made in the page. */
export function isLocalUrl(url: string): boolean {
  try {
    const u = new URL(url);
    if (u.protocol === "data:" || u.protocol === "blob:") return true;
    return (u.protocol === "http:" || u.protocol === "https:" || u.protocol === "ws:") && LOCAL_HOSTS.has(u.hostname);
  } catch {
    return false;
  }
}

export interface PageOptions {
  viewport?: { width: number; height: number };
  deviceScaleFactor?: number;
  /** the test's base URL: page.goto("/…") resolves against it */
  baseURL?: string;
  /** how long an action or a locator's read waits for its element (default 10 s) */
  actionTimeoutMs?: number;
}

/**
 * A fresh context and page. Inside a test, the page is checked (see `check`) and closed when
 * the test finishes; outside one (a script), call `check()` and `close()` yourself.
 */
export async function openPage(b: TestBrowser, opts: PageOptions = {}): Promise<WatchedPage> {
  const context = await b.browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    deviceScaleFactor: opts.deviceScaleFactor ?? 1,
    ...(opts.baseURL ? { baseURL: opts.baseURL } : {}),
    serviceWorkers: "block",
  });
  const w: WatchedPage = {
    page: undefined as unknown as Page,
    context,
    requests: [],
    foreign: [],
    consoleErrors: [],
    pageErrors: [],
    check() {
      const problems = [
        ...w.foreign.map((u) => `request to another host: ${u}`),
        ...w.pageErrors.map((e) => `uncaught error in the page: ${e}`),
      ];
      if (problems.length) {
        const errors = w.consoleErrors.length ? `\nconsole errors:\n  ${w.consoleErrors.join("\n  ")}` : "";
        throw new Error(`${problems.join("\n")}${errors}`);
      }
    },
    close: () => context.close(),
  };
  context.on("request", (r) => {
    const url = r.url();
    w.requests.push(url);
    if (!isLocalUrl(url)) w.foreign.push(url);
  });
  // nothing leaves the machine, even when the page tries (the request above still fails the test)
  await context.route(
    (url) => !isLocalUrl(url.href),
    (route) => route.abort("blockedbyclient"),
  );
  // a locator's read or click waits this long for its element: short enough for a failing
  // expect.poll to say so within its own timeout; navigations keep 30 s
  context.setDefaultTimeout(opts.actionTimeoutMs ?? 10_000);
  context.setDefaultNavigationTimeout(30_000);
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") w.consoleErrors.push(`${m.text()} (${m.location().url})`);
  });
  page.on("pageerror", (e) => w.pageErrors.push(e.stack ?? e.message));
  w.page = page;
  try {
    onTestFinished(async () => {
      await context.close();
      w.check();
    });
  } catch {
    // not inside a test: the caller checks and closes
  }
  return w;
}

/**
 * The directory tests write screenshots to: one per user under the temp directory, each run
 * overwriting the same names, so the latest run's pictures are there to look at and none pile up.
 */
export function screenshotDir(): string {
  const dir = join(tmpdir(), `onair-console-shots-${process.getuid?.() ?? "user"}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/** A PNG of the page (the viewport) as `<dir>/<name>.png`; returns its path. */
export async function screenshot(page: Page, name: string, dir: string = screenshotDir()): Promise<string> {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, animations: "disabled", caret: "hide" });
  return path;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: string[];
}

/** axe-core's violations on the page as it is now (axe injected from node_modules). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  // evaluated through the DevTools protocol: the console's Content-Security-Policy (script-src
  // 'self') rightly refuses an inline <script>, and the page is checked as it is served
  await page.evaluate(readFileSync(require.resolve("axe-core/axe.min.js"), "utf8"));
  return page.evaluate(async () => {
    interface AxeResult {
      violations: Array<{ id: string; impact: string | null; help: string; nodes: Array<{ target: unknown[]; failureSummary?: string }> }>;
    }
    const axe = (globalThis as unknown as { axe: { run(opts: object): Promise<AxeResult> } }).axe;
    const r = await axe.run({ resultTypes: ["violations"] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${JSON.stringify(n.target)}: ${n.failureSummary ?? ""}`),
    }));
  });
}

/** The serious and critical ones, one block per rule, for a failure message. */
export function seriousViolations(all: AxeViolation[]): string[] {
  return all
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 5).join("\n    ")}`);
}
