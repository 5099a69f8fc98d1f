#!/usr/bin/env bash
# Stop Kafka started by start.sh.
#   stop.sh                     stop the single node
#   stop.sh --cluster           stop all three cluster nodes
#   stop.sh --node 2            stop only node 2 of the cluster (fault tests; restart: start.sh --node 2)
#   --kill                      SIGKILL instead of a clean shutdown (simulates a crash)
#   --clean                     throw the node's data/logs away (SIGKILL, then delete)
# Stopping something that is not running is a no-op.
set -euo pipefail
# shellcheck source=common.sh
source "$(dirname "$0")/common.sh"

mode=single; nodes=(1); sig=TERM; clean=no
while (($#)); do
  case $1 in
    --cluster) mode=cluster; nodes=(1 2 3) ;;
    --node) mode=cluster; nodes=("${2:?--node needs a number 1-3}"); shift ;;
    --kill) sig=KILL ;;
    --clean) clean=yes; sig=KILL ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
  shift
done

pids=()
for n in "${nodes[@]}"; do
  dir=$(node_dir "$mode" "$n")
  if pid=$(node_pid "$dir"); then
    log "stopping node $n (pid $pid, SIG$sig)"
    kill "-$sig" "$pid"; pids+=("$pid")
  else
    log "node $n is not running"
  fi
done

# a node that lost its controller quorum (2 of 3 down) cannot shut down cleanly: SIGKILL after the timeout
deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT:-30}))
for pid in "${pids[@]}"; do
  while alive "$pid"; do
    if ((SECONDS >= deadline)); then
      log "pid $pid still running after ${KAFKA_STOP_TIMEOUT:-30}s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true; deadline=$((SECONDS + 3600))
    fi
    sleep 0.2
  done
done

for n in "${nodes[@]}"; do
  dir=$(node_dir "$mode" "$n")
  rm -f "$dir/kafka.pid"
  if [[ $clean == yes ]]; then log "deleting $dir"; rm -rf "$dir"; fi
done
[[ $clean == yes && $mode == cluster && ${#nodes[@]} == 3 ]] && rm -rf "$KAFKA_CLUSTER_DIR"
log "stopped (${SECONDS}s)"
