#!/usr/bin/env bash
# Local, Docker-free stack for attune: one Apache Kafka broker (KRaft,
# single node) and one Redis server, both on 127.0.0.1 on free ports.
#
#   deploy/local/stack.sh up           start (or reuse) the stack; prints export lines
#   deploy/local/stack.sh env          print the export lines of the running stack
#   deploy/local/stack.sh status       say what runs (exit 0 only if both run)
#   deploy/local/stack.sh down         stop what `up` started, remove its data (logs stay)
#   deploy/local/stack.sh stop-redis   stop Redis only (its port stays recorded)
#   deploy/local/stack.sh start-redis  start Redis again on the same port
#   deploy/local/stack.sh kill-kafka   kill the broker at once (SIGKILL: a crash; data kept)
#   deploy/local/stack.sh start-kafka  start the broker again on the same port
#
# `up` prints exactly two lines on stdout (everything else goes to stderr):
#   export ATTUNE_KAFKA_BOOTSTRAP=127.0.0.1:<port>
#   export ATTUNE_REDIS_URL=redis://127.0.0.1:<port>/0
# so `eval "$(deploy/local/stack.sh up)"` sets up a shell.
#
# Environment:
#   ATTUNE_STACK_DIR          state dir (default: <repo>/.stack)
#   ATTUNE_CACHE_DIR          jar cache, shared between state dirs (default: <repo>/.cache)
#   ATTUNE_STACK_TIMEOUT      readiness deadline in seconds (default 120)
#   ATTUNE_TOPIC_PARTITIONS   partitions of the main topics (default 6)
#   ATTUNE_STACK_KAFKA_PORT, ATTUNE_STACK_REDIS_PORT, ATTUNE_STACK_CONTROLLER_PORT
#                             fixed ports instead of free ones picked at run time
#   ATTUNE_STACK_KAFKA_HEAP   broker heap flags (default "-Xms512m -Xmx1g")
#   ATTUNE_STACK_STOP_TIMEOUT seconds to wait after SIGTERM before SIGKILL (30)
#   ATTUNE_KAFKA_BOOTSTRAP + ATTUNE_REDIS_URL
#                             both set: `up` starts nothing and prints them
#
# The services read every other ATTUNE_KAFKA_* variable as a librdkafka
# property, so this script's own knobs are named ATTUNE_STACK_* (it hides
# none of them from the services).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd -P)

KAFKA_VERSION=3.9.1
POM="$SCRIPT_DIR/kafka/pom.xml"
TIMEOUT=${ATTUNE_STACK_TIMEOUT:-120}
STOP_TIMEOUT=${ATTUNE_STACK_STOP_TIMEOUT:-30}
PARTITIONS=${ATTUNE_TOPIC_PARTITIONS:-6}
KAFKA_HEAP=${ATTUNE_STACK_KAFKA_HEAP:--Xms512m -Xmx1g}
ADMIN_BIN="$REPO_ROOT/build/bin/attune-admin"

# The topics and their partition counts: the one place they are listed here.
TOPICS=(
  "attune.interactions.v1:$PARTITIONS"
  "attune.interactions.enriched.v1:$PARTITIONS"
  "attune.interactions.classified.v1:$PARTITIONS"
  "attune.decisions.routing.v1:$PARTITIONS"
  "attune.decisions.crm.v1:$PARTITIONS"
  "attune.outcomes.v1:$PARTITIONS"
  "attune.deadletter.v1:3"
)

