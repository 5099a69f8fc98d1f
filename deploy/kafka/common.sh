# shellcheck shell=bash
# Shared settings for start.sh / stop.sh (sourced, not executed).
KAFKA_HOME_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KAFKA_VERSION=${KAFKA_VERSION:-$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$KAFKA_HOME_DIR/pom.xml")}
KAFKA_LIB=${KAFKA_LIB_DIR:-$KAFKA_HOME_DIR/lib/$KAFKA_VERSION}
KAFKA_HOST=${KAFKA_HOST:-127.0.0.1}
# single node
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_DATA_DIR=${KAFKA_DATA_DIR:-/tmp/fulfil-kafka}
# three-node cluster: brokers on BASE..BASE+2, controllers on BASE+100..BASE+102
KAFKA_CLUSTER_BASE_PORT=${KAFKA_CLUSTER_BASE_PORT:-9192}
KAFKA_CLUSTER_DIR=${KAFKA_CLUSTER_DIR:-/tmp/fulfil-kafka-cluster}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_JVM_OPTS=${KAFKA_JVM_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-120}

log() { echo "[kafka] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# node_dir <mode> <id>: working dir of a node (config, data/, logs/, kafka.pid)
node_dir() { if [[ $1 == single ]]; then echo "$KAFKA_DATA_DIR"; else echo "$KAFKA_CLUSTER_DIR/node$2"; fi; }
node_port() { if [[ $1 == single ]]; then echo "$KAFKA_PORT"; else echo $((KAFKA_CLUSTER_BASE_PORT + $2 - 1)); fi; }
node_cport() { if [[ $1 == single ]]; then echo "$KAFKA_CONTROLLER_PORT"; else echo $((KAFKA_CLUSTER_BASE_PORT + 99 + $2)); fi; }

# node_pid <dir>: prints the pid if that node's JVM is running, else fails
node_pid() {
  local f=$1/kafka.pid pid
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && grep -q 'kafka\.Kafka' "/proc/$pid/cmdline" 2>/dev/null; then
    echo "$pid"
  else
    return 1
  fi
}

# alive <pid>: some thread still runs. A killed broker can stay a zombie until init reaps
# it, and its main thread turns zombie before the other threads have exited.
alive() {
  local st
  st=$(awk '/^State:/ {s = $2} /^Threads:/ {t = $2} END {print s t}' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $st && $st != Z1 ]]
}

# Run a Kafka CLI class (quiet logging, fast-starting JVM).
kafka_tool() {
  java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$KAFKA_HOME_DIR/log4j2-tools.properties" \
    -cp "$KAFKA_LIB/*" "$@"
}
