#!/usr/bin/env bash
# Runs the whole system with embedded defaults: `make up` (extra arguments go to `interchange up`).
source "$(dirname "$0")/lib/common.sh"
require_swift
# rabbitmq-c's headers and library: the RabbitMQ transport links it (the broker itself is optional: `--broker`).
apt_install librabbitmq-dev pkg-config
cd "$ROOT"
log "building interchange (release; the first build takes several minutes)"
swift_build -c release --product interchange
exec "$ROOT/.build/release/interchange" up "$@"
