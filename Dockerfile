# syntax=docker/dockerfile:1
# apprunner-k8s: one image for the API, the worker and the migration Job (see README, "Install on Kubernetes (Helm)").
#   API:        node dist/apps/api/src/main.js            (default command)
#   worker:     node dist/apps/worker/src/main.js
#   migrations: node dist/libs/persistence/src/migrate/cli.js deploy
# The migration CLI runs compiled (nest build compiles all of libs/), so the image needs no vite-node, vitest
# config or TypeScript sources and keeps production dependencies only.

# The Node.js of .node-version (the project pins it there; test/chart checks that this line agrees).
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NODE_ENV=development \
    npm_config_update_notifier=false \
    npm_config_fund=false \
    npm_config_audit=false
COPY package.json package-lock.json ./
# Install scripts are skipped: the only one the build needs is `prisma generate` (run below, after the schema is
# copied); the others would download native Prisma engines, which the WebAssembly schema engine makes unnecessary.
# Behind a TLS-intercepting proxy, pass its CA as the build secret `extra_ca` (`--secret id=extra_ca,src=<pem>`):
# npm trusts it for this step only, and it never lands in a layer.
RUN --mount=type=secret,id=extra_ca \
    if [ -s /run/secrets/extra_ca ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/extra_ca; fi \
 && npm ci --ignore-scripts
COPY tsconfig.json tsconfig.build.json nest-cli.json prisma.config.ts ./
COPY scripts/prisma-generate.sh scripts/
COPY prisma/ prisma/
RUN bash scripts/prisma-generate.sh
COPY apps/ apps/
COPY libs/ libs/
RUN npm run build \
 && npm prune --omit=dev --ignore-scripts \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
# NO_COLOR: Nest's console logger writes ANSI colour codes unless told not to, and a container's output is read by
# `kubectl logs` and log collectors, not a terminal.
ENV NODE_ENV=production \
    NO_COLOR=1 \
    PORT=8080 \
    HOST=0.0.0.0
# git: the worker checks out the commit of a code-based service to read apprunner.yaml and plan the build (the build
# itself runs in a Kubernetes Job, BUILD_DRIVER=kubernetes, or with buildah where it is installed).
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build --chown=0:0 /app/package.json ./package.json
COPY --from=build --chown=0:0 /app/node_modules/ ./node_modules/
COPY --from=build --chown=0:0 /app/dist/ ./dist/
# The migration CLI uses the nearest prisma/ above its compiled file (dist/libs/persistence/src/migrate → /app/prisma).
COPY --from=build --chown=0:0 /app/prisma/ ./prisma/
# The API serves the OpenAPI document from <cwd>/docs/openapi.json.
COPY --chown=0:0 docs/openapi.json ./docs/openapi.json
# Files are owned by root and read-only to the process; it runs as the image's `node` user, numerically so that
# Kubernetes can enforce runAsNonRoot. Nothing is written at run time except /tmp (an emptyDir in the chart).
USER 1000:1000
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "dist/apps/api/src/main.js"]
