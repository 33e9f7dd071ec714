#!/usr/bin/env bash
# Builds the images of the chart's evaluation mode on a machine that cannot pull from Docker Hub, from Debian's
# packages on the base made here by scripts/image/debian-base.sh (debootstrap; nothing pulled from an image registry):
#   postgres  localhost/apprunner-k8s/postgres:15-bookworm  (for postgres:16-alpine; Debian bookworm has PostgreSQL 15)
#   redis     localhost/apprunner-k8s/redis:7-bookworm      (for redis:7-alpine)
#   registry  localhost/apprunner-k8s/registry:2.8-bookworm (for registry:2.8.3)
# Each is reused while it is in buildah's storage (EVALUATION_REBUILD=1 builds them again). With PUSH_TO=<host:port>
# they are pushed there (plain HTTP) as <host:port>/apprunner-k8s/<name>:<tag>. Prints one `<name> <image>` line per
# image (with PUSH_TO the pushed reference, pinned by digest: <host:port>/apprunner-k8s/<name>:<tag>@sha256:...). Install the chart with them:
#   --set evaluation.postgresql.image=... --set evaluation.redis.image=... --set build.registry.inCluster.image=...
# Needs root (buildah's vfs storage, debootstrap).   BUILDAH_STORAGE_DRIVER (default vfs)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
say() { echo "[evaluation images] $*" >&2; }
driver="${BUILDAH_STORAGE_DRIVER:-vfs}"
bah() { buildah --storage-driver "$driver" "$@"; }
base="$(bash "$here/debian-base.sh" | tail -n 1)"
for entry in postgres:15-bookworm redis:7-bookworm registry:2.8-bookworm; do
  name="${entry%%:*}"
  image="localhost/apprunner-k8s/$entry"
  if [ "${EVALUATION_REBUILD:-}" = 1 ] || ! bah inspect --type image "$image" >/dev/null 2>&1; then
    started=$(date +%s)
    say "building $image on $base"
    bah build --isolation chroot --layers=false --pull=never --build-arg "BASE=$base" -t "$image" "$here/$name" >&2
    say "built $image in $(($(date +%s) - started)) s"
  fi
  ref="$image"
  if [ -n "${PUSH_TO:-}" ]; then
    ref="$PUSH_TO/apprunner-k8s/$entry"
    digest="$(mktemp)"
    bah push --quiet --tls-verify=false --digestfile "$digest" "$image" "docker://$ref" >&2
    ref="$ref@$(cat "$digest")"
    rm -f "$digest"
  fi
  echo "$name $ref"
done
