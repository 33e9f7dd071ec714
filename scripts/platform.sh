#!/usr/bin/env bash
# Runs the control plane on this machine: migrations, build, then the API on $PORT (default 8080) and, when
# KUBECONFIG points at a cluster, the worker that reconciles services into it.
# Needs PostgreSQL and Redis (DATABASE_URL / REDIS_URL). MASTER_KEY and ADMIN_TOKEN are generated
# into .env.local on first run and reused afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f .env.local ]; then
  umask 077
  {
    echo "MASTER_KEY=$(node -e 'console.log(require("crypto").randomBytes(32).toString("base64"))')"
    echo "ADMIN_TOKEN=$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
  } > .env.local
  echo "Generated .env.local with MASTER_KEY and ADMIN_TOKEN (keep it secret)."
fi
set -a; . ./.env.local; set +a
npm run db:migrate
npm run build
if [ -n "${KUBECONFIG:-}" ]; then
  node dist/apps/worker/src/main.js &
  worker=$!
  trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
  echo "Worker started (pid $worker), reconciling into the cluster of $KUBECONFIG."
else
  echo "KUBECONFIG is not set: the API runs without a worker, so operations stay PENDING until one runs."
fi
node dist/apps/api/src/main.js
