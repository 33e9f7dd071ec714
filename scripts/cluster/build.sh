#!/usr/bin/env bash
# Builds the local cluster's binaries from their Go modules (Go module proxy only, no binary downloads), pinned by
# scripts/cluster/versions.env, into a cache folder per component and version:
#   $APPRUNNER_CACHE/cluster/kubernetes-<v>/bin/{kube-apiserver,kube-controller-manager,kube-scheduler}
#   $APPRUNNER_CACHE/cluster/etcd-<v>/bin/etcd
#   $APPRUNNER_CACHE/cluster/kwok-<v>/bin/kwok
#   $APPRUNNER_CACHE/cluster/cert-manager-<v>/{bin/cert-manager-controller,crds/*.yaml}
#   $APPRUNNER_CACHE/cluster/gateway-api-<v>/crds/*.yaml
# and, for the real node (`build.sh node`):
#   $APPRUNNER_CACHE/cluster/kubernetes-node-<v>/bin/{kubelet,kube-proxy}
#   $APPRUNNER_CACHE/cluster/containerd-<v>/bin/{containerd,containerd-shim-runc-v2,ctr}
#   $APPRUNNER_CACHE/cluster/cni-plugins-<v>/bin/{bridge,host-local,loopback,portmap}
#   $APPRUNNER_CACHE/cluster/coredns-<v>-<hash of coredns/main.go>/bin/coredns
#   $APPRUNNER_CACHE/cluster/cri-tools-<v>/bin/crictl
#   $APPRUNNER_CACHE/cluster/pause-<hash of pause/main.go>/bin/pause
#   $APPRUNNER_CACHE/cluster/traefik-<v>-<hash of traefik/dns_providers.go>/bin/traefik
#   $APPRUNNER_CACHE/cluster/kube-router-<v>/bin/kube-router
#   $APPRUNNER_CACHE/cluster/metrics-server-<v>/bin/metrics-server
# A component whose folder holds a `.complete` marker is reused as it is, so a warm machine builds nothing.
# Usage: build.sh [component...|node]   (default: the control plane; prints the cache root last)
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

# k8s_binaries OUT PKG...: builds k8s.io/kubernetes $K8S_VERSION commands into OUT/bin from a wrapper module in OUT/src.
k8s_binaries() {
  local out="$1" src minor upstream p
  shift
  src="$out/src"
  upstream="$(wrapper "$src" k8s.io/kubernetes "$K8S_VERSION")"
  minor="${K8S_VERSION#v1.}"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with ./staging/..., which the module
  # zip lacks; each is published as k8s.io/<name> v0.<minor>.<patch>.
  sed -n 's#^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*#\1#p' "$upstream" | while read -r m; do
    if grep -qE "^[[:space:]]*$m v0\.0\.0" "$upstream"; then echo "replace $m => $m v0.$minor"; fi
  done >>"$src/go.mod"
  for p in "$@"; do echo "tool $p" >>"$src/go.mod"; done
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the kubernetes wrapper failed (see above)"
  local v="k8s.io/component-base/version" c="k8s.io/client-go/pkg/version" flags="-s -w" date
  date="$(date -u +%FT%TZ)"
  for pkg in "$v" "$c"; do
    flags="$flags -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=${minor%%.*}"
    flags="$flags -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  mkdir -p "$out/bin"
  (cd "$src" && go build -trimpath -ldflags "$flags" -o "$out/bin/" "$@") || die "building kubernetes $K8S_VERSION failed"
}

build_kubernetes() {
  local out="$cache/kubernetes-$K8S_VERSION"
  [ -f "$out/.complete" ] && return 0
  log "kubernetes $K8S_VERSION: kube-apiserver, kube-controller-manager, kube-scheduler (several minutes on 2 cores the first time)"
  k8s_binaries "$out" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler
  "$out/bin/kube-apiserver" --version | grep -q "$K8S_VERSION" || die "kube-apiserver does not report $K8S_VERSION"
  finish "$out"
}

# The real node's half of Kubernetes, in its own folder so that the control plane's cache stays valid.
build_kubernetes_node() {
  local out="$cache/kubernetes-node-$K8S_VERSION"
  [ -f "$out/.complete" ] && return 0
  log "kubernetes $K8S_VERSION: kubelet, kube-proxy (several minutes on 2 cores the first time)"
  k8s_binaries "$out" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-proxy
  "$out/bin/kubelet" --version | grep -q "$K8S_VERSION" || die "kubelet does not report $K8S_VERSION"
  finish "$out"
}

