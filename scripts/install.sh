#!/usr/bin/env bash
# Installs (or upgrades) onair on a playout box. Idempotent: run it again to upgrade or to
# repair; what exists is kept (config, profiles, key, data).
#
#   sudo scripts/install.sh                    # from this checkout (built: npm run setup)
#   sudo scripts/install.sh --rollback         # back to the previous release, in one step
#   DESTDIR=/tmp/pkg scripts/install.sh        # packaging / tests: nothing outside DESTDIR
#
# Options:
#   --prefix DIR      where releases go (default /opt/onair): DIR/releases/NAME, DIR/current
#   --destdir DIR     same as DESTDIR=DIR: stage into DIR (no user, no apt-get, no systemctl,
#                     no chown, no systemd-creds)
#   --from DIR        the onair tree to install (default: the checkout holding this script);
#                     it must be built (dist/src); its node_modules is copied and pruned to the
#                     production dependencies (`npm prune --omit=dev`, offline); without
#                     node_modules, `npm ci --omit=dev` runs (needs the npm registry)
#   --npm-ci          always `npm ci --omit=dev` instead of copying node_modules
#   --release NAME    release name (default: the package.json version)
#   --keep N          releases kept besides current and previous (default 3)
#   --no-deps         do not apt-get FFmpeg and the slate font (also ONAIR_SKIP_APT=1; implied by DESTDIR)
#   --no-user         do not create the onair user (implied by DESTDIR)
#   --rollback        point `current` back at the previous release and restart the units
#
# Layout (with DESTDIR prefixed):
#   /opt/onair/releases/NAME/    bin/ dist/src/ dist/web/ node_modules/ (production) profiles/ systemd/ scripts/ prometheus/
#   /opt/onair/current -> releases/NAME, /opt/onair/previous -> the one before
#   /usr/local/bin/onair -> /opt/onair/current/bin/onair.js
#   /etc/systemd/system/onair.service, onair@.service, onair-failure@.service
#   /etc/onair/ (root:onair 0750): onair.yaml, profiles/, instances/, onair.key (root 0600)
#   /etc/credstore.encrypted/onair.key  (systemd-creds encrypt of onair.key; live installs)
#   /var/lib/onair/ (onair 0750; recordings/, backups/), /var/log/onair/ (onair 0750)
set -euo pipefail

say() { printf 'install: %s\n' "$*" >&2; }
die() { printf 'install: %s\n' "$*" >&2; exit 1; }

here=$(cd "$(dirname "$0")/.." && pwd)
prefix=/opt/onair
destdir=${DESTDIR:-}
from=$here
release=""
keep=3
npm_ci=0
no_deps=${ONAIR_SKIP_APT:-0}
no_user=0
rollback=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --destdir) destdir=$2; shift 2 ;;
    --from) from=$(cd "$2" && pwd); shift 2 ;;
    --release) release=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    --npm-ci) npm_ci=1; shift ;;
    --no-deps) no_deps=1; shift ;;
    --no-user) no_user=1; shift ;;
    --rollback) rollback=1; shift ;;
    -h|--help) sed -n '2,33p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
case "$prefix" in /*) ;; *) die "--prefix must be absolute" ;; esac
prefix=${prefix%/}
[ "$no_deps" = "1" ] || no_deps=0
if [ -n "$destdir" ]; then
  destdir=$(mkdir -p "$destdir" && cd "$destdir" && pwd)
  no_deps=1
  no_user=1
fi
live=0
if [ -z "$destdir" ]; then
  [ "$(id -u)" = "0" ] || die "run as root (or stage with DESTDIR=DIR)"
  live=1
fi
systemd_up=0
if [ "$live" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemd_up=1; fi

root=$destdir
opt=$root$prefix

restart_units() {
  [ "$systemd_up" = 1 ] || return 0
  systemctl daemon-reload
  systemctl try-restart onair.service 'onair@*.service' || say "warning: restarting the units failed; see systemctl status onair"
}

# ---------------------------------------------------------------- rollback
if [ "$rollback" = 1 ]; then
  [ -L "$opt/previous" ] || die "no previous release to roll back to ($opt/previous is missing)"
  cur=$(readlink "$opt/current")
  prev=$(readlink "$opt/previous")
  [ -d "$opt/$prev" ] || die "the previous release $opt/$prev is gone"
  ln -sfn "$prev" "$opt/.current.new" && mv -T "$opt/.current.new" "$opt/current"
  ln -sfn "$cur" "$opt/.previous.new" && mv -T "$opt/.previous.new" "$opt/previous"
  say "rolled back: current -> $prev (previous -> $cur)"
  restart_units
  exit 0
fi

# ---------------------------------------------------------------- checks
[ -f "$from/package.json" ] || die "$from is not an onair tree (no package.json)"
[ -f "$from/dist/src/cli/main.js" ] || die "ONAIR_NOT_BUILT: $from/dist/src is missing; run \`npm run setup\` there first"
[ -f "$from/dist/web/index.html" ] || die "ONAIR_NOT_BUILT: $from/dist/web (the console) is missing; run \`npm run setup\` there first"
command -v node >/dev/null 2>&1 || die "Node.js >= 20.19 is needed (https://nodejs.org or the OS packages); install it first"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js >= 20.19 is needed, found $(node --version)"
version=$(node -p 'require(process.argv[1]).version' "$from/package.json")
[ -n "$release" ] || release=$version
case "$release" in */*|.*|"") die "bad release name '$release'" ;; esac

