#!/usr/bin/env bash
# Builds the platform's image (the repository's Dockerfile) with buildah on a machine that cannot pull from Docker
# Hub: the base is assembled here by scripts/image/node-base.sh (Debian from its package mirror, the project's
# Node.js from the npm registry). npm inside the build trusts the CAs of EXTRA_CA_FILE (default: this machine's
# bundle, which holds a TLS-intercepting proxy's CA where there is one), passed as a build secret, never a layer.
# Prints the image name last. With Docker Hub reachable, `docker build -t <name> .` is all it takes.
#   IMAGE (default localhost/apprunner-k8s:<package.json version>), BUILDAH_STORAGE_DRIVER (default vfs)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "$root/package.json")"
image="${IMAGE:-localhost/apprunner-k8s:$version}"
driver="${BUILDAH_STORAGE_DRIVER:-vfs}"
ca="${EXTRA_CA_FILE:-/etc/ssl/certs/ca-certificates.crt}"
base="$(bash "$root/scripts/image/node-base.sh" | tail -n 1)"
secret=()
[ -s "$ca" ] && secret=(--secret "id=extra_ca,src=$ca")
echo "[image] building $image on $base" >&2
started=$(date +%s)
buildah --storage-driver "$driver" build --isolation chroot --layers=false "${secret[@]}" \
  --build-arg "NODE_IMAGE=$base" -t "$image" "$root" >&2
echo "[image] built $image in $(($(date +%s) - started)) s" >&2
echo "$image"
