#!/usr/bin/env bash
# Idempotent set-up, run first by `npm test`, `npm run demo` and `npm run bench`:
#   1. FFmpeg from the OS packages when it is missing (as root; otherwise prints the command),
#      and the slate's font (Debian's fonts-dejavu-core) likewise,
#   2. with --test (npm test): promtool (Debian's `prometheus` package) when it is missing,
#      for the rule and scrape tests,
#      and Chromium (Debian's `chromium`) for the console's browser tests, driven by playwright-core,
#   3. `npm ci` when node_modules is missing or older than package-lock.json,
#   4. build (TypeScript to dist/, the console's front end from web/ to dist/web/).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

if ! command -v "${ONAIR_FFMPEG:-ffmpeg}" >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "FFmpeg is missing: installing it from the OS packages (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq ffmpeg >/dev/null
  else
    say "ONAIR_FFMPEG_NOT_FOUND: FFmpeg is not installed. Run:"
    say "  sudo apt-get update && sudo apt-get install -y ffmpeg"
    exit 1
  fi
fi

# the generated slate draws its text in DejaVu Sans (src/pipeline/slate-text.ts); without the
# font onair still runs, with slates that carry no text (a warning), so only tests insist
SLATE_FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
if [ ! -r "$SLATE_FONT" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "the slate font is missing: installing fonts-dejavu-core from the OS packages (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null
  else
    say "the slate font ($SLATE_FONT) is missing: slates will have no text. Run:"
    say "  sudo apt-get update && sudo apt-get install -y fonts-dejavu-core"
    if [ "${1:-}" = "--test" ]; then exit 1; fi
  fi
fi

if [ "${1:-}" = "--test" ] && ! command -v promtool >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "promtool is missing: installing Debian's prometheus package (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  else
    say "promtool is not installed (needed by the Prometheus rule tests). Run:"
    say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends prometheus"
    exit 1
  fi
fi

if [ "${1:-}" = "--test" ] && [ ! -x /usr/lib/chromium/chromium ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    say "Chromium is missing: installing Debian's chromium package (apt-get), for the console's browser tests"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  else
    say "Chromium is not installed (needed by the console's browser tests). Run:"
    say "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core"
    exit 1
  fi
fi

lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.onair-lock.sha256
if [ ! -d node_modules ] || [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  say "installing dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > "$stamp"
fi

npx --no-install tsc -p tsconfig.build.json
node scripts/build-web.mjs
