#!/usr/bin/env bash
# Set-up shared by `npm test`, `npm run platform` and CI, safe to run again: installs the Debian packages the
# platform and its suites need, then makes sure PostgreSQL (127.0.0.1:5432, user postgres without a password from
# loopback, database `test`) and Redis (127.0.0.1:6379) run. It changes nothing that is already in place.
#   SETUP_SKIP=1     do nothing (you run PostgreSQL and Redis yourself: set DATABASE_URL / REDIS_URL)
set -euo pipefail
[ "${SETUP_SKIP:-}" = 1 ] && exit 0
say() { echo "[setup] $*" >&2; }

# command:package pairs. postgresql, redis-server: the stores. awscli: CLI compatibility suite. buildah, skopeo,
# docker-registry, busybox-static, apache2-utils (htpasswd), git: real image builds pushed to a registry on loopback.
# openssl: certificates of the local cluster. nftables, iproute2: the real node's pod network and its isolation.
# runc, iptables: the local cluster's real node (npm run cluster -- up --node=real); ipset: its NetworkPolicy engine
# (kube-router's firewall).
wanted="pg_ctlcluster:postgresql redis-server:redis-server aws:awscli buildah:buildah skopeo:skopeo
docker-registry:docker-registry busybox:busybox-static htpasswd:apache2-utils git:git openssl:openssl nft:nftables ip:iproute2
runc:runc iptables:iptables ipset:ipset"
missing=""
for pair in $wanted; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
done
# pg_ctlcluster alone (postgresql-common) is not a server
[ -n "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null)" ] || missing="$missing postgresql"
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo="sudo"; }
  if [ "$(id -u)" != 0 ] && [ -z "$sudo" ]; then
    say "missing Debian packages:$missing; install them as root (apt-get install$missing) or run as root"
    exit 1
  fi
  say "installing Debian packages:$missing"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# PostgreSQL: trust for loopback TCP (a development and CI machine), started if down, database `test`.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  version="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$version" ]; then
    version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
    say "creating PostgreSQL $version cluster main"
    pg_createcluster "$version" main >/dev/null
  fi
  hba="/etc/postgresql/$version/main/pg_hba.conf"
  if ! grep -q '^# apprunner-k8s' "$hba"; then
    say "PostgreSQL: trusting loopback connections ($hba)"
    tmp="$(mktemp)"
    { echo '# apprunner-k8s: development/CI machine, loopback trusted'
      echo 'host all all 127.0.0.1/32 trust'
      echo 'host all all ::1/128 trust'
      cat "$hba"; } >"$tmp"
    cat "$tmp" >"$hba" && rm -f "$tmp"
  fi
  say "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
pg_isready -h 127.0.0.1 -p 5432 -q || { say "PostgreSQL did not start on 127.0.0.1:5432"; exit 1; }
if ! psql -h 127.0.0.1 -U postgres -d test -Atc 'select 1' >/dev/null 2>&1; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc 'create database test' >/dev/null \
    || { say "cannot reach PostgreSQL as postgres without a password (set DATABASE_URL, or SETUP_SKIP=1)"; exit 1; }
fi

# Redis: no persistence, loopback only.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis on 127.0.0.1:6379"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
fi
for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.5; done
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { say "Redis did not start on 127.0.0.1:6379"; exit 1; }
