#!/usr/bin/env bash
# Runs the benchmarks in release mode and prints Markdown tables for docs/benchmarks.md.
#   scripts/bench.sh [http-client|http-client-variants|policies|webhooks|idempotency|shop|dashboard|messaging|fulfillment|gateway-router|gateway-proxy|all]
source "$(dirname "$0")/lib/common.sh"
require_swift
cd "$ROOT/Benchmarks"
which=${1:-all}
log "building benchmarks (release)"
# SwiftPM keeps the build plan of this package across runs and misses source files added to the root package
# it depends on by path; dropping the plan makes it re-scan (a few seconds).
rm -f .build/release/description.json
swift_build -c release --product InterchangeBench >&2
BENCH="$ROOT/Benchmarks/.build/release/InterchangeBench"

# wait_for_url FILE PATTERN — waits up to 60 s for a line matching PATTERN, prints the first URL in that line.
wait_for_url() {
  for _ in $(seq 1 600); do
    grep -qE "$2" "$1" 2>/dev/null && { grep -E "$2" "$1" | grep -oE 'http://127\.0\.0\.1:[0-9]+' | head -1; return 0; }
    sleep 0.1
  done
  die "no '$2' in $1"
}

# run_nginx WORKERS HTTP_BLOCK — an nginx with WORKERS processes and HTTP_BLOCK (upstreams, servers) inside
# `http { }`, in a temporary directory; stopped when this script ends. Sets NGINX_DIR.
run_nginx() {
  apt_install nginx-light 2>/dev/null || apt_install nginx
  NGINX_DIR=$(mktemp -d)
  cat > "$NGINX_DIR/nginx.conf" <<CONF
worker_processes $1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR; proxy_temp_path $NGINX_DIR; fastcgi_temp_path $NGINX_DIR; uwsgi_temp_path $NGINX_DIR; scgi_temp_path $NGINX_DIR;
  $2
}
CONF
  nginx -c "$NGINX_DIR/nginx.conf"
  stop_with_parent $$ sh -c "kill \$(cat $NGINX_DIR/nginx.pid); rm -rf $NGINX_DIR"
}

# start_nginx — one worker answering {"ok":true} to everything; sets NGINX to its URL.
start_nginx() {
  PORT=$(free_port)
  run_nginx 1 "server { listen 127.0.0.1:$PORT; keepalive_requests 1000000;
    location / { default_type application/json; return 200 '{\"ok\":true}'; } }"
  NGINX="http://127.0.0.1:$PORT"
}

# One PostgreSQL server (fsync=off, a fresh cluster) for every benchmark that runs on it.
bench_postgres() {
  [ -n "${BENCH_PG_STARTED:-}" ] && return 0
  source "$ROOT/scripts/lib/postgres.sh"
  start_postgres
  BENCH_PG_STARTED=1
}

# One RabbitMQ broker for every benchmark that runs on it, and the raw rabbitmq-c baseline built for it.
bench_rabbitmq() {
  [ -n "${BENCH_RMQ_STARTED:-}" ] && return 0
  source "$ROOT/scripts/lib/rabbitmq.sh"
  start_rabbitmq
  apt_install librabbitmq-dev gcc
  mkdir -p "$ROOT/.build"
  cc -O2 -o "$ROOT/.build/raw-amqp" "$ROOT/Benchmarks/raw-amqp/raw_amqp.c" -lrabbitmq -lpthread
  BENCH_RMQ_STARTED=1
}

# raw_amqp_rate QUEUE_TYPE EVENTS — runs the raw rabbitmq-c loop on the broker, prints its output and sets RAW to its
# end-to-end rate (msgs/s: published, confirmed, consumed, acked).
raw_amqp_rate() {
  "$ROOT/.build/raw-amqp" "$INTERCHANGE_TEST_AMQP_URL" "$2" 1024 256 "$1" 300 | tee "$ROOT/.build/raw-amqp-$1.txt"
  RAW=$(grep -oE 'end to end[^:]*: [0-9]+' "$ROOT/.build/raw-amqp-$1.txt" | grep -oE '[0-9]+$')
}

if [ "$which" = all ] || [ "$which" = http-client ]; then
  [ -n "${NGINX:-}" ] || start_nginx
  echo "## HTTP client: pipeline vs raw AsyncHTTPClient (nginx return 200 on $NGINX, 1 worker)"
  "$BENCH" http-client --url "$NGINX/" --concurrency 16 --seconds 2 --rounds 9
  echo