build_containerd() {
  local out="$cache/containerd-$CONTAINERD_VERSION" src m=github.com/containerd/containerd/v2 flags
  [ -f "$out/.complete" ] && return 0
  log "containerd $CONTAINERD_VERSION: containerd, containerd-shim-runc-v2, ctr"
  src="$out/src"
  wrapper "$src" "$m" "$CONTAINERD_VERSION" >/dev/null
  for p in cmd/containerd cmd/containerd-shim-runc-v2 cmd/ctr; do echo "tool $m/$p" >>"$src/go.mod"; done
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the containerd wrapper failed"
  flags="-s -w -X $m/version.Version=$CONTAINERD_VERSION -X $m/version.Package=$m"
  mkdir -p "$out/bin"
  # upstream's Makefile: the shim is static and built without gRPC; cgo only serves the btrfs snapshotter (unused)
  (cd "$src" && go build -trimpath -tags urfave_cli_no_docs -ldflags "$flags" -o "$out/bin/" "$m/cmd/containerd" "$m/cmd/ctr") ||
    die "building containerd failed"
  (cd "$src" && go build -trimpath -tags "urfave_cli_no_docs no_grpc" -ldflags "$flags" -o "$out/bin/" "$m/cmd/containerd-shim-runc-v2") ||
    die "building containerd-shim-runc-v2 failed"
  "$out/bin/containerd" --version | grep -q "$CONTAINERD_VERSION" || die "containerd does not report $CONTAINERD_VERSION"
  finish "$out"
}

