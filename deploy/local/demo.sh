#!/usr/bin/env bash
# make demo: start the local stack (Kafka + Redis), the attune services, load
# sample customer profiles, post sample events and show what comes out.
# `deploy/local/demo.sh down` (make demo-down) stops everything it started.
# Ports: ingest on ATTUNE_DEMO_INGEST_ADDR (default 127.0.0.1:8080), the
# other services' health and metrics on the ports after
# ATTUNE_DEMO_PORT_BASE (default 8080): enrich +1, classify +2, decide +3,
# deliver +4, learn +5; set both to run next to another stack.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export ATTUNE_STACK_DIR=${ATTUNE_STACK_DIR:-$ROOT/.stack}
RUN_DIR=$ATTUNE_STACK_DIR/demo
BIN=$ROOT/build/bin
SERVICES=(ingest enrich classify decide deliver learn)
export ATTUNE_API_KEYS=${ATTUNE_API_KEYS:-demo-key-change-me-0123456789}
PORT_BASE=${ATTUNE_DEMO_PORT_BASE:-8080}
case $PORT_BASE in
'' | *[!0-9]*)
  printf 'demo: ATTUNE_DEMO_PORT_BASE must be a port number, not %s\n' "$PORT_BASE" >&2
  exit 2
  ;;
esac
INGEST_ADDR=${ATTUNE_DEMO_INGEST_ADDR:-127.0.0.1:$PORT_BASE}

say() { printf 'demo: %s\n' "$*" >&2; }

