/**
 * Keeps README.md true:
 * - every `onair …` / `npx onair …` command line in its shell code blocks (and in inline
 *   code spans that start with `onair `) names a real command path, and every long flag it
 *   uses is in that command's `--help` (the built CLI, bin/onair.js);
 * - the error-code table lists exactly the codes the source emits (both ways);
 * - every ONAIR_ environment variable the README names is read by the source or scripts.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../helpers/cli.js";

const README = readFileSync(join(repoRoot, "README.md"), "utf8");
const SHELL_FENCES = new Set(["", "sh", "bash", "shell", "console"]);
const GLOBAL_FLAGS = new Set(["--help", "--version", "--debug"]);

// ── README parsing ────────────────────────────────────────────────────────────

/** Lines of the fenced shell blocks (continuation lines joined), with their README line numbers. */
function shellLines(md: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = md.split("\n");
  let fence: string | null = null;
  let pending = "";
  let pendingLine = 0;
  lines.forEach((raw, i) => {
    const m = /^```\s*([\w-]*)/.exec(raw);
    if (m) {
      fence = fence === null ? m[1] : null;
      return;
    }
    if (fence === null || !SHELL_FENCES.has(fence)) return;
    if (pending === "") pendingLine = i + 1;
    if (raw.endsWith("\\")) {
      pending += raw.slice(0, -1) + " ";
      return;
    }
    out.push({ line: pendingLine, text: pending + raw });
    pending = "";
  });
  return out;
}

/** Inline code spans that are an onair command line (`onair …`, `npx onair …`, `sudo … onair …`). */
function inlineCommands(md: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let inFence = false;
  md.split("\n").forEach((raw, i) => {
    if (raw.startsWith("```")) inFence = !inFence;
    if (inFence) return;
    for (const m of raw.matchAll(/`([^`]+)`/g)) {
      // table cells escape pipes inside code spans
      const span = m[1].replace(/\\\|/g, "|");
      if (/^(sudo (-u \S+ )?)?(npx )?onair \S/.test(span)) out.push({ line: i + 1, text: span });
    }
  });
  return out;
}

/** Strips a shell comment (a `#` at the start of a word, outside quotes). */
function stripComment(s: string): string {
  let q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === q) q = null;
    } else if (c === "'" || c === '"') q = c;
    else if (c === "#" && (i === 0 || /\s/.test(s[i - 1]))) return s.slice(0, i);
  }
  return s;
}

/**
 * The onair invocations in a shell line: for each simple command (split at `|`, `&&`, `||`,
 * `;`, `$(`, `(`), when the command word — after `sudo [-u USER]`, `VAR=value`
 * assignments, `npx` or `node` — is onair, the words after it.
 */
