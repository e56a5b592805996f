#!/usr/bin/env node
// Builds the operator console (web/, Preact + TypeScript) into dist/web/:
//   1. type-checks web/ with its own tsconfig (DOM lib, Preact JSX): `tsc -p web/tsconfig.json`
//      (skip with --no-typecheck),
//   2. bundles it with esbuild: ESM, code splitting (the channel page is its own chunk, and hls.js
//      another that only the channel page's player imports), minified, no source maps, content-
//      hashed names under dist/web/assets/,
//   3. writes dist/web/index.html from web/index.html with the entry's script and stylesheet
//      (no inline script or style: the console runs under a strict CSP),
//   4. prints every asset's size and gzip -9 size, and the totals of the wall page (/) and of a
//      channel's page (/channels/:id); fails if the wall would load hls.js.
// Called by scripts/setup.sh after tsc, and by `npm run build`.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const webDir = join(root, "web");
const outDir = join(root, "dist", "web");
const assetsDir = join(outDir, "assets");
const PUBLIC_ASSETS = "/assets";
const CHANNEL_PAGE_SOURCE = "web/src/channel/ChannelPage.tsx";
const HLS_SOURCE = /node_modules\/hls\.js\//;

function typecheck() {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  try {
    execFileSync(process.execPath, [tsc, "-p", join(webDir, "tsconfig.json"), "--noEmit"], { cwd: root, stdio: "inherit" });
  } catch {
    console.error("build-web: web/ has type errors (tsc -p web/tsconfig.json)");
    process.exit(1);
  }
}

async function bundle() {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(assetsDir, { recursive: true });
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { main: "web/src/main.tsx" },
    outdir: assetsDir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "browser",
    target: ["chrome109", "firefox115", "safari16"],
    minify: true,
    sourcemap: false,
    legalComments: "eof",
    jsx: "automatic",
    jsxImportSource: "preact",
    tsconfig: join(webDir, "tsconfig.json"),
    entryNames: "[name]-[hash]",
    chunkNames: "chunk-[hash]",
    assetNames: "[name]-[hash]",
    publicPath: PUBLIC_ASSETS,
    define: { "process.env.NODE_ENV": '"production"' },
    metafile: true,
    logLevel: "warning",
  });
  return result.metafile;
}

/** The output files a page loads: an output and everything it imports statically, transitively. */
function closure(outputs, start) {
  const seen = new Set();
  const walk = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const o = outputs[file];
    if (o.cssBundle) seen.add(o.cssBundle);
    for (const i of o.imports) if (i.kind === "import-statement" && outputs[i.path]) walk(i.path);
  };
  walk(start);
  return seen;
}

function findOutput(outputs, test) {
  const hit = Object.entries(outputs).find(([, o]) => o.entryPoint && test(o.entryPoint));
  if (!hit) throw new Error("build-web: an expected chunk is missing from the bundle");
  return hit[0];
}

const href = (file) => `${PUBLIC_ASSETS}/${relative(assetsDir, join(root, file))}`;

function writeIndex(outputs, mainJs) {
  const o = outputs[mainJs];
  const preloads = o.imports.filter((i) => i.kind === "import-statement").map((i) => `<link rel="modulepreload" href="${href(i.path)}" />`);
  const tags = [
    ...(o.cssBundle ? [`<link rel="stylesheet" href="${href(o.cssBundle)}" />`] : []),
    ...preloads,
    `<script type="module" src="${href(mainJs)}"></script>`,
  ];
  const template = readFileSync(join(webDir, "index.html"), "utf8");
  if (!template.includes("<!-- assets -->")) throw new Error("build-web: web/index.html lacks the <!-- assets --> placeholder");
  const html = template.replace("<!-- assets -->", tags.join("\n    "));
  writeFileSync(join(outDir, "index.html"), html);
  return join(outDir, "index.html");
}

function sizes(file) {
  const data = readFileSync(file);
  return { bytes: data.length, gzip: gzipSync(data, { level: 9 }).length };
}

const kB = (n) => `${(n / 1024).toFixed(1).padStart(7)} kB`;

function report(outputs, indexFile, mainJs) {
  const channelJs = findOutput(outputs, (e) => e === CHANNEL_PAGE_SOURCE);
  const hlsJs = findOutput(outputs, (e) => HLS_SOURCE.test(e));
  const wall = closure(outputs, mainJs);
  if (wall.has(hlsJs) || wall.has(channelJs)) throw new Error("build-web: the wall page would load hls.js or the channel page");
  const channel = new Set([...wall, ...closure(outputs, channelJs), ...closure(outputs, hlsJs)]);
  const table = new Map([[relative(root, indexFile), sizes(indexFile)]]);
  for (const file of Object.keys(outputs).sort()) table.set(file, sizes(join(root, file)));
  const role = (file) =>
    file === mainJs
      ? "entry"
      : file === channelJs
        ? "channel page"
        : file === hlsJs
          ? "hls.js"
          : wall.has(file)
            ? "wall"
            : channel.has(file)
              ? "channel"
              : "";
  console.log("build-web: dist/web (size, gzip -9)");
  for (const [file, s] of table) console.log(`  ${file.padEnd(40)} ${kB(s.bytes)} ${kB(s.gzip)}  ${role(file)}`);
  const total = (files) => {
    let bytes = table.get(relative(root, indexFile)).bytes;
    let gzip = table.get(relative(root, indexFile)).gzip;
    for (const f of files) {
      bytes += table.get(f).bytes;
      gzip += table.get(f).gzip;
    }
    return `${kB(bytes)} ${kB(gzip)} gzip (${files.size + 1} files)`;
  };
  console.log(`  wall page (/):                     ${total(wall)}`);
  console.log(`  channel page (/channels/:id):      ${total(channel)}`);
}

if (!process.argv.includes("--no-typecheck")) typecheck();
const meta = await bundle();
const mainJs = findOutput(meta.outputs, (e) => e === "web/src/main.tsx");
const indexFile = writeIndex(meta.outputs, mainJs);
report(meta.outputs, indexFile, mainJs);