log() { printf 'stack: %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
is_uint "$TIMEOUT" || die "ATTUNE_STACK_TIMEOUT must be a number of seconds, not '$TIMEOUT'"
is_uint "$STOP_TIMEOUT" || die "ATTUNE_STACK_STOP_TIMEOUT must be a number of seconds, not '$STOP_TIMEOUT'"
if ! is_uint "$PARTITIONS" || ((PARTITIONS == 0)); then
  die "ATTUNE_TOPIC_PARTITIONS must be a positive number, not '$PARTITIONS'"
fi

# --- paths -------------------------------------------------------------------

abs_dir() { # create $1 if needed and print its absolute path
  mkdir -p -- "$1"
  (cd -- "$1" && pwd -P)
}

STATE_DIR=$(abs_dir "${ATTUNE_STACK_DIR:-$REPO_ROOT/.stack}")
CACHE_DIR=$(abs_dir "${ATTUNE_CACHE_DIR:-$REPO_ROOT/.cache}")
KAFKA_HOME="$CACHE_DIR/kafka-$KAFKA_VERSION"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_MARKER="$KAFKA_HOME/.complete"

LOG_DIR="$STATE_DIR/logs"
KAFKA_DIR="$STATE_DIR/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_LOG4J="$KAFKA_DIR/log4j.properties"
KAFKA_PIDFILE="$KAFKA_DIR/kafka.pid"
KAFKA_LOG="$LOG_DIR/kafka.log"
REDIS_DIR="$STATE_DIR/redis"
REDIS_PIDFILE="$REDIS_DIR/redis.pid"
REDIS_LOG="$LOG_DIR/redis.log"
PORTS_FILE="$STATE_DIR/ports"
ENV_FILE="$STATE_DIR/env"

# --- small helpers -----------------------------------------------------------

# state_get KEY: value of KEY=VALUE in the ports file (empty if none).
state_get() {
  local key=$1 k v
  [[ -f $PORTS_FILE ]] || return 0
  while IFS='=' read -r k v; do
    if [[ $k == "$key" ]]; then
      printf '%s\n' "$v"
      return 0
    fi
  done <"$PORTS_FILE"
}

# state_set KEY VALUE: record KEY=VALUE in the ports file.
state_set() {
  local key=$1 val=$2 tmp="$PORTS_FILE.tmp" k v
  : >"$tmp"
  if [[ -f $PORTS_FILE ]]; then
    while IFS='=' read -r k v; do
      [[ -n $k && $k != "$key" ]] && printf '%s=%s\n' "$k" "$v" >>"$tmp"
    done <"$PORTS_FILE"
  fi
  printf '%s=%s\n' "$key" "$val" >>"$tmp"
  mv -f -- "$tmp" "$PORTS_FILE"
}

# pid_matches PIDFILE PATTERN...: the recorded pid is alive and its command
# line contains every PATTERN (so a recycled pid is never taken for ours).
pid_matches() {
  local pidfile=$1 pid cmdline pat
  shift
  [[ -f $pidfile ]] || return 1
  pid=$(tr -dc '0-9' <"$pidfile")
  [[ -n $pid ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  for pat in "$@"; do
    [[ $cmdline == *"$pat"* ]] || return 1
  done
  printf '%s\n' "$pid"
}

kafka_pid() { pid_matches "$KAFKA_PIDFILE" kafka.Kafka "$KAFKA_PROPS"; }
redis_pid() {
  local port
  port=$(state_get redis_port)
  [[ -n $port ]] || return 1
  # Matches both the command line redis-server starts with and the title it
  # then sets for itself ("redis-server 127.0.0.1:<port>").
  pid_matches "$REDIS_PIDFILE" redis-server "$port"
}

# proc_alive PID: the process exists and is not a zombie.
proc_alive() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# wait_cmdline PIDFILE PATTERN...: just after a launch, wait (briefly) until
# the recorded pid has exec'd into the expected program.
wait_cmdline() {
  local pidfile=$1 deadline=$((SECONDS + 10)) pid
  pid=$(tr -dc '0-9' <"$pidfile")
  until pid_matches "$@" >/dev/null; do
    proc_alive "$pid" || return 1
    ((SECONDS < deadline)) || return 1
    sleep 0.05
  done
}

# stop_pid PID NAME: SIGTERM, wait up to STOP_TIMEOUT seconds, then SIGKILL.
stop_pid() {
  local pid=$1 name=$2 deadline=$((SECONDS + STOP_TIMEOUT))
  kill -TERM "$pid" 2>/dev/null || return 0
  while proc_alive "$pid"; do
    if ((SECONDS >= deadline)); then
      log "$name (pid $pid) still running after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      deadline=$((SECONDS + 10))
      while proc_alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.1
      done
      break
    fi
    sleep 0.2
  done
}

# port_free PORT: nothing listens on 127.0.0.1:PORT and it can be bound.
# SO_REUSEADDR as the servers themselves set it, so connections of a stopped
# server still in TIME_WAIT do not count as "taken".
port_free() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
finally:
    s.close()
PY
}

# free_ports N: N distinct ports that can be bound on 127.0.0.1, picked at
# random below the kernel's ephemeral range (so outgoing connections do not
# grab them between the pick and the bind).
free_ports() {
  python3 - "$1" <<'PY'
import random, socket, sys
n = int(sys.argv[1])
lo, hi = 32768, 60999
try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        lo, hi = (int(x) for x in f.read().split())
except (OSError, ValueError):
    pass
if lo > 12000:
    candidates = list(range(10000, lo))
else:
    candidates = list(range(max(hi + 1, 1024), 65536))
random.shuffle(candidates)
picked = []
for port in candidates:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    picked.append(port)
    if len(picked) == n:
        break
if len(picked) < n:
    sys.exit("no free ports on 127.0.0.1")
print(" ".join(str(p) for p in picked))
PY
}

env_lines() {
  printf 'export ATTUNE_KAFKA_BOOTSTRAP=%s\n' "$1"
  printf 'export ATTUNE_REDIS_URL=%s\n' "$2"
}

print_recorded_env() {
  [[ -f $ENV_FILE ]] || die "no stack recorded in $STATE_DIR (run: $0 up)"
  cat -- "$ENV_FILE"
}

# --- Kafka jars ----------------------------------------------------------------

pom_digest() { sha256sum -- "$POM" | awk '{print $1}'; }

ensure_jars() {
  local want lockfile="$CACHE_DIR/kafka-$KAFKA_VERSION.lock"
  want=$(pom_digest)
  if [[ -f $KAFKA_MARKER && $(cat -- "$KAFKA_MARKER") == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (run deploy/local/deps.sh)"
  mkdir -p -- "$KAFKA_HOME"
  (
    # One download at a time, even with several stacks starting together.
    flock -w 900 8 || die "timed out waiting for $lockfile"
    if [[ -f $KAFKA_MARKER && $(cat -- "$KAFKA_MARKER") == "$want" ]]; then
      exit 0
    fi
    log "fetching Kafka $KAFKA_VERSION jars with Maven into $KAFKA_LIBS (first run only)"
    rm -rf -- "$KAFKA_LIBS" "$KAFKA_MARKER" "$KAFKA_HOME/cds"
    # Output to a log (Debian's Maven 3.8 prints colour codes even with -q -B).
    if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
      -DoutputDirectory="$KAFKA_LIBS" >"$KAFKA_HOME/mvn.log" 2>&1; then
      sed 's/\x1b\[[0-9;]*m//g' -- "$KAFKA_HOME/mvn.log" | tail -n 40 >&2 || true
      die "Maven could not fetch the Kafka jars (see above; full log: $KAFKA_HOME/mvn.log)"
    fi
    [[ -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar ]] ||
      die "Maven finished but kafka_2.13-$KAFKA_VERSION.jar is missing from $KAFKA_LIBS"
    printf '%s\n' "$want" >"$KAFKA_MARKER"
  ) 8>"$lockfile" || exit 1
}

# --- Kafka -------------------------------------------------------------------

# java_tool NAME CLASS ARGS...: run a short-lived JVM tool from the Kafka
# jars. It starts about twice as fast from a class-data-sharing archive kept
# in the jar cache per tool and per Java build, written by the tool's first
# run (the JVM ignores an archive it cannot use).
java_tool() {
  local jsa rc=0 tmp="" share=()
  if [[ -z ${JAVA_BUILD:-} ]]; then
    JAVA_BUILD=$(java -version 2>&1 | sha256sum | cut -c1-12)
  fi
  jsa="$KAFKA_HOME/cds/$1-$JAVA_BUILD.jsa"
  shift
  if [[ -s $jsa ]]; then
    share=("-XX:SharedArchiveFile=$jsa")
  else
    mkdir -p -- "$KAFKA_HOME/cds"
    tmp="$jsa.$BASHPID.tmp"
    share=("-XX:ArchiveClassesAtExit=$tmp")
  fi
  java -Xlog:cds=off -Xlog:cds+dynamic=off "${share[@]}" -Xms64m -Xmx256m \
    -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
    -Dlog4j.configuration="file:$KAFKA_LOG4J" -cp "$KAFKA_LIBS/*" "$@" || rc=$?
  if [[ -n $tmp ]]; then
    if ((rc == 0)) && [[ -s $tmp ]]; then
      mv -f -- "$tmp" "$jsa"
    else
      rm -f -- "$tmp"
    fi
  fi
  return "$rc"
}

# A Kafka cluster id: 16 random bytes, base64url without padding, and (as
# Kafka's own Uuid.randomUuid does) never starting with '-'.
cluster_id() {
  python3 - <<'PY'
import base64, os
while True:
    raw = os.urandom(16)
    if raw.count(0) == 16:
        continue
    s = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break
PY
}

write_kafka_config() {
  local port=$1 cport=$2
  mkdir -p -- "$KAFKA_DIR" "$LOG_DIR"
  cat >"$KAFKA_PROPS" <<EOF
# Written by deploy/local/stack.sh: single-node KRaft broker for local runs.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=12
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.segment.bytes=16777216
log.retention.hours=24
log.retention.check.interval.ms=60000
EOF
  cat >"$KAFKA_LOG4J" <<'EOF'
# Written by deploy/local/stack.sh: warnings and errors only, to stdout
# (which stack.sh sends to the log file in the state dir).
log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=WARN
log4j.logger.org.apache.kafka=WARN
log4j.logger.org.apache.zookeeper=ERROR
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
EOF
}

format_storage() {
  local id
  id=$(cluster_id)
  rm -rf -- "$KAFKA_DATA"
  mkdir -p -- "$KAFKA_DATA"
  if ! java_tool storage kafka.tools.StorageTool format -t "$id" -c "$KAFKA_PROPS" \
    >"$LOG_DIR/kafka-format.log" 2>&1; then
    tail -n 30 -- "$LOG_DIR/kafka-format.log" >&2 || true
    die "formatting Kafka storage failed"
  fi
}

start_kafka_process() {
  local heap
  read -r -a heap <<<"$KAFKA_HEAP"
  : >"$KAFKA_LOG"
  (
    cd -- "$KAFKA_DIR"
    # setsid: own session and process group, so the terminal's Ctrl-C and
    # the caller's process group do not reach the broker.
    exec nohup setsid java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent \
      -Djava.awt.headless=true -Dlog4j.configuration="file:$KAFKA_LOG4J" \
      -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" \
      </dev/null >>"$KAFKA_LOG" 2>&1 8>&- 9>&-
  ) &
  printf '%s\n' "$!" >"$KAFKA_PIDFILE"
  wait_cmdline "$KAFKA_PIDFILE" kafka.Kafka "$KAFKA_PROPS" || true
}

kafka_metadata() { # kafka_metadata BOOTSTRAP: kcat's metadata listing
  kcat -L -b "$1" -m 2 2>&1
}

# wait_ready NAME PID_FN LOG TAIL_LINES INTERVAL PROBE...: polls PROBE until
# it succeeds; fails with the tail of LOG if the process (PID_FN) exits or
# TIMEOUT seconds pass. Never a fixed sleep.
wait_ready() {
  local name=$1 pid_fn=$2 logf=$3 lines=$4 interval=$5 deadline=$((SECONDS + TIMEOUT))
  shift 5
  while :; do
    # (looked at twice: a program that renames itself, as Redis does with
    # its process title, can fail to match for the instant of the rewrite)
    if ! "$pid_fn" >/dev/null && ! { sleep 0.3 && "$pid_fn" >/dev/null; }; then
      log "$name exited during startup; last lines of $logf:"
      tail -n "$lines" -- "$logf" >&2 || true
      return 1
    fi
    if "$@"; then
      return 0
    fi
    if ((SECONDS >= deadline)); then
      log "$name not ready after ${TIMEOUT}s; last lines of $logf:"
      tail -n "$lines" -- "$logf" >&2 || true
      return 1
    fi
    sleep "$interval"
  done
}

kafka_ready() { # kafka_ready PORT: broker 1 answers metadata requests
  local out
  out=$(kafka_metadata "127.0.0.1:$1") && [[ $out == *"broker 1 at 127.0.0.1:$1"* ]]
}

# wait_kafka PORT: until broker 1 answers metadata requests.
wait_kafka() {
  wait_ready Kafka kafka_pid "$KAFKA_LOG" 40 0.5 kafka_ready "$1"
}

stop_kafka() {
  local pid
  if pid=$(kafka_pid); then
    log "stopping Kafka (pid $pid)"
    stop_pid "$pid" Kafka
  fi
  rm -f -- "$KAFKA_PIDFILE"
}

start_kafka() {
  local tries=0 ports port cport
  ensure_jars
  command -v java >/dev/null || die "java not found (run deploy/local/deps.sh)"
  command -v kcat >/dev/null || die "kcat not found (run deploy/local/deps.sh)"
  while :; do
    tries=$((tries + 1))
    ports=$(free_ports 2)
    port=${ATTUNE_STACK_KAFKA_PORT:-${ports% *}}
    cport=${ATTUNE_STACK_CONTROLLER_PORT:-${ports#* }}
    if [[ $port == "$cport" ]]; then
      cport=${ports% *}
    fi
    if [[ -n ${ATTUNE_STACK_KAFKA_PORT:-} ]] && ! port_free "$port"; then
      die "port $port (ATTUNE_STACK_KAFKA_PORT) is already in use on 127.0.0.1"
    fi
    if [[ -n ${ATTUNE_STACK_CONTROLLER_PORT:-} ]] && ! port_free "$cport"; then
      die "port $cport (ATTUNE_STACK_CONTROLLER_PORT) is already in use on 127.0.0.1"
    fi
    write_kafka_config "$port" "$cport"
    format_storage
    log "starting Kafka $KAFKA_VERSION on 127.0.0.1:$port (controller 127.0.0.1:$cport)"
    start_kafka_process
    state_set kafka_port "$port"
    state_set kafka_controller_port "$cport"
    state_set kafka_home "$KAFKA_HOME"
    if wait_kafka "$port"; then
      return 0
    fi
    stop_kafka
    # Another process may have taken a port between the pick and the bind.
    if ((tries < 3)) && [[ -z ${ATTUNE_STACK_KAFKA_PORT:-} ]] &&
      grep -q 'Address already in use' -- "$KAFKA_LOG" 2>/dev/null; then
      log "port clash; retrying with other ports"
      continue
    fi
    return 1
  done
}

# --- topics ------------------------------------------------------------------

# missing_topics BOOTSTRAP: the TOPICS entries not yet present with all their
# partitions led by a broker.
missing_topics() {
  local bootstrap=$1 meta entry name want
  meta=$(kcat -L -b "$bootstrap" -m 5 2>/dev/null) || meta=""
  for entry in "${TOPICS[@]}"; do
    name=${entry%:*}
    want=${entry##*:}
    if ! awk -v t="$name" -v n="$want" '
        $1 == "topic" && $2 == "\"" t "\"" { seen = 1; parts = $4; inside = 1; next }
        $1 == "topic" { inside = 0 }
        inside && $1 == "partition" && ($0 ~ /leader -1/ || $0 ~ /Broker: /) { bad = 1 }
        END { exit !(seen && parts + 0 >= n + 0 && !bad) }' <<<"$meta"; then
      printf '%s\n' "$entry"
    fi
  done
}

# topic_tool BOOTSTRAP NAME:PARTITIONS: create one topic with TopicCommand.
topic_tool() {
  java_tool topics org.apache.kafka.tools.TopicCommand --bootstrap-server "$1" \
    --create --if-not-exists --topic "${2%:*}" \
    --partitions "${2##*:}" --replication-factor 1 >>"$LOG_DIR/topics.log" 2>&1
}

# create_topics_with_tool BOOTSTRAP NAME:PARTITIONS...: TopicCommand creates
# one topic per JVM; the first runs alone (it may write the class-data
# archive), the others as many at a time as there are cores.
create_topics_with_tool() {
  local bootstrap=$1 entry pids=() pid rc=0 out="$LOG_DIR/topics.log" jobs
  shift
  jobs=$(nproc 2>/dev/null || echo 2)
  : >"$out"
  topic_tool "$bootstrap" "$1" || rc=1
  shift
  for entry in "$@"; do
    topic_tool "$bootstrap" "$entry" &
    pids+=("$!")
    if ((${#pids[@]} >= jobs)); then
      for pid in "${pids[@]}"; do
        wait "$pid" || rc=1
      done
      pids=()
    fi
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || rc=1
  done
  if ((rc != 0)); then
    grep -v 'limitations in metric names' -- "$out" | tail -n 30 >&2 || true
  fi
  return "$rc"
}

create_topics() {
  local bootstrap=$1 missing deadline=$((SECONDS + TIMEOUT))
  if [[ -x $ADMIN_BIN ]]; then
    log "creating topics with build/bin/attune-admin"
    env ATTUNE_KAFKA_BOOTSTRAP="$bootstrap" \
      ATTUNE_TOPIC_PARTITIONS="$PARTITIONS" "$ADMIN_BIN" create-topics >&2 </dev/null ||
      log "attune-admin create-topics failed; falling back to Kafka's TopicCommand"
  fi
  mapfile -t missing < <(missing_topics "$bootstrap")
  if ((${#missing[@]} > 0)); then
    log "creating ${#missing[@]} topic(s) with Kafka's TopicCommand"
    create_topics_with_tool "$bootstrap" "${missing[@]}" || die "creating topics failed"
  fi
  # Wait until every partition has a leader, so clients can use them at once.
  while :; do
    mapfile -t missing < <(missing_topics "$bootstrap")
    ((${#missing[@]} == 0)) && return 0
    ((SECONDS >= deadline)) && die "topics not ready after ${TIMEOUT}s: ${missing[*]}"
    sleep 0.3
  done
}

# --- Redis -------------------------------------------------------------------

redis_ready() { # redis_ready PORT: Redis answers PING
  [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]
}

# wait_redis PORT: until Redis answers on PORT.
wait_redis() {
  wait_ready "Redis on port $1" redis_pid "$REDIS_LOG" 20 0.1 redis_ready "$1"
}

# start_redis_on PORT
start_redis_on() {
  local port=$1
  command -v redis-server >/dev/null || die "redis-server not found (run deploy/local/deps.sh)"
  mkdir -p -- "$REDIS_DIR" "$LOG_DIR"
  rm -f -- "$REDIS_PIDFILE"
  state_set redis_port "$port"
  log "starting Redis on 127.0.0.1:$port"
  (
    cd -- "$REDIS_DIR"
    # In the background (not --daemonize) so that $! is its pid; own session.
    # An append-only file in its state dir, as in docker-compose.yml: a
    # simulated outage (stop-redis, start-redis) keeps the data.
    exec nohup setsid redis-server --bind 127.0.0.1 --port "$port" \
      --dir "$REDIS_DIR" --save '' --appendonly yes --appendfsync everysec --daemonize no \
      --logfile '' --protected-mode yes \
      </dev/null >>"$REDIS_LOG" 2>&1 8>&- 9>&-
  ) &
  printf '%s\n' "$!" >"$REDIS_PIDFILE"
  wait_cmdline "$REDIS_PIDFILE" redis-server "$port" || true
  wait_redis "$port"
}

stop_redis() {
  local pid
  if pid=$(redis_pid); then
    log "stopping Redis (pid $pid)"
    stop_pid "$pid" Redis
  fi
  rm -f -- "$REDIS_PIDFILE"
}

start_redis() {
  local tries=0 port
  while :; do
    tries=$((tries + 1))
    port=${ATTUNE_STACK_REDIS_PORT:-$(free_ports 1)}
    if [[ -n ${ATTUNE_STACK_REDIS_PORT:-} ]] && ! port_free "$port"; then
      die "port $port (ATTUNE_STACK_REDIS_PORT) is already in use on 127.0.0.1"
    fi
    start_redis_on "$port" && return 0
    stop_redis
    if ((tries < 3)) && [[ -z ${ATTUNE_STACK_REDIS_PORT:-} ]] &&
      grep -q 'Address already in use' -- "$REDIS_LOG" 2>/dev/null; then
      log "port clash; retrying with another port"
      continue
    fi
    return 1
  done
}

# --- subcommands ---------------------------------------------------------------

lock_state() { # serialise commands on one state dir
  exec 9>"$STATE_DIR/.lock"
  flock -w "$((TIMEOUT + 60))" 9 || die "another stack.sh holds $STATE_DIR/.lock"
}

write_env() {
  local kport rport
  kport=$(state_get kafka_port)
  rport=$(state_get redis_port)
  env_lines "127.0.0.1:$kport" "redis://127.0.0.1:$rport/0" >"$ENV_FILE.tmp"
  mv -f -- "$ENV_FILE.tmp" "$ENV_FILE"
}

UP_DONE=0
on_up_exit() {
  local rc=$?
  if ((UP_DONE == 0)); then
    log "up failed; stopping what was started"
    stop_kafka || true
    stop_redis || true
    rm -f -- "$ENV_FILE" "$PORTS_FILE"
  fi
  return "$rc"
}

cmd_up() {
  local kport
  if [[ -n ${ATTUNE_KAFKA_BOOTSTRAP:-} && -n ${ATTUNE_REDIS_URL:-} ]]; then
    log "ATTUNE_KAFKA_BOOTSTRAP and ATTUNE_REDIS_URL are set; using that cluster, starting nothing"
    if ! kcat -L -b "$ATTUNE_KAFKA_BOOTSTRAP" -m 5 >/dev/null 2>&1; then
      log "warning: no Kafka answered at $ATTUNE_KAFKA_BOOTSTRAP (left over from an earlier 'up'?" \
        "unset ATTUNE_KAFKA_BOOTSTRAP ATTUNE_REDIS_URL to start a local stack)"
    fi
    env_lines "$ATTUNE_KAFKA_BOOTSTRAP" "$ATTUNE_REDIS_URL"
    return 0
  fi
  lock_state
  if kafka_pid >/dev/null; then
    kport=$(state_get kafka_port)
    if ! redis_pid >/dev/null; then
      log "Kafka is running but Redis is not; starting Redis again"
      start_redis_on "$(state_get redis_port)" || die "could not restart Redis"
    fi
    log "stack already running in $STATE_DIR (Kafka 127.0.0.1:$kport)"
    write_env
    cat -- "$ENV_FILE"
    return 0
  fi
  # Leftovers of a stack that died: clear them before a fresh start (Kafka
  # starts from empty storage, so Redis must too: its idempotency keys and
  # learned counts belong to the old topics).
  stop_redis
  rm -rf -- "$REDIS_DIR"
  rm -f -- "$PORTS_FILE" "$ENV_FILE" "$KAFKA_PIDFILE"

  trap on_up_exit EXIT
  start_kafka
  start_redis
  kport=$(state_get kafka_port)
  create_topics "127.0.0.1:$kport"
  write_env
  UP_DONE=1
  trap - EXIT
  log "stack up in $STATE_DIR (logs in $LOG_DIR)"
  cat -- "$ENV_FILE"
}

cmd_down() {
  lock_state
  stop_kafka
  stop_redis
  rm -rf -- "$KAFKA_DATA" "$REDIS_DIR"
  rm -f -- "$KAFKA_PROPS" "$KAFKA_LOG4J" "$PORTS_FILE" "$ENV_FILE"
  rmdir -- "$KAFKA_DIR" 2>/dev/null || true
  log "stack in $STATE_DIR is down (logs kept in $LOG_DIR)"
}

cmd_env() {
  if [[ -f $ENV_FILE ]]; then
    cat -- "$ENV_FILE"
  elif [[ -n ${ATTUNE_KAFKA_BOOTSTRAP:-} && -n ${ATTUNE_REDIS_URL:-} ]]; then
    env_lines "$ATTUNE_KAFKA_BOOTSTRAP" "$ATTUNE_REDIS_URL"
  else
    print_recorded_env
  fi
}

cmd_status() {
  local pid rc=0 kport rport
  kport=$(state_get kafka_port)
  rport=$(state_get redis_port)
  if pid=$(kafka_pid); then
    echo "kafka: running (pid $pid) on 127.0.0.1:$kport"
  else
    echo "kafka: not running"
    rc=1
  fi
  if pid=$(redis_pid); then
    echo "redis: running (pid $pid) on 127.0.0.1:$rport"
  elif [[ -n $rport ]]; then
    echo "redis: not running (port $rport recorded)"
    rc=1
  else
    echo "redis: not running"
    rc=1
  fi
  echo "state: $STATE_DIR"
  return "$rc"
}

cmd_stop_redis() {
  lock_state
  [[ -n $(state_get redis_port) ]] || die "no Redis recorded in $STATE_DIR (was it started by '$0 up'?)"
  stop_redis
}

cmd_start_redis() {
  local port
  lock_state
  port=$(state_get redis_port)
  [[ -n $port ]] || die "no Redis port recorded in $STATE_DIR (run: $0 up)"
  if redis_pid >/dev/null; then
    log "Redis already running on 127.0.0.1:$port"
    return 0
  fi
  # The port was ours until stop-redis; wait briefly if it is still closing.
  local deadline=$((SECONDS + 10))
  until port_free "$port"; do
    ((SECONDS >= deadline)) && die "port $port is taken by another process; cannot restart Redis on it"
    sleep 0.2
  done
  start_redis_on "$port" || die "could not start Redis on port $port"
}

cmd_kill_kafka() {
  local pid
  lock_state
  pid=$(kafka_pid) || die "no Kafka broker of $STATE_DIR is running"
  log "killing Kafka (pid $pid) with SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  while proc_alive "$pid"; do
    sleep 0.1
  done
  rm -f -- "$KAFKA_PIDFILE"
}

cmd_start_kafka() {
  local port
  lock_state
  port=$(state_get kafka_port)
  [[ -n $port && -f $KAFKA_PROPS ]] || die "no Kafka recorded in $STATE_DIR (run: $0 up)"
  if kafka_pid >/dev/null; then
    log "Kafka already running on 127.0.0.1:$port"
    return 0
  fi
  # the jars `up` started it from, whatever ATTUNE_CACHE_DIR says in this shell
  local home
  home=$(state_get kafka_home)
  if [[ -n $home && -z ${ATTUNE_CACHE_DIR:-} ]]; then
    KAFKA_HOME=$home
    KAFKA_LIBS="$KAFKA_HOME/libs"
  fi
  [[ -f $KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar ]] ||
    die "no Kafka jars in $KAFKA_LIBS (set ATTUNE_CACHE_DIR to the cache \`up\` used)"
  local deadline=$((SECONDS + 10)) cport
  cport=$(state_get kafka_controller_port)
  until port_free "$port" && port_free "${cport:-$port}"; do
    ((SECONDS >= deadline)) && die "port $port or $cport is taken by another process; cannot restart Kafka on it"
    sleep 0.2
  done
  start_kafka_process
  wait_kafka "$port" || die "Kafka did not come back on port $port"
}

usage() {
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
}

main() {
  local cmd=${1:-}
  case $cmd in
  up) cmd_up ;;
  down) cmd_down ;;
  env) cmd_env ;;
  status) cmd_status ;;
  stop-redis) cmd_stop_redis ;;
  start-redis) cmd_start_redis ;;
  kill-kafka) cmd_kill_kafka ;;
  start-kafka) cmd_start_kafka ;;
  -h | --help | help)
    usage
    ;;
  *)
    usage
    exit 2
    ;;
  esac
}

main "$@"
