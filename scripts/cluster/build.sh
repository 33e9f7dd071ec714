#!/usr/bin/env bash
# Builds the local cluster's binaries from their Go modules (Go module proxy only, no binary downloads), pinned by
# scripts/cluster/versions.env, into a cache folder per component and version:
#   $APPRUNNER_CACHE/cluster/kubernetes-<v>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler}
#   $APPRUNNER_CACHE/cluster/etcd-<v>/bin/etcd
#   $APPRUNNER_CACHE/cluster/kwok-<v>/bin/kwok
#   $APPRUNNER_CACHE/cluster/cert-manager-<v>/{bin/cert-manager-controller,crds/*.yaml}
#   $APPRUNNER_CACHE/cluster/gateway-api-<v>/crds/*.yaml
# A component whose folder holds a `.complete` marker is reused as it is, so a warm machine builds nothing.
# Usage: build.sh [component...]   (default: all; prints the cache root last)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.env
. "$here/versions.env"
cache="${APPRUNNER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/apprunner-k8s}/cluster"
mkdir -p "$cache"

die() { echo "cluster build: $*" >&2; exit 1; }
command -v go >/dev/null 2>&1 || die "Go is not installed (needs Go >= 1.26 with the Go module proxy reachable)"
export CGO_ENABLED=0 GOFLAGS="${GOFLAGS:--buildvcs=false}" GOTOOLCHAIN=local
log() { echo "[cluster build $(date +%H:%M:%S)] $*" >&2; }

# mod_file MODULE@VERSION: path of the module's go.mod in the module cache (downloads the module).
mod_dir() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'; }
mod_file() { go mod download -json "$1" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p'; }

# wrapper DIR MODULE VERSION: a module in DIR that requires MODULE@VERSION, with the upstream module's godebug
# lines; prints nothing. Replace lines are appended by the caller.
wrapper() {
  local dir="$1" module="$2" version="$3" upstream
  upstream="$(mod_file "$module@$version")"
  [ -n "$upstream" ] || die "the Go module proxy did not serve $module@$version"
  rm -rf "$dir" && mkdir -p "$dir"
  {
    echo "module apprunner-k8s.local/cluster-build"
    echo
    echo "go $(go env GOVERSION | sed 's/^go//; s/^\([0-9]*\.[0-9]*\).*/\1/').0"
    grep -E '^godebug ' "$upstream" || true
    echo
    echo "require $module $version"
  } >"$dir/go.mod"
  echo "$upstream"
}

finish() { # finish DIR: mark a component complete
  date -u +%FT%TZ >"$1/.complete"
}

build_kubernetes() {
  local out="$cache/kubernetes-$K8S_VERSION" src minor upstream pkgs
  [ -f "$out/.complete" ] && return 0
  log "kubernetes $K8S_VERSION: kube-apiserver, kube-controller-manager, kube-scheduler (several minutes on 2 cores the first time)"
  src="$out/src"
  upstream="$(wrapper "$src" k8s.io/kubernetes "$K8S_VERSION")"
  minor="${K8S_VERSION#v1.}"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/..., which the module
  # zip lacks; each is published as k8s.io/<name> v0.<minor>.<patch>.
  sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$upstream" | while read -r m; do
    if grep -qE "^[[:space:]]*$m v0\.0\.0" "$upstream"; then echo "replace $m => $m v0.$minor"; fi
  done >>"$src/go.mod"
  pkgs=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
  for p in "${pkgs[@]}"; do echo "tool $p" >>"$src/go.mod"; done
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the kubernetes wrapper failed (see above)"
  local v="k8s.io/component-base/version" c="k8s.io/client-go/pkg/version" flags="-s -w" date
  date="$(date -u +%FT%TZ)"
  for pkg in "$v" "$c"; do
    flags="$flags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
    flags="$flags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  mkdir -p "$out/bin"
  (cd "$src" && go build -trimpath -ldflags "$flags" -o "$out/bin/" "${pkgs[@]}") || die "building kubernetes $K8S_VERSION failed"
  "$out/bin/kube-apiserver" --version | grep -q "$K8S_VERSION" || die "kube-apiserver does not report $K8S_VERSION"
  finish "$out"
}

build_etcd() {
  local out="$cache/etcd-$ETCD_VERSION" src
  [ -f "$out/.complete" ] && return 0
  log "etcd $ETCD_VERSION"
  src="$out/src"
  # go.etcd.io/etcd/server/v3 replaces its sibling modules with ../ paths, so `go install ...@v` is refused; as a
  # dependency of a wrapper the replaces don't apply and the siblings come at the versions it requires.
  wrapper "$src" go.etcd.io/etcd/server/v3 "$ETCD_VERSION" >/dev/null
  echo "tool go.etcd.io/etcd/server/v3" >>"$src/go.mod"
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the etcd wrapper failed"
  mkdir -p "$out/bin"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3) || die "building etcd failed"
  finish "$out"
}

build_kwok() {
  local out="$cache/kwok-$KWOK_VERSION"
  [ -f "$out/.complete" ] && return 0
  log "kwok $KWOK_VERSION"
  mkdir -p "$out/bin"
  GOBIN="$out/bin" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" || die "building kwok failed"
  finish "$out"
}

build_gateway_api() {
  local out="$cache/gateway-api-$GATEWAY_API_VERSION" dir
  [ -f "$out/.complete" ] && return 0
  log "gateway-api $GATEWAY_API_VERSION CRDs (standard channel)"
  dir="$(mod_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")"
  [ -d "$dir/config/crd/standard" ] || die "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION has no config/crd/standard"
  mkdir -p "$out/crds"
  cp "$dir"/config/crd/standard/*.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
  finish "$out"
}

build_cert_manager() {
  local out="$cache/cert-manager-$CERT_MANAGER_VERSION" dir src
  [ -f "$out/.complete" ] && return 0
  log "cert-manager $CERT_MANAGER_VERSION: CRDs and controller"
  dir="$(mod_dir "github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION")"
  mkdir -p "$out/crds" "$out/bin"
  cp "$dir"/deploy/crds/*.yaml "$out/crds/"
  chmod -R u+w "$out/crds"
  # upstream's controller command is a nested module the proxy can't serve (see the comment in main.go), so our own
  # minimal main wires the root module's controllers.
  src="$out/src"
  wrapper "$src" github.com/cert-manager/cert-manager "$CERT_MANAGER_VERSION" >/dev/null
  cp "$here/cert-manager-controller/main.go" "$src/"
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the cert-manager controller failed"
  (cd "$src" && go build -trimpath -ldflags "-s -w" -o "$out/bin/cert-manager-controller" .) || die "building the cert-manager controller failed"
  finish "$out"
}

components=("$@")
[ ${#components[@]} -gt 0 ] || components=(gateway-api cert-manager etcd kwok kubernetes)
for c in "${components[@]}"; do
  case "$c" in
    kubernetes) build_kubernetes ;;
    etcd) build_etcd ;;
    kwok) build_kwok ;;
    cert-manager) build_cert_manager ;;
    gateway-api) build_gateway_api ;;
    *) die "unknown component $c" ;;
  esac
done
echo "$cache"
