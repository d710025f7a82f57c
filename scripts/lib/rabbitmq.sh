# start_rabbitmq — starts a throwaway RabbitMQ broker (Debian's rabbitmq-server, installed when missing) on random
# loopback ports and exports INTERCHANGE_TEST_AMQP_URL, so the AMQP tests run against a real broker. It stops when
# this script exits, even if killed. Also exports RABBITMQ_TEST_NODE / RABBITMQ_TEST_ENV for tests that restart it.
start_rabbitmq() {
  apt_install rabbitmq-server
  RMQ_DIR=$(mktemp -d /tmp/interchange-rabbitmq.XXXXXX)
  local port dist; port=$(free_port); dist=$(free_port)
  local node="interchange-test-$port@localhost"
  mkdir -p "$RMQ_DIR/log"
  echo '[].' >"$RMQ_DIR/enabled_plugins"
  # No disk or memory alarm on a busy test machine: the broker must not block publishers during a test run.
  printf 'disk_free_limit.absolute = 1MB\nvm_memory_high_watermark.relative = 0.8\nloopback_users = none\n' >"$RMQ_DIR/rabbitmq.conf"
  cat >"$RMQ_DIR/env" <<ENV
export RABBITMQ_NODENAME=$node RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=$port RABBITMQ_DIST_PORT=$dist
export RABBITMQ_MNESIA_BASE=$RMQ_DIR/mnesia RABBITMQ_LOG_BASE=$RMQ_DIR/log RABBITMQ_FEATURE_FLAGS_FILE=$RMQ_DIR/feature_flags
export RABBITMQ_ENABLED_PLUGINS_FILE=$RMQ_DIR/enabled_plugins RABBITMQ_PLUGINS_EXPAND_DIR=$RMQ_DIR/plugins-expand
export RABBITMQ_CONFIG_FILE=$RMQ_DIR/rabbitmq ERL_EPMD_ADDRESS=127.0.0.1
ENV
  [ "$(id -u)" -eq 0 ] && chown -R rabbitmq:rabbitmq "$RMQ_DIR"
  # shellcheck disable=SC1091
  (. "$RMQ_DIR/env"; setsid rabbitmq-server >"$RMQ_DIR/stdout.log" 2>&1 </dev/null &)
  local waited=0
  until python3 -c "import socket,sys; s=socket.socket(); s.settimeout(1); sys.exit(s.connect_ex(('127.0.0.1',$port)))" 2>/dev/null; do
    waited=$((waited + 1))
    [ $waited -le 120 ] || { tail -30 "$RMQ_DIR/stdout.log" >&2; die "RabbitMQ did not start within 120 s"; }
    sleep 1
  done
  export INTERCHANGE_TEST_AMQP_URL="amqp://guest:guest@127.0.0.1:$port/"
  export RABBITMQ_TEST_NODE="$node" RABBITMQ_TEST_ENV="$RMQ_DIR/env"
  unset INTERCHANGE_SKIP_AMQP
  RMQ_STOP="(. $RMQ_DIR/env; rabbitmqctl -n $node stop >/dev/null 2>&1 || pkill -f 'beam.*$node'); pkill -u rabbitmq epmd; rm -rf $RMQ_DIR"
  stop_with_parent $$ sh -c "$RMQ_STOP"
  log "RabbitMQ is listening on 127.0.0.1:$port (node $node)"
}