stop_services() {
  for pidfile in "$RUN_DIR"/*.pid; do
    [ -e "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if kill -0 "$pid" 2>/dev/null && grep -q attune- "/proc/$pid/cmdline" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  done
}

if [ "${1:-}" = down ]; then
  stop_services
  "$ROOT/deploy/local/stack.sh" down
  exit 0
fi

stop_services
eval "$("$ROOT/deploy/local/stack.sh" up)"
mkdir -p "$RUN_DIR"

port=$PORT_BASE
for svc in "${SERVICES[@]}"; do
  [ -x "$BIN/attune-$svc" ] || continue
  if [ "$svc" = deliver ] && [ -z "${ATTUNE_DELIVER_URL:-}" ]; then
    say "attune-deliver not started: set ATTUNE_DELIVER_URL to the CRM or webhook to post decisions to"
    port=$((port + 1))
    continue
  fi
  addr=127.0.0.1:$port
  [ "$svc" = ingest ] && addr=$INGEST_ADDR
  # A service that cannot run yet (for example one still being built)
  # must not stop the demo of the others.
  ATTUNE_HTTP_ADDR=$addr nohup "$BIN/attune-$svc" >"$RUN_DIR/$svc.log" 2>&1 &
  echo $! >"$RUN_DIR/$svc.pid"
  port=$((port + 1))
done

for _ in $(seq 1 100); do
  curl -fsS "http://$INGEST_ADDR/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
for svc in "${SERVICES[@]}"; do
  [ -e "$RUN_DIR/$svc.pid" ] || continue
  if ! kill -0 "$(cat "$RUN_DIR/$svc.pid")" 2>/dev/null; then
    say "attune-$svc is not running; last lines of its log:"
    tail -3 "$RUN_DIR/$svc.log" >&2
    rm -f "$RUN_DIR/$svc.pid"
  fi
done

"$BIN/attune-admin" load-profiles "$ROOT/deploy/local/demo/profiles.jsonl" >&2

# On a stack already up a topic holds an earlier run's records too: this
# run's are told by the ids ingest gives its events.
IDS="$RUN_DIR/demo-ids"
: >"$IDS"
this_run() { # this_run TOPIC [show.py options]: this run's records on TOPIC
  local topic=$1
  shift
  kcat -b "$ATTUNE_KAFKA_BOOTSTRAP" -C -t "$topic" -o beginning -e -q -f '%s\n' 2>/dev/null |
    python3 "$ROOT/deploy/local/demo/show.py" --ids "$IDS" "$@"
}
# The last stage running decides what to wait for and show.
last=attune.interactions.enriched.v1
[ -e "$RUN_DIR/classify.pid" ] && last=attune.interactions.classified.v1
[ -e "$RUN_DIR/decide.pid" ] && last=attune.decisions.routing.v1

say "posting sample events to http://$INGEST_ADDR/v1/events"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
# each sample 20 s after the one before it, the last one now (so the chat's
# summary has a duration)
n_samples=$(grep -c . "$ROOT/deploy/local/demo/events.jsonl")
t=$(($(date -u +%s) - 20 * (n_samples - 1)))
while IFS= read -r line; do
  at=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ)
  t=$((t + 20))
  body=${line%\}}", \"occurred_at\": \"$at\"}"
  answer=$(curl -sS -X POST "http://$INGEST_ADDR/v1/events" \
    -H "Authorization: Bearer $ATTUNE_API_KEYS" \
    -H 'Content-Type: application/json' -d "$body")
  printf '%s\n' "$answer" >&2
  printf '%s\n' "$answer" | python3 -c 'import json, sys; print(*json.load(sys.stdin).get("ids", []), sep="\n")' >>"$IDS" 2>/dev/null || true
done <"$ROOT/deploy/local/demo/events.jsonl"
events=$(grep -c . "$IDS" || true)

show_topic() {
  say "--- $1 ---"
  this_run "$1"
}
# (a restarted stage takes its partitions back within the consumer
# session, 10 s: wait up to 30 s)
for _ in $(seq 1 300); do
  [ "$(this_run "$last" --count)" -ge "$events" ] && break
  sleep 0.1
done
show_topic attune.interactions.enriched.v1
[ -e "$RUN_DIR/classify.pid" ] && show_topic attune.interactions.classified.v1
[ -e "$RUN_DIR/decide.pid" ] && show_topic attune.decisions.routing.v1
if [ -e "$RUN_DIR/decide.pid" ]; then
  say "--- attune.decisions.crm.v1: the ended chat's summary of its contact ---"
  this_run attune.decisions.crm.v1 --ended
fi

# Close the loop: an outcome for each decision (the CRM would send these),
# which attune-learn turns into the customer's CSAT summary and counts.
if [ -e "$RUN_DIR/decide.pid" ] && [ -e "$RUN_DIR/learn.pid" ]; then
  csat_count() { # outcomes in cust-ana's CSAT summary so far
    local n
    n=$(redis-cli -u "$ATTUNE_REDIS_URL" HGET attune:customer:cust-ana:csat count 2>/dev/null)
    printf '%s\n' "${n:-0}"
  }
  counted=$(csat_count)
  say "posting an outcome for each of this run's decisions to http://$INGEST_ADDR/v1/outcomes"
  this_run attune.decisions.routing.v1 --raw | python3 "$ROOT/deploy/local/demo/outcomes.py" |
    curl -sS -X POST "http://$INGEST_ADDR/v1/outcomes" \
      -H "Authorization: Bearer $ATTUNE_API_KEYS" \
      -H 'Content-Type: application/cloudevents-batch+json' --data-binary @- >&2
  echo >&2
  for _ in $(seq 1 150); do # attune-learn applies them within a second or so
    [ "$(csat_count)" -gt "$counted" ] 2>/dev/null && break
    sleep 0.1
  done
  say "--- cust-ana's CSAT summary in Redis (attune-learn) ---"
  redis-cli -u "$ATTUNE_REDIS_URL" HGETALL attune:customer:cust-ana:csat | paste -sd' ' >&2
fi
true

cat >&2 <<EOT

demo: the stack and services keep running. Try:
  curl -X POST http://$INGEST_ADDR/v1/events -H 'Authorization: Bearer $ATTUNE_API_KEYS' \\
    -H 'Content-Type: application/json' \\
    -d '{"interaction_id":"x1","customer_id":"cust-ben","channel":"chat","kind":"message","occurred_at":"$now","text":"hello"}'
  kcat -b $ATTUNE_KAFKA_BOOTSTRAP -C -t attune.interactions.enriched.v1 -o end
  curl http://$INGEST_ADDR/metrics
  redis-cli -u $ATTUNE_REDIS_URL HGETALL attune:learn:rule:relaxed_positive   # learned counts
Logs: $RUN_DIR/*.log    Stop everything: make demo-down
EOT
