#!/usr/bin/env bash
# Checks onair's systemd units: `systemd-analyze verify` passes and
# `systemd-analyze security --offline=yes` scores each unit at exposure <= MAX (default 2.0).
#
#   systemd/check-units.sh                      # the units of this checkout
#   systemd/check-units.sh --root DESTDIR       # the units installed into DESTDIR
#                                                 (DESTDIR=… scripts/install.sh)
#   systemd/check-units.sh --max 1.5
#
# verify resolves ExecStart= and the default dependencies (sysinit.target …) inside --root,
# so the check runs in a scratch root holding: the unit files, the installed release's
# bin/onair.js (a stub for a checkout), /usr/bin/kill and the OS's own unit directory.
# Prints one line per unit: `UNIT: verify ok, exposure X.Y OK`; exits 1 on any failure,
# 2 when systemd-analyze is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=""
max=${ONAIR_MAX_EXPOSURE:-2.0}
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    --max) max=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "check-units: unknown argument $1" >&2; exit 2 ;;
  esac
done
if ! command -v systemd-analyze >/dev/null 2>&1; then
  echo "check-units: ONAIR_SYSTEMD_ANALYZE_MISSING: systemd-analyze is not installed (Debian package systemd)" >&2
  exit 2
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/etc/systemd/system" "$scratch/usr/lib/systemd" "$scratch/usr/bin"
if [ -n "$root" ]; then unitdir="$root/etc/systemd/system"; else unitdir="$here"; fi
units=()
for f in "$unitdir/onair.service" "$unitdir/onair@.service" "$unitdir/onair-failure@.service"; do
  [ -f "$f" ] || { echo "check-units: missing unit $f" >&2; exit 1; }
  cp "$f" "$scratch/etc/systemd/system/"
  units+=("$(basename "$f")")
done
# The OS's units (sysinit.target, network-online.target …) and the commands the units run.
for d in /usr/lib/systemd/system /lib/systemd/system; do
  if [ -d "$d" ]; then cp -r "$d" "$scratch/usr/lib/systemd/"; break; fi
done
cp "$(type -P kill)" "$scratch/usr/bin/kill"
ln -s usr/bin "$scratch/bin"
# Every absolute executable the units name (ExecStart=/opt/onair/current/bin/onair.js …).
for u in "${units[@]}"; do
  grep -E '^Exec[A-Za-z]*=' "$scratch/etc/systemd/system/$u" | sed -E 's/^[^=]+=[-+!@:]*//; s/ .*//' | while read -r exe; do
    [ -e "$scratch$exe" ] && continue
    mkdir -p "$scratch$(dirname "$exe")"
    if [ -n "$root" ]; then
      # the installed file itself (follows the current link): missing means verify fails
      src=$(readlink -f "$root$exe" 2>/dev/null || true)
      if [ -n "$src" ] && [ -f "$src" ]; then cp -p "$src" "$scratch$exe"; fi
    else
      printf '#!/bin/sh\n' > "$scratch$exe"
      chmod 0755 "$scratch$exe"
    fi
  done
done

fail=0
for u in "${units[@]}"; do
  name=$u
  case "$u" in *@.service) name="${u%@.service}@check.service" ;; esac
  rc=0
  out=$(systemd-analyze verify --root="$scratch" "$name" 2>&1) || rc=$?
  if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
    echo "$u: verify FAILED"
    printf '%s\n' "$out" | sed 's/^/  /'
    fail=1
    continue
  fi
  sec=$(systemd-analyze security --offline=yes --root="$scratch" "$scratch/etc/systemd/system/$u" 2>&1 | tail -n 5 || true)
  score=$(printf '%s\n' "$sec" | sed -nE 's/.*Overall exposure level for [^:]*: ([0-9]+\.[0-9]+) .*/\1/p' | tail -n 1)
  if [ -z "$score" ]; then
    echo "$u: security FAILED (no exposure level in the output)"
    printf '%s\n' "$sec" | sed 's/^/  /'
    fail=1
    continue
  fi
  if awk -v s="$score" -v m="$max" 'BEGIN { exit !(s <= m) }'; then
    echo "$u: verify ok, exposure $score OK (max $max)"
  else
    echo "$u: exposure $score is above $max"
    fail=1
  fi
done
exit $fail
