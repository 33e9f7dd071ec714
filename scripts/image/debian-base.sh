#!/usr/bin/env bash
# A Debian bookworm (minbase) image made on this machine, with nothing pulled from an image registry: debootstrap from
# Debian's package mirror, committed into buildah's local storage as `localhost/apprunner-k8s/debian:bookworm-minbase`
# and reused while it exists (DEBIAN_BASE_REBUILD=1 makes it again). The base of the evaluation images
# (scripts/image/evaluation.sh: PostgreSQL, Redis, the registry). Prints the image name last.
# Needs root (debootstrap, buildah's vfs storage), and debootstrap and buildah (installed from Debian when missing).
#   BUILDAH_STORAGE_DRIVER (default vfs), DEBIAN_MIRROR (default http://deb.debian.org/debian)
set -euo pipefail
say() { echo "[debian-base] $*" >&2; }
die() { say "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap and buildah's storage)"
image="localhost/apprunner-k8s/debian:bookworm-minbase"
driver="${BUILDAH_STORAGE_DRIVER:-vfs}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
bah() { buildah --storage-driver "$driver" "$@"; }

missing=""
command -v debootstrap >/dev/null 2>&1 || missing="$missing debootstrap"
command -v buildah >/dev/null 2>&1 || missing="$missing buildah"
if [ -n "$missing" ]; then
  say "installing Debian packages:$missing"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

if [ "${DEBIAN_BASE_REBUILD:-}" != 1 ] && bah inspect --type image "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

work="$(mktemp -d /var/tmp/debian-base.XXXXXX)"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
started=$(date +%s)
say "Debian bookworm (minbase) from $mirror"
debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
# as slim as Debian's own -slim images: no docs, man pages or package lists
rm -rf "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb http://deb.debian.org/debian-security bookworm-security main\n' \
  "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
# packages installed on top never start services at build time (there is no init in an image build)
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
chmod 0755 "$rootfs/usr/sbin/policy-rc.d"

say "committing $image"
tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .
ctr="$(bah from scratch)"
bah add "$ctr" "$work/rootfs.tar" / >/dev/null
bah config --env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" --env LANG=C.UTF-8 --cmd bash \
  --label "org.opencontainers.image.description=Debian bookworm (minbase), assembled by apprunner-k8s scripts/image/debian-base.sh" \
  "$ctr"
bah commit --quiet --rm "$ctr" "$image" >/dev/null
say "done in $(($(date +%s) - started)) s"
echo "$image"