# ---------------------------------------------------------------- FFmpeg
if [ "$no_deps" = 0 ]; then
  if ! command -v ffmpeg >/dev/null 2>&1 || ! command -v ffprobe >/dev/null 2>&1; then
    command -v apt-get >/dev/null 2>&1 || die "FFmpeg is missing and there is no apt-get: install ffmpeg with the OS package manager"
    say "installing FFmpeg from the OS packages"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null
  fi
  # the generated slate's text font (without it, slates are made without text)
  if [ ! -r /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]; then
    if command -v apt-get >/dev/null 2>&1; then
      say "installing the slate font (fonts-dejavu-core) from the OS packages"
      DEBIAN_FRONTEND=noninteractive apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends fonts-dejavu-core >/dev/null
    else
      say "the slate font is missing and there is no apt-get: install DejaVu Sans for slate text"
    fi
  fi
else
  say "skipping OS packages (FFmpeg must be installed: apt-get install ffmpeg; fonts-dejavu-core for slate text)"
fi

# ---------------------------------------------------------------- user
if [ "$no_user" = 0 ]; then
  if ! getent group onair >/dev/null; then groupadd --system onair; fi
  if ! id -u onair >/dev/null 2>&1; then
    say "creating the system user onair"
    useradd --system --gid onair --home-dir /var/lib/onair --no-create-home --shell /usr/sbin/nologin \
      --comment "onair playout daemon" onair
  fi
fi

# dir PATH MODE OWNER:GROUP — creates or fixes mode (ownership on live installs only)
dir() {
  mkdir -p "$root$1"
  chmod "$2" "$root$1"
  if [ "$live" = 1 ] && [ "$no_user" = 0 ]; then chown "$3" "$root$1"; fi
}
dir /etc/onair 0750 root:onair
dir /etc/onair/profiles 0750 root:onair
dir /etc/onair/instances 0750 root:onair
dir /etc/credstore.encrypted 0700 root:root
dir /var/lib/onair 0750 onair:onair
dir /var/lib/onair/recordings 0750 onair:onair
dir /var/lib/onair/backups 0750 onair:onair
dir /var/log/onair 0750 onair:onair
mkdir -p "$opt/releases" "$root/etc/systemd/system" "$root/usr/local/bin"

# ---------------------------------------------------------------- release
rel=$opt/releases/$release
stage=$opt/releases/.$release.new.$$
trap 'rm -rf "$stage"' EXIT
say "installing onair $version as release $release into $rel"
mkdir -p "$stage/dist"
cp -a "$from/bin" "$stage/bin"
cp -a "$from/dist/src" "$stage/dist/src"
cp -a "$from/dist/web" "$stage/dist/web"
for d in profiles systemd scripts prometheus; do [ -d "$from/$d" ] && cp -a "$from/$d" "$stage/$d"; done
for f in package.json package-lock.json README.md LICENSE; do [ -f "$from/$f" ] && cp -a "$from/$f" "$stage/$f"; done
chmod 0755 "$stage/bin/onair.js"
if [ "$npm_ci" = 0 ] && [ -d "$from/node_modules" ]; then
  # the contents, also when node_modules is a symlink (a git worktree, a shared cache)
  mkdir -p "$stage/node_modules"
  cp -a "$from/node_modules/." "$stage/node_modules/"
  (cd "$stage" && npm prune --omit=dev --no-audit --no-fund --loglevel=error >/dev/null) \
    || die "npm prune --omit=dev failed in $stage"
  find "$stage/node_modules" -mindepth 1 -maxdepth 2 -type d -empty -delete
else
  [ -f "$stage/package-lock.json" ] || die "no package-lock.json in $from: cannot npm ci"
  (cd "$stage" && npm ci --omit=dev --no-audit --no-fund --loglevel=error >/dev/null) || die "npm ci --omit=dev failed"
fi
# the release must run: its CLI prints the version it was built as
got=$(node "$stage/bin/onair.js" --version) || die "the staged release does not run (node $stage/bin/onair.js --version)"
[ "$got" = "$version" ] || die "the staged release says version $got, expected $version"

