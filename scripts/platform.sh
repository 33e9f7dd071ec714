#!/usr/bin/env bash
# Runs the whole platform on this machine: PostgreSQL and Redis (installed and started if needed), migrations, the
# build, a Kubernetes cluster (the local one from scripts/cluster unless KUBECONFIG names another: with a real node
# where this machine can run one, KWOK's simulated nodes elsewhere, APPRUNNER_NODE=real|kwok to choose), the worker
# that reconciles services into it, and the API on $PORT (default 8080).
# MASTER_KEY and ADMIN_TOKEN are generated into .env.local on first run and reused afterwards.
# The local cluster keeps running after the platform stops (a restart takes seconds): npm run cluster -- down.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { echo "[platform] $*" >&2; }
# the project's Node.js (.node-version), also when this was started by an npm running on another one
PATH="$(bash scripts/setup/node.sh):$PATH"
export PATH

bash scripts/setup/services.sh
if [ ! -f .env.local ]; then
  umask 077
  {
    echo "MASTER_KEY=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')"
    echo "ADMIN_TOKEN=$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
  } > .env.local
  say "generated .env.local with MASTER_KEY and ADMIN_TOKEN (keep it secret)"
fi
set -a; . ./.env.local; set +a
npm run --silent db:migrate
npm run --silent build

rm -f .tmp/platform.env
if [ -z "${KUBECONFIG:-}" ]; then
  # APPRUNNER_NODE=real|kwok chooses; by default a real node where this machine can run one (root, runc, cgroups),
  # KWOK's simulated nodes elsewhere (the cluster command says which, and why)
  npm run --silent cluster -- up --node="${APPRUNNER_NODE:-auto}" >/dev/null
  # KUBECONFIG, APPRUNNER_NODE, KUBE_CERT_ISSUER (the local CA's issuer), and with a real node its registry and
  # Traefik's Ingress class and loopback ports
  issuer="${KUBE_CERT_ISSUER:-}"
  eval "$(npm run --silent cluster -- env)"
  KUBE_CERT_ISSUER="${issuer:-$KUBE_CERT_ISSUER}"
  export KUBECONFIG KUBE_CERT_ISSUER
  if [ "$APPRUNNER_NODE" = real ]; then
    export KUBE_INGRESS_CLASS KUBE_INGRESS_NAMESPACE
    sample="$(bash scripts/image/sample-app.sh "$APPRUNNER_REGISTRY" | tail -n 1)"
    mkdir -p .tmp
    printf 'SAMPLE_IMAGE=%s\nGATEWAY=%s\n' "$sample" "$APPRUNNER_GATEWAY" >.tmp/platform.env
    say "a real node runs the services: pods are containers, their URLs answer at $APPRUNNER_GATEWAY (Host: <ServiceUrl>)"
    say "the README walk's image: $sample (in .tmp/platform.env)"
  else
    say "KWOK simulates the nodes: pods become Running, no container runs (APPRUNNER_NODE=real for a real node, as root)"
  fi
fi
say "worker reconciling into the cluster of $KUBECONFIG"
node dist/apps/worker/src/main.js &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
say "API on http://localhost:${PORT:-8080} (admin token: ADMIN_TOKEN in .env.local)"
node dist/apps/api/src/main.js