function onairInvocations(text: string): string[][] {
  const found: string[][] = [];
  for (const seg of stripComment(text).split(/\|\||&&|\$\(|[|;()]/)) {
    const words = seg
      .trim()
      .split(/\s+/)
      .filter((w) => w !== "");
    let i = 0;
    for (;;) {
      const w = words[i];
      if (w === undefined) break;
      if (w === "sudo") {
        i++;
        while (words[i]?.startsWith("-")) i += words[i] === "-u" || words[i] === "-g" ? 2 : 1;
      } else if (/^[A-Z_][A-Z0-9_]*=/.test(w) || w === "npx" || w === "node") i++;
      else break;
    }
    const cmd = words[i];
    if (cmd === "onair" || (cmd !== undefined && /(^|\/)bin\/onair\.js$/.test(cmd))) found.push(words.slice(i + 1));
  }
  return found;
}

// ── the CLI's help ────────────────────────────────────────────────────────────

// The help texts come from the build that bin/onair.js runs (dist/src/cli/program.js), loaded
// once in this process: one child process per command path would take tens of seconds. A
// test below checks that the real `node bin/onair.js … --help` lists the same flags.
const mainJs = join(repoRoot, "dist", "src", "cli", "program.js");
let programP: Promise<Command> | undefined;

function program(): Promise<Command> {
  programP ??= (import(pathToFileURL(mainJs).href) as Promise<{ buildProgram: () => Command }>).then((m) => m.buildProgram());
  return programP;
}

async function help(path: string[]): Promise<string> {
  let cmd = await program();
  for (const name of path) {
    const sub = cmd.commands.find((c) => c.name() === name);
    if (!sub) throw new Error(`no command onair ${path.join(" ")}`);
    cmd = sub;
  }
  return cmd.helpInformation();
}

const flagsOf = (text: string): string[] => [...new Set([...text.matchAll(/(?:^|[\s,])(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]))].sort();

/** Subcommand names listed under "Commands:" in a help text. */
function subcommands(helpText: string): Set<string> {
  const names = new Set<string>();
  const at = helpText.indexOf("\nCommands:\n");
  if (at < 0) return names;
  for (const line of helpText.slice(at + 11).split("\n")) {
    if (!line.startsWith("  ")) break;
    const m = /^ {2}([a-z][a-z0-9-]*)\b/.exec(line);
    if (m) names.add(m[1]);
  }
  return names;
}

function hasFlag(helpText: string, flag: string): boolean {
  return new RegExp(`(^|[\\s,])${flag.replace(/-/g, "\\-")}(?=[\\s,=<\\[]|$)`, "m").test(helpText);
}

/** Problems with one invocation: an unknown command path or flags its --help does not list. */
async function checkInvocation(args: string[]): Promise<string[]> {
  const path: string[] = [];
  let i = 0;
  for (;;) {
    const subs = subcommands(await help(path));
    const w = args[i];
    if (subs.size === 0) break;
    if (w !== undefined && subs.has(w)) {
      path.push(w);
      i++;
      continue;
    }
    if (w === "…" || w === "..." || (w !== undefined && GLOBAL_FLAGS.has(w))) return [];
    return [`onair ${[...path, w ?? ""].join(" ").trim()}: ${w === undefined ? "a subcommand is missing" : `"${w}" is not a command`}`];
  }
  const text = await help(path);
  const problems: string[] = [];
  for (const w of args.slice(i)) {
    const m = /^\[?(--[a-z][a-z0-9-]*)/.exec(w);
    if (!m || GLOBAL_FLAGS.has(m[1])) continue;
    if (!hasFlag(text, m[1])) problems.push(`onair ${path.join(" ")}: no option ${m[1]}`);
  }
  return problems;
}

// ── source scanning ───────────────────────────────────────────────────────────

function filesUnder(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p, ext));
    else if (ext.test(e.name)) out.push(p);
  }
  return out;
}