build_cni_plugins() {
  local out="$cache/cni-plugins-$CNI_PLUGINS_VERSION" src m=github.com/containernetworking/plugins
  [ -f "$out/.complete" ] && return 0
  log "CNI plugins $CNI_PLUGINS_VERSION: bridge, host-local, loopback, portmap"
  src="$out/src"
  wrapper "$src" "$m" "$CNI_PLUGINS_VERSION" >/dev/null
  local pkgs=("$m/plugins/main/bridge" "$m/plugins/ipam/host-local" "$m/plugins/main/loopback" "$m/plugins/meta/portmap")
  for p in "${pkgs[@]}"; do echo "tool $p" >>"$src/go.mod"; done
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the CNI plugins wrapper failed"
  mkdir -p "$out/bin"
  (cd "$src" && go build -trimpath -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_PLUGINS_VERSION" \
    -o "$out/bin/" "${pkgs[@]}") || die "building the CNI plugins failed"
  finish "$out"
}

# CoreDNS from our own main (scripts/cluster/coredns): only the plugins the local cluster uses. Cached by version and
# the hash of that main.
build_coredns() {
  local hash out src
  hash="$(sha256sum "$here/coredns/main.go" | cut -c1-12)"
  out="$cache/coredns-$COREDNS_VERSION-$hash"
  [ -f "$out/.complete" ] && return 0
  log "CoreDNS $COREDNS_VERSION (plugins: cache, errors, health, kubernetes, ready)"
  src="$out/src"
  wrapper "$src" github.com/coredns/coredns "$COREDNS_VERSION" >/dev/null
  cp "$here/coredns/main.go" "$src/"
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the CoreDNS main failed"
  mkdir -p "$out/bin"
  (cd "$src" && go build -trimpath -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" -o "$out/bin/coredns" .) ||
    die "building CoreDNS failed"
  "$out/bin/coredns" -plugins | grep -qx kubernetes || die "CoreDNS lacks its kubernetes plugin"
  finish "$out"
}

# Traefik from a wrapper module, with a local copy of lego (its ACME library) whose DNS-01 provider registry is
# scripts/cluster/traefik/dns_providers.go: a third fewer packages to build. Cached by version and that file's hash.
build_traefik() {
  local hash out src upstream lego m=github.com/traefik/traefik/v3
  hash="$(sha256sum "$here/traefik/dns_providers.go" | cut -c1-12)"
  out="$cache/traefik-$TRAEFIK_VERSION-$hash"
  [ -f "$out/.complete" ] && return 0
  log "Traefik $TRAEFIK_VERSION (without lego's DNS-01 providers)"
  src="$out/src"
  upstream="$(wrapper "$src" "$m" "$TRAEFIK_VERSION")"
  # Traefik's go.mod replaces forks of some dependencies (a block of `old => new version` lines); a replace applies
  # only in the main module, so the wrapper repeats them.
  sed -n '/^replace (/,/^)/p; /^replace [^(]/p' "$upstream" >>"$src/go.mod"
  echo "tool $m/cmd/traefik" >>"$src/go.mod"
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the Traefik wrapper failed"
  lego="$(cd "$src" && go list -m -f '{{.Dir}}' github.com/go-acme/lego/v4)"
  [ -f "$lego/providers/dns/zz_gen_dns_providers.go" ] || die "lego has no providers/dns/zz_gen_dns_providers.go to stand in for"
  cp -r "$lego" "$src/lego" && chmod -R u+w "$src/lego"
  cp "$here/traefik/dns_providers.go" "$src/lego/providers/dns/zz_gen_dns_providers.go"
  echo "replace github.com/go-acme/lego/v4 => ./lego" >>"$src/go.mod"
  mkdir -p "$out/bin"
  (cd "$src" && go build -trimpath -ldflags "-s -w -X $m/pkg/version.Version=$TRAEFIK_VERSION" -o "$out/bin/traefik" "$m/cmd/traefik") ||
    die "building Traefik failed"
  "$out/bin/traefik" version | grep -q "${TRAEFIK_VERSION#v}" || die "traefik does not report $TRAEFIK_VERSION"
  finish "$out"
}

# go_tool OUT MODULE VERSION CMD LDFLAGS: the command CMD of MODULE at VERSION, built from a wrapper module into OUT/bin
go_tool() {
  local out="$1" m="$2" version="$3" cmd="$4" ldflags="$5" src="$1/src"
  wrapper "$src" "$m" "$version" >/dev/null
  echo "tool $m/cmd/$cmd" >>"$src/go.mod"
  (cd "$src" && go mod tidy >/dev/null) || die "go mod tidy of the $cmd wrapper failed"
  mkdir -p "$out/bin"
  (cd "$src" && go build -trimpath -ldflags "-s -w $ldflags" -o "$out/bin/$cmd" "$m/cmd/$cmd") || die "building $cmd failed"
}

# kube-router: only its network-policy controller runs (--run-firewall), out of cluster (real-node.ts).
build_kube_router() {
  local out="$cache/kube-router-$KUBE_ROUTER_VERSION" m=github.com/cloudnativelabs/kube-router/v2
  [ -f "$out/.complete" ] && return 0
  log "kube-router $KUBE_ROUTER_VERSION"
  go_tool "$out" "$m" "$KUBE_ROUTER_VERSION" kube-router "-X $m/pkg/version.Version=$KUBE_ROUTER_VERSION"
  "$out/bin/kube-router" --version 2>&1 | grep -q "$KUBE_ROUTER_VERSION" || die "kube-router does not report $KUBE_ROUTER_VERSION"
  finish "$out"
}

build_metrics_server() {
  local out="$cache/metrics-server-$METRICS_SERVER_VERSION"
  [ -f "$out/.complete" ] && return 0
  log "metrics-server $METRICS_SERVER_VERSION"
  # upstream's Makefile sets client-go's version variables
  go_tool "$out" sigs.k8s.io/metrics-server "$METRICS_SERVER_VERSION" metrics-server \
    "-X k8s.io/client-go/pkg/version.gitVersion=$METRICS_SERVER_VERSION"
  "$out/bin/metrics-server" --version | grep -q "$METRICS_SERVER_VERSION" || die "metrics-server does not report $METRICS_SERVER_VERSION"
  finish "$out"
}

build_crictl() {
  local out="$cache/cri-tools-$CRI_TOOLS_VERSION" m=sigs.k8s.io/cri-tools
  [ -f "$out/.complete" ] && return 0
  log "crictl $CRI_TOOLS_VERSION"
  go_tool "$out" "$m" "$CRI_TOOLS_VERSION" crictl "-X $m/pkg/version.Version=$CRI_TOOLS_VERSION"
  finish "$out"
}

# The pod sandbox process (scripts/cluster/pause), cached by the hash of its source.
build_pause() {
  local hash out
  hash="$(sha256sum "$here/pause/main.go" | cut -c1-12)"
  out="$cache/pause-$hash"
  [ -f "$out/.complete" ] && return 0
  log "pause ($hash)"
  rm -rf "$out" && mkdir -p "$out/src" "$out/bin"
  cp "$here/pause/main.go" "$out/src/"
  printf 'module apprunner-k8s.local/pause\n\ngo 1.26.0\n' >"$out/src/go.mod"
  (cd "$out/src" && go build -trimpath -ldflags "-s -w" -o "$out/bin/pause" .) || die "building pause failed"
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
expanded=()
for c in "${components[@]}"; do
  # `node`: everything the real node runs (npm run cluster -- up --node=real)
  if [ "$c" = node ]; then expanded+=(pause crictl cni-plugins containerd coredns kubernetes-node kube-router metrics-server traefik); else expanded+=("$c"); fi
done
for c in "${expanded[@]}"; do
  case "$c" in
    kubernetes) build_kubernetes ;;
    kubernetes-node) build_kubernetes_node ;;
    containerd) build_containerd ;;
    cni-plugins) build_cni_plugins ;;
    coredns) build_coredns ;;
    crictl) build_crictl ;;
    kube-router) build_kube_router ;;
    metrics-server) build_metrics_server ;;
    traefik) build_traefik ;;
    pause) build_pause ;;
    etcd) build_etcd ;;
    kwok) build_kwok ;;
    cert-manager) build_cert_manager ;;
    gateway-api) build_gateway_api ;;
    *) die "unknown component $c" ;;
  esac
done
echo "$cache"
