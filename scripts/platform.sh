#!/usr/bin/env bash
# Runs the whole platform on this machine: PostgreSQL and Redis (installed and started if needed), migrations, the
# build, a Kubernetes cluster (the local one from scripts/cluster unless KUBECONFIG names another), the worker that
# reconciles services into it, and the API on $PORT (default 8080).
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

if [ -z "${KUBECONFIG:-}" ]; then
  say "no KUBECONFIG: starting the local cluster (KWOK simulates the nodes: pods become Running, no container runs)"
  KUBECONFIG="$(npm run --silent cluster -- up)"
  export KUBECONFIG
  # custom domains get certificates from the local cluster's own CA, issued by its cert-manager
  export KUBE_CERT_ISSUER="${KUBE_CERT_ISSUER:-apprunner-local-ca}"
fi
say "worker reconciling into the cluster of $KUBECONFIG"
node dist/apps/worker/src/main.js &
worker=$!
trap 'kill "$worker" 2>/dev/null || true; wait "$worker" 2>/dev/null || true' EXIT INT TERM
say "API on http://localhost:${PORT:-8080} (admin token: ADMIN_TOKEN in .env.local)"
node dist/apps/api/src/main.js
