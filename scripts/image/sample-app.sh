#!/usr/bin/env bash
# The README walk's app on the local real node: Debian's static busybox serving one page with httpd on port 80 (as
# public.ecr.aws/nginx/nginx does, so the walk's ImageConfiguration stays the same), packaged FROM scratch by buildah
# and pushed to the node's loopback registry (plain HTTP). Nothing is pulled. Prints the image by digest, last.
#   bash scripts/image/sample-app.sh <registry host:port>
set -euo pipefail
registry="${1:?usage: sample-app.sh <registry host:port>}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
# ldd fails on a static binary: the image has no libc for a dynamic one
[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
  { echo "sample-app: needs Debian's busybox-static at /bin/busybox" >&2; exit 1; }
work="$root/.tmp/sample-app"
storage=(--storage-driver vfs --root "$work/storage" --runroot "$work/run")
rm -rf "$work/rootfs"
mkdir -p "$work/rootfs/bin" "$work/rootfs/www"
cp /bin/busybox "$work/rootfs/bin/busybox"
ln -s busybox "$work/rootfs/bin/sh"
ln -s busybox "$work/rootfs/bin/httpd"
echo 'Hello from App Runner on Kubernetes' >"$work/rootfs/www/index.html"
image="$registry/apprunner-samples/hello:1"
ctr="$(buildah "${storage[@]}" from scratch)"
trap 'buildah "${storage[@]}" rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah "${storage[@]}" copy "$ctr" "$work/rootfs" / >/dev/null
# httpd as PID 1 would ignore SIGTERM (and wait for the SIGKILL): the shell passes it on
buildah "${storage[@]}" config --port 80 --cmd '["/bin/sh","-c","httpd -f -p 80 -h /www & trap \"kill $!; exit 0\" TERM; wait"]' "$ctr"
buildah "${storage[@]}" commit --quiet "$ctr" "$image" >/dev/null
buildah "${storage[@]}" push --quiet --tls-verify=false --digestfile "$work/digest" "$image" "docker://$image"
echo "${image%:*}@$(cat "$work/digest")"
