#!/usr/bin/env bash
# Stop the PostgreSQL cluster started by start.sh (no-op when it is not running).
set -euo pipefail
PG_CLUSTER=${PG_CLUSTER:-main}
log() { echo "[postgres] $*" >&2; }
if ! command -v pg_lsclusters >/dev/null; then log "PostgreSQL is not installed"; exit 0; fi
PG_VERSION=${PG_VERSION:-$(ls /usr/lib/postgresql | sort -V | tail -n 1)}
if pg_lsclusters -h | awk -v v="$PG_VERSION" -v c="$PG_CLUSTER" '$1==v && $2==c && $4=="online" {f=1} END {exit !f}'; then
  log "stopping cluster $PG_VERSION/$PG_CLUSTER"
  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" stop
  log "stopped"
else
  log "cluster $PG_VERSION/$PG_CLUSTER is not running"
fi
