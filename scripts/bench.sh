#!/usr/bin/env bash
# Runs the benchmarks in release mode and prints Markdown tables for docs/benchmarks.md.
#   scripts/bench.sh [http-client|policies|all]
source "$(dirname "$0")/lib/common.sh"
require_swift
cd "$ROOT/Benchmarks"
which=${1:-all}
log "building benchmarks (release)"
swift build -c release --product InterchangeBench >&2
BENCH="$ROOT/Benchmarks/.build/release/InterchangeBench"

if [ "$which" = all ] || [ "$which" = http-client ]; then
  apt_install nginx-light 2>/dev/null || apt_install nginx
  NGINX_DIR=$(mktemp -d); PORT=$(free_port)
  cat > "$NGINX_DIR/nginx.conf" <<CONF
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $NGINX_DIR; proxy_temp_path $NGINX_DIR; fastcgi_temp_path $NGINX_DIR; uwsgi_temp_path $NGINX_DIR; scgi_temp_path $NGINX_DIR;
  server { listen 127.0.0.1:$PORT; keepalive_requests 1000000;
    location / { default_type application/json; return 200 '{"ok":true}'; } }
}
CONF
  nginx -c "$NGINX_DIR/nginx.conf"
  trap 'kill $(cat "$NGINX_DIR/nginx.pid") 2>/dev/null; rm -rf "$NGINX_DIR"' EXIT
  echo "## HTTP client: pipeline vs raw AsyncHTTPClient (nginx 'return 200' on 127.0.0.1:$PORT, 1 worker)"
  "$BENCH" http-client --url "http://127.0.0.1:$PORT/" --concurrency 16 --seconds 5 --rounds 3
  echo
fi
if [ "$which" = all ] || [ "$which" = policies ]; then
  echo "## Policy decisions under contention"
  "$BENCH" policies
fi