fi
if [ "$which" = all ] || [ "$which" = http-client-variants ]; then
  [ -n "${NGINX:-}" ] || start_nginx
  for flags in "--concurrency 1" "--read-headers" "--policy bare" "--nio-executor"; do
    echo "## HTTP client variant: $flags"
    # shellcheck disable=SC2086 # the flags are words
    "$BENCH" http-client --url "$NGINX/" --concurrency 16 --seconds 2 --rounds 9 $flags
    echo
  done
fi
if [ "$which" = all ] || [ "$which" = webhooks ]; then
  [ -n "${NGINX:-}" ] || start_nginx
  bench_postgres
  "$BENCH" webhooks --receiver "$NGINX/hooks" --postgres "$INTERCHANGE_TEST_POSTGRES_URL"
fi
if [ "$which" = all ] || [ "$which" = idempotency ]; then
  bench_postgres
  "$BENCH" idempotency --postgres "$INTERCHANGE_TEST_POSTGRES_URL"
  "$BENCH" idempotency --endpoint shop --postgres "$INTERCHANGE_TEST_POSTGRES_URL"
fi
if [ "$which" = all ] || [ "$which" = shop ]; then
  bench_postgres
  "$BENCH" shop-ingest --postgres "$INTERCHANGE_TEST_POSTGRES_URL"
  "$BENCH" shop-checkout
fi
if [ "$which" = all ] || [ "$which" = dashboard ]; then
  # The real `interchange up` (release, built by this package from the root package) against a bare Hummingbird
  # router answering the dashboard's own saved answer (same body bytes, same Content-Type), both on loopback,
  # measured interleaved by ../shared/tools/compare-http.
  swift_build -c release --product interchange >&2
  WORK=$(mktemp -d)
  "$ROOT/Benchmarks/.build/release/interchange" up --port 0 --data-dir "$WORK/data" --log-level error > "$WORK/up.log" 2>&1 &
  UP_PID=$!
  trap 'kill $UP_PID ${HELLO_PID:-} 2>/dev/null; rm -rf "$WORK"' EXIT
  UP=$(wait_for_url "$WORK/up.log" "listening on")
  TYPE=$(curl -sf -o "$WORK/answer" -w '%{content_type}' "$UP/api/weather?city=Berlin") || die "the dashboard did not answer"
  "$BENCH" hello-server --body-file "$WORK/answer" --content-type "$TYPE" > "$WORK/hello.log" 2>&1 &
  HELLO_PID=$!
  HELLO=$(wait_for_url "$WORK/hello.log" "listening on")
  cmp -s "$WORK/answer" <(curl -sf "$HELLO/bytes") || die "the bare route does not answer the dashboard's bytes"
  echo "## Dashboard: cached /api/weather vs a bare Hummingbird route answering the same $(wc -c < "$WORK/answer") body bytes ($TYPE)"
  echo "response sizes with headers: bare $(curl -si "$HELLO/bytes" | wc -c) bytes, dashboard $(curl -si "$UP/api/weather?city=Berlin" | wc -c) bytes"
  COMPARE=${COMPARE_HTTP:-$ROOT/../shared/tools/compare-http}
  "$COMPARE" -d 5 -c 32 -r 3 "$HELLO/bytes" "$UP/api/weather?city=Berlin"
  echo
  echo "## For reference: the same cached /api/weather vs a hello-world (GET /hello, 13 bytes) in the bare server"
  "$COMPARE" -d 5 -c 32 -r 3 "$HELLO/hello" "$UP/api/weather?city=Berlin"
  echo
  echo "## Body size alone: the bare route with the dashboard's bytes vs hello-world, both in the bare server"
  "$COMPARE" -d 5 -c 32 -r 3 "$HELLO/hello" "$HELLO/bytes"
  kill $UP_PID $HELLO_PID 2>/dev/null || true
  echo
fi
if [ "$which" = all ] || [ "$which" = gateway-router ]; then
  echo "## Gateway route matching, 10 to 10 000 routes (one thread)"
  "$BENCH" gateway-router
  echo
