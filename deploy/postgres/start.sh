#!/usr/bin/env bash
# Start a local PostgreSQL (Debian packaging) with the project's role and databases.
# Installs the postgresql package if missing (needs root), creates/starts cluster
# $PG_VERSION/$PG_CLUSTER on 127.0.0.1:$PG_PORT, then (idempotently) creates role
# $PG_USER and the databases. Prints one NAME_DATABASE_URL=postgresql+asyncpg://... line per
# database on stdout (progress goes to stderr), so:  eval "$(deploy/postgres/start.sh)"
set -euo pipefail
PG_USER=${PG_USER:-fulfil}
PG_PASSWORD=${PG_PASSWORD:-fulfil}
PG_HOST=127.0.0.1
PG_PORT=${PG_PORT:-5432}
PG_CLUSTER=${PG_CLUSTER:-main}
PG_DATABASES=${PG_DATABASES:-fulfil_order fulfil_warehouse fulfil_aftersales fulfil_test}

log() { echo "[postgres] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
as_postgres() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"
  elif [[ $(id -un) == postgres ]]; then "$@"
  else sudo -n -u postgres "$@"; fi
}

if ! command -v pg_ctlcluster >/dev/null || ! compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
  [[ $(id -u) == 0 ]] || die "PostgreSQL is not installed; run as root or: apt-get install postgresql"
  log "installing PostgreSQL with apt-get ..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PG_VERSION=${PG_VERSION:-$(ls /usr/lib/postgresql | sort -V | tail -n 1)}
conf=/etc/postgresql/$PG_VERSION/$PG_CLUSTER

if ! pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c {f=1} END {exit !f}'; then
  log "creating cluster $PG_VERSION/$PG_CLUSTER (port $PG_PORT)"
  pg_createcluster --port "$PG_PORT" "$PG_VERSION" "$PG_CLUSTER" >&2
fi

# Settings for a local dev/test server (re-applied on every start; restart if they changed).
# No TLS: the server listens on 127.0.0.1 only, and asyncpg would otherwise negotiate TLS
# (sslmode=prefer) and encrypt every local round trip.
settings="listen_addresses = '$PG_HOST'
port = $PG_PORT
max_connections = 200
shared_buffers = 256MB
ssl = off
log_min_duration_statement = 1000"
if [[ $(cat "$conf/conf.d/fulfil.conf" 2>/dev/null) != "$settings" ]]; then
  log "writing $conf/conf.d/fulfil.conf"
  echo "$settings" > "$conf/conf.d/fulfil.conf"
  pg_conftool -s "$PG_VERSION" "$PG_CLUSTER" set port "$PG_PORT"  # pg_lsclusters reads the port from here
  if pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c && $4=="online" {f=1} END {exit !f}'; then
    log "restarting $PG_VERSION/$PG_CLUSTER to apply the settings"
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" restart
  fi
fi

if pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c && $4=="online" {f=1} END {exit !f}'; then
  log "cluster $PG_VERSION/$PG_CLUSTER already running"
else
  log "starting cluster $PG_VERSION/$PG_CLUSTER on $PG_HOST:$PG_PORT"
  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
fi

for _ in $(seq 1 120); do
  pg_isready -q -h "$PG_HOST" -p "$PG_PORT" && break
  sleep 0.25
done
pg_isready -h "$PG_HOST" -p "$PG_PORT" >&2 || die "server not ready, see /var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log"

log "ensuring role $PG_USER and databases: $PG_DATABASES"
{
  echo "SELECT format('CREATE ROLE %I', :'user') WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'user') \\gexec"
  echo "SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'pw') \\gexec"
  # Tests drop their databases WITH (FORCE), which terminates leftover connections.
  echo "SELECT format('GRANT pg_signal_backend TO %I', :'user') \\gexec"
  for db in $PG_DATABASES; do
    echo "SELECT format('CREATE DATABASE %I OWNER %I', '$db', :'user') WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$db') \\gexec"
  done
} | as_postgres psql -X -q -p "$PG_PORT" -d postgres -v ON_ERROR_STOP=1 -v user="$PG_USER" -v pw="$PG_PASSWORD" >/dev/null

for db in $PG_DATABASES; do
  name=${db#fulfil_}
  echo "${name^^}_DATABASE_URL=postgresql+asyncpg://$PG_USER:$PG_PASSWORD@$PG_HOST:$PG_PORT/$db"
done
log "ready (${SECONDS}s)"