/** Source text without block comments that start a line and without `//` comment lines. */
function codeOnly(text: string): string {
  return text.replace(/^\s*\/\*[\s\S]*?\*\//gm, "").replace(/^\s*\/\/.*$/gm, "");
}

// The catalogue (src/core/error-codes.ts) names every code without emitting any: it is left
// out here, and tests/unit/error-codes.test.ts checks it against the same table.
const catalogue = join(repoRoot, "src", "core", "error-codes.ts");
const sources = [...filesUnder(join(repoRoot, "src"), /\.ts$/).filter((f) => f !== catalogue), join(repoRoot, "bin", "onair.js")].map((f) =>
  codeOnly(readFileSync(f, "utf8")),
);
const scripts = [...filesUnder(join(repoRoot, "scripts"), /\.sh$/), ...filesUnder(join(repoRoot, "systemd"), /\.sh$/)].map((f) =>
  readFileSync(f, "utf8"),
);

/** ONAIR_ variables the code reads: `env.X` / `env["X"]` in src, `${X` / `$X` in the scripts. */
function envVarsRead(): Set<string> {
  const vars = new Set<string>();
  for (const s of sources) for (const m of s.matchAll(/\benv(?:\.|\[")(ONAIR_[A-Z0-9_]+)/g)) vars.add(m[1]);
  for (const s of scripts) for (const m of s.matchAll(/\$\{?(ONAIR_[A-Z0-9_]+)/g)) vars.add(m[1]);
  return vars;
}

/**
 * Stable error codes the code emits: string literals that are a whole code (`"ONAIR_X"`),
 * and `ONAIR_X: ` message prefixes (`onair: ONAIR_NOT_BUILT: …`, the scripts' messages).
 * A literal that names an environment variable counts only where it is thrown
 * (`OnairError("ONAIR_X"`), since such names are also used as labels.
 */
function codesEmitted(envVars: Set<string>): Set<string> {
  const codes = new Set<string>();
  for (const s of sources) {
    for (const m of s.matchAll(/["'`](ONAIR_[A-Z0-9_]*[A-Z0-9])["'`]/g)) {
      const thrown = new RegExp(`OnairError\\(\\s*"${m[1]}"`).test(s);
      if (!envVars.has(m[1]) || thrown) codes.add(m[1]);
    }
    for (const m of s.matchAll(/\b(ONAIR_[A-Z0-9_]*[A-Z0-9]): /g)) codes.add(m[1]);
  }
  for (const s of scripts) for (const m of s.matchAll(/\b(ONAIR_[A-Z0-9_]*[A-Z0-9]): /g)) codes.add(m[1]);
  return codes;
}

/** The codes in the README's "### Error codes" table (first column). */
function readmeCodeTable(md: string): Set<string> {
  const start = md.indexOf("\n### Error codes\n");
  expect(start, "README has a '### Error codes' section").toBeGreaterThan(0);
  const rest = md.slice(start + 1);
  const end = rest.slice(1).search(/\n#{2,3} /);
  const section = end < 0 ? rest : rest.slice(0, end + 1);
  const codes = new Set<string>();
  for (const line of section.split("\n")) {
    if (!line.startsWith("| `ONAIR_")) continue;
    const first = line.split("|")[1];
    for (const m of first.matchAll(/`(ONAIR_[A-Z0-9_]+)`/g)) codes.add(m[1]);
  }
  return codes;
}

// ── tests ─────────────────────────────────────────────────────────────────────

describe("README.md", () => {
  const commandLines = [...shellLines(README), ...inlineCommands(README)];
  const invocations = commandLines.flatMap(({ line, text }) => onairInvocations(text).map((args) => ({ line, text, args })));

  it("has onair command lines to check (the extractor finds them)", () => {
    expect(invocations.length).toBeGreaterThan(40);
    expect(invocations.some((v) => v.args[0] === "profile" && v.args[1] === "seal")).toBe(true);
    expect(invocations.some((v) => v.text.startsWith("sudo -u onair onair backup"))).toBe(true);
    // not commands: the unit name and systemctl's argument
    expect(onairInvocations("sudo systemctl reload onair && journalctl -u onair -f")).toEqual([]);
    expect(onairInvocations('npx onair scte35 decode "$CUE" | npx onair scte35 encode --hex # back')).toEqual([
      ["scte35", "decode", '"$CUE"'],
      ["scte35", "encode", "--hex"],
    ]);
  });

  it("reads the same help as the CLI prints (node bin/onair.js … --help)", async () => {
    for (const path of [[], ["profile", "seal"], ["asrun", "export"]]) {
      const r = await runCli([...path, "--help"], { timeoutMs: 30_000 });
      expect(r.code).toBe(0);
      expect(flagsOf(r.stdout)).toEqual(flagsOf(await help(path)));
    }
  });

  it("every onair command line names a real command and only flags its --help lists", async () => {
    const problems = (
      await Promise.all(
        invocations.map(async (v) => (await checkInvocation(v.args)).map((p) => `README.md:${v.line}: ${p}  (${v.text.trim()})`)),
      )
    ).flat();
    expect(problems).toEqual([]);
  });

  it("catches a command line that does not work (the check can fail)", async () => {
    expect(await checkInvocation(["profile", "seal", "x.yaml", "--key-file", "k", "--no-such-flag"])).toEqual([
      "onair profile seal: no option --no-such-flag",
    ]);
    expect(await checkInvocation(["profile", "unseal", "x.onair"])).toHaveLength(1);
    expect(await checkInvocation(["schedule"])).toHaveLength(1);
    expect(await checkInvocation(["backup", "--to", "/tmp/b", "--keep", "3"])).toEqual([]);
  });

  it("lists exactly the error codes the source emits", () => {
    const table = readmeCodeTable(README);
    const emitted = codesEmitted(envVarsRead());
    expect(emitted.size).toBeGreaterThan(50);
    expect([...table].filter((c) => !emitted.has(c)).sort(), "in the README table but not emitted by src/, bin/ or scripts/").toEqual([]);
    expect(
      [...emitted].filter((c) => !table.has(c)).sort(),
      "emitted by the source but missing from the README's error-code table",
    ).toEqual([]);
  });

  it("names only ONAIR_ environment variables the code reads, and every ONAIR_ name is a code or a variable", () => {
    const vars = envVarsRead();
    const codes = codesEmitted(vars);
    const envSection = README.slice(README.indexOf("\n## Environment variables\n"));
    const envTable = envSection.slice(0, envSection.slice(1).search(/\n## /) + 1);
    const named = new Set([...envTable.matchAll(/`(ONAIR_[A-Z0-9_]+)`/g)].map((m) => m[1]));
    expect(named.size).toBeGreaterThan(5);
    expect([...named].filter((v) => !vars.has(v)).sort(), "environment variables in the README that nothing reads").toEqual([]);
    const everywhere = new Set([...README.matchAll(/\b(ONAIR_[A-Z0-9_]*[A-Z0-9])\b/g)].map((m) => m[1]));
    expect([...everywhere].filter((n) => !vars.has(n) && !codes.has(n)).sort(), "ONAIR_ names in the README that are neither").toEqual([]);
  });
});
