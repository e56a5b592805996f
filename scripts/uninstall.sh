#!/usr/bin/env bash
# Removes onair: stops and disables the units, removes them, the releases (/opt/onair) and
# the `onair` command. Keeps the data: /var/lib/onair (store, backups, recordings),
# /var/log/onair, /etc/onair (config, sealed profiles, key), the encrypted credential and
# the onair user (it owns the data) — unless --purge, which removes those too.
#
#   sudo scripts/uninstall.sh [--purge] [--prefix /opt/onair]
#   DESTDIR=/tmp/pkg scripts/uninstall.sh [--purge]     # a staged tree (no systemctl, no userdel)
set -euo pipefail
say() { printf 'uninstall: %s\n' "$*" >&2; }
die() { printf 'uninstall: %s\n' "$*" >&2; exit 1; }

prefix=/opt/onair
destdir=${DESTDIR:-}
purge=0
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix=$2; shift 2 ;;
    --destdir) destdir=$2; shift 2 ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done
case "$prefix" in /*) ;; *) die "--prefix must be absolute" ;; esac
prefix=${prefix%/}
live=0
if [ -z "$destdir" ]; then
  [ "$(id -u)" = "0" ] || die "run as root (or give DESTDIR=DIR)"
  live=1
else
  [ -d "$destdir" ] || die "DESTDIR $destdir does not exist"
  destdir=$(cd "$destdir" && pwd)
fi
root=$destdir

if [ "$live" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  say "stopping and disabling the units"
  systemctl disable --now onair.service 'onair@*.service' >/dev/null 2>&1 || true
fi
rm -f "$root/etc/systemd/system/onair.service" "$root/etc/systemd/system/onair@.service" "$root/etc/systemd/system/onair-failure@.service"
if [ "$live" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload; fi
link="$root/usr/local/bin/onair"
if [ -L "$link" ]; then rm -f "$link"; fi
rm -rf "${root}${prefix:?}"
say "removed the units, $prefix and /usr/local/bin/onair"

if [ "$purge" = 1 ]; then
  rm -rf "$root/etc/onair" "$root/var/lib/onair" "$root/var/log/onair" "$root/etc/credstore.encrypted/onair.key"
  rmdir "$root/etc/credstore.encrypted" 2>/dev/null || true
  if [ "$live" = 1 ] && id -u onair >/dev/null 2>&1; then userdel onair || say "warning: userdel onair failed"; fi
  if [ "$live" = 1 ] && getent group onair >/dev/null; then groupdel onair 2>/dev/null || true; fi
  say "purged the config, key, data, logs and the onair user"
else
  say "kept /etc/onair, /var/lib/onair, /var/log/onair, the credential and the onair user (--purge removes them)"
fi