fi
if [ "$which" = all ] || [ "$which" = gateway-proxy ]; then
  # One upstream: nginx answering {"ok":true}. Baseline: a second nginx in front of it, proxy_pass with upstream
  # keepalive (HTTP/1.1, 64 idle connections) and two workers. Candidate: `interchange serve gateway` (release, two
  # event loops) with a one-route Kong file and no plugins. Both measured interleaved by ../shared/tools/compare-http.
  swift_build -c release --product interchange >&2
  start_nginx
  UPSTREAM_PORT=${NGINX##*:}
  WORK=$(mktemp -d); PROXY_PORT=$(free_port)
  run_nginx 2 "upstream backend { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
  server { listen 127.0.0.1:$PROXY_PORT; keepalive_requests 1000000;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
  cat > "$WORK/kong.yaml" <<YAML
_format_version: "3.0"
services:
  - name: upstream
    url: http://127.0.0.1:$UPSTREAM_PORT
    routes: [{name: all, paths: [/]}]
YAML
  # The same with key-auth + rate-limiting (local, a limit no run reaches) + prometheus on every request.
  cat "$WORK/kong.yaml" - > "$WORK/kong-plugins.yaml" <<YAML
consumers:
  - username: bench
    keyauth_credentials: [{key: bench-key}]
plugins:
  - name: key-auth
  - name: rate-limiting
    config: {second: 100000000, limit_by: consumer}
  - name: prometheus
    config: {status_code_metrics: true, latency_metrics: true, per_consumer: true}
YAML
  GW="$ROOT/Benchmarks/.build/release/interchange"
  "$GW" serve gateway --config "$WORK/kong.yaml" --port 0 --admin-port 0 --log-level error > "$WORK/gateway.log" 2>&1 &
  GATEWAY_PID=$!
  "$GW" serve gateway --config "$WORK/kong-plugins.yaml" --port 0 --admin-port 0 --log-level error > "$WORK/gateway-plugins.log" 2>&1 &
  PLUGINS_PID=$!
  trap 'kill $GATEWAY_PID $PLUGINS_PID ${HELLO_PID:-} ${PROXY_PID:-} ${LEAN_PID:-} ${LEAN_LOOPS_PID:-} 2>/dev/null; rm -rf "$WORK"' EXIT
  GATEWAY=$(wait_for_url "$WORK/gateway.log" "listening on")
  PLUGINS=$(wait_for_url "$WORK/gateway-plugins.log" "listening on")
  curl -sf "$GATEWAY/" | grep -q ok || die "the gateway does not proxy to the upstream"
  curl -sf -H 'apikey: bench-key' "$PLUGINS/" | grep -q ok || die "the gateway with plugins does not proxy"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$PLUGINS/")" = 401 ] || die "key-auth is not enforced"
  COMPARE=${COMPARE_HTTP:-$ROOT/../shared/tools/compare-http}
  echo "## Gateway proxy, no plugins: nginx proxy_pass (keepalive) vs interchange serve gateway, same upstream"
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$COMPARE" -d 5 -c 32 -r 3 "http://127.0.0.1:$PROXY_PORT/" "$GATEWAY/"
  echo "## Gateway proxy with key-auth + rate-limiting + prometheus: nginx proxy_pass vs interchange serve gateway"
  "$COMPARE" -d 5 -c 32 -r 3 -H 'apikey: bench-key' "http://127.0.0.1:$PROXY_PORT/" "$PLUGINS/"
  echo "## For reference: the upstream directly vs through nginx"
  "$COMPARE" -d 5 -c 32 -r 3 "$NGINX/" "http://127.0.0.1:$PROXY_PORT/"
  # The ceiling of a gateway served by Hummingbird: a bare Hummingbird route answering the upstream's bytes itself,
  # with no upstream call at all, against nginx's proxy — and the gateway against that bare route.
  curl -sf "$NGINX/" > "$WORK/ok.json"
  "$BENCH" hello-server --body-file "$WORK/ok.json" --content-type application/json > "$WORK/hello.log" 2>&1 &
  HELLO_PID=$!
  HELLO=$(wait_for_url "$WORK/hello.log" "listening on")
  echo "## The ceiling: nginx proxy_pass vs a bare Hummingbird route answering {\"ok\":true} itself (no upstream)"
  "$COMPARE" -d 5 -c 32 -r 3 "http://127.0.0.1:$PROXY_PORT/" "$HELLO/bytes"
  echo "## The gateway (no plugins) vs that bare Hummingbird route: what proxying costs over the framework alone"
  "$COMPARE" -d 5 -c 32 -r 3 "$HELLO/bytes" "$GATEWAY/"
  # The same transport with none of the gateway's work: Hummingbird + AsyncHTTPClient forwarding every request.
  "$BENCH" proxy-server --upstream "$NGINX" > "$WORK/proxy.log" 2>&1 &
  PROXY_PID=$!
  BARE_PROXY=$(wait_for_url "$WORK/proxy.log" "listening on")
  curl -sf "$BARE_PROXY/" | grep -q ok || die "the bare proxy does not proxy to the upstream"
  echo "## A bare Hummingbird + AsyncHTTPClient proxy (no routing, plugins or forwarding headers) vs the gateway (no plugins)"
  "$COMPARE" -d 5 -c 32 -r 3 "$BARE_PROXY/" "$GATEWAY/"
  echo "## nginx proxy_pass vs that bare Hummingbird + AsyncHTTPClient proxy"
  "$COMPARE" -d 5 -c 32 -r 3 "http://127.0.0.1:$PROXY_PORT/" "$BARE_PROXY/"
  # The experiment: the same bare proxy with SwiftNIO's leanest client (LeanUpstream: GET only, bodies buffered), with
  # Swift tasks on the global pool and on NIO's event loops.
  "$BENCH" proxy-server --upstream "$NGINX" --client lean > "$WORK/lean.log" 2>&1 &
  LEAN_PID=$!
  "$BENCH" proxy-server --upstream "$NGINX" --client lean --nio-executor > "$WORK/lean-loops.log" 2>&1 &
  LEAN_LOOPS_PID=$!
  LEAN=$(wait_for_url "$WORK/lean.log" "listening on")
  LEAN_LOOPS=$(wait_for_url "$WORK/lean-loops.log" "listening on")
  curl -sf "$LEAN/" | grep -q ok && curl -sf "$LEAN_LOOPS/" | grep -q ok || die "the lean proxy does not proxy to the upstream"
  echo "## The bare proxy with AsyncHTTPClient vs with LeanUpstream (NIO channels pooled per event loop)"
  "$COMPARE" -d 5 -c 32 -r 3 "$BARE_PROXY/" "$LEAN/"
  echo "## nginx proxy_pass vs the LeanUpstream proxy, Swift tasks on NIO's event loops"
  "$COMPARE" -d 5 -c 32 -r 3 "http://127.0.0.1:$PROXY_PORT/" "$LEAN_LOOPS/"
  kill $GATEWAY_PID $PLUGINS_PID $HELLO_PID $PROXY_PID $LEAN_PID $LEAN_LOOPS_PID 2>/dev/null || true
  echo
fi
if [ "$which" = all ] || [ "$which" = policies ]; then
  echo "## Policy decisions under contention"
  "$BENCH" policies
fi
if [ "$which" = all ] || [ "$which" = messaging ]; then
  bench_postgres
  bench_rabbitmq
  EVENTS=${MESSAGING_EVENTS:-20000}
  EMBEDDED=--embedded
  for queue_type in classic quorum; do
    echo "## Raw rabbitmq-c on the same broker ($queue_type queue): the baseline"
    raw_amqp_rate "$queue_type" "$EVENTS"
    echo
    "$BENCH" messaging --events "$EVENTS" --amqp "$INTERCHANGE_TEST_AMQP_URL" --postgres "$INTERCHANGE_TEST_POSTGRES_URL" \
      --raw-rate "$RAW" --queue-type "$queue_type" $EMBEDDED
    EMBEDDED=--no-embedded
  done
fi
if [ "$which" = all ] || [ "$which" = fulfillment ]; then
  # The four fulfillment services in one process, both saga styles: (a) the embedded transport + a SQLite file per
  # service (its store's own rate measured in the same run), (b) RabbitMQ + a PostgreSQL database per service, right
  # after the raw rabbitmq-c loop on the same broker. FULFILLMENT_ORDERS / FULFILLMENT_CONCURRENCY size the runs.
  ORDERS=${FULFILLMENT_ORDERS:-3000}
  CONCURRENCY=${FULFILLMENT_CONCURRENCY:-32}
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$BENCH" fulfillment --layout embedded --orders "$ORDERS" --concurrency "$CONCURRENCY"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  bench_postgres
  bench_rabbitmq
  echo "## Raw rabbitmq-c on the same broker (classic queue): the baseline"
  raw_amqp_rate classic 20000
  echo
  "$BENCH" fulfillment --layout rabbitmq --orders "$ORDERS" --concurrency "$CONCURRENCY" \
    --amqp "$INTERCHANGE_TEST_AMQP_URL" --postgres "$INTERCHANGE_TEST_POSTGRES_URL" --raw-rate "$RAW" --queue-type classic
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