old_current=""
[ -L "$opt/current" ] && old_current=$(readlink "$opt/current")
if [ -d "$rel" ]; then
  # reinstalling a release of the same name: swap it (the running daemon keeps its open files)
  mv -T "$rel" "$opt/releases/.$release.old.$$"
  mv -T "$stage" "$rel"
  rm -rf "$opt/releases/.$release.old.$$"
else
  mv -T "$stage" "$rel"
fi
trap - EXIT
ln -sfn "releases/$release" "$opt/.current.new" && mv -T "$opt/.current.new" "$opt/current"
if [ -n "$old_current" ] && [ "$old_current" != "releases/$release" ]; then
  ln -sfn "$old_current" "$opt/.previous.new" && mv -T "$opt/.previous.new" "$opt/previous"
fi
ln -sfn "$prefix/current/bin/onair.js" "$root/usr/local/bin/onair"

# prune old releases: keep current, previous and the newest $keep others
cur_name=$(basename "$(readlink "$opt/current")")
prev_name=""
[ -L "$opt/previous" ] && prev_name=$(basename "$(readlink "$opt/previous")")
n=0
for r in $(ls -1t "$opt/releases"); do
  [ "$r" = "$cur_name" ] || [ "$r" = "$prev_name" ] && continue
  n=$((n + 1))
  if [ "$n" -gt "$keep" ]; then say "removing old release $r"; rm -rf "${opt:?}/releases/$r"; fi
done

# ---------------------------------------------------------------- units
units_changed=0
for u in onair.service onair@.service onair-failure@.service; do
  tmp=$root/etc/systemd/system/.$u.new
  sed "s#/opt/onair/#$prefix/#g" "$from/systemd/$u" > "$tmp"
  chmod 0644 "$tmp"
  if ! cmp -s "$tmp" "$root/etc/systemd/system/$u"; then units_changed=1; fi
  mv -f "$tmp" "$root/etc/systemd/system/$u"
done

# ---------------------------------------------------------------- config and key
if [ ! -f "$root/etc/onair/onair.yaml" ]; then
  cat > "$root/etc/onair/onair.yaml" <<'YAML'
# onair global config (see /opt/onair/current/profiles/README.md, "Global config").
profilesDir: /etc/onair/profiles
dataDir: /var/lib/onair
http:
  listen: 127.0.0.1:9780
log:
  level: info
  rotation: { size: 10m, files: 10 }
# telegram:
#   botToken: credential:telegram.token   # LoadCredentialEncrypted=telegram.token:… in a drop-in
YAML
  chmod 0640 "$root/etc/onair/onair.yaml"
  if [ "$live" = 1 ] && [ "$no_user" = 0 ]; then chown root:onair "$root/etc/onair/onair.yaml"; fi
  say "wrote the default config /etc/onair/onair.yaml"
fi
key=$root/etc/onair/onair.key
cred=$root/etc/credstore.encrypted/onair.key
if [ ! -f "$key" ] && [ ! -f "$cred" ]; then
  say "generating the profile key /etc/onair/onair.key (root, 0600)"
  (umask 077 && head -c 32 /dev/urandom | base64 > "$key.new" && mv -f "$key.new" "$key")
fi
cred_note=""
if [ ! -f "$cred" ] && [ -f "$key" ]; then
  if [ "$live" = 1 ] && command -v systemd-creds >/dev/null 2>&1; then
    (umask 077 && systemd-creds encrypt --name=onair.key "$key" "$cred")
    say "encrypted the key as the systemd credential /etc/credstore.encrypted/onair.key"
  else
    cred_note="  systemd-creds encrypt --name=onair.key /etc/onair/onair.key /etc/credstore.encrypted/onair.key"
  fi
fi

if [ "$systemd_up" = 1 ]; then
  systemctl daemon-reload
  if [ "$units_changed" = 1 ] || [ "$old_current" != "releases/$release" ]; then restart_units; fi
fi

cat <<EOF

onair $version is installed in ${destdir:+$destdir}$prefix/current ($rel).
Next steps:
${cred_note:+  # the unit reads the key as an encrypted credential:
$cred_note
}  # seal each channel profile with the key and put it in /etc/onair/profiles/
  onair profile seal news.yaml --out /etc/onair/profiles/news.onair --key-file /etc/onair/onair.key
  chgrp onair /etc/onair/profiles/*.onair && chmod 0640 /etc/onair/profiles/*.onair
  # all channels in one daemon:
  systemctl enable --now onair.service
  # or one unit per channel (profiles in /etc/onair/profiles/ID/, port in /etc/onair/instances/ID.env):
  #   systemctl enable --now onair@news.service
  journalctl -u onair -f ; curl -s http://127.0.0.1:9780/readyz
  # then keep /etc/onair/onair.key somewhere safe off this box (sealing needs it; the daemon does not).
Roll back with: $0 --rollback
EOF
