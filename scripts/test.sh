#!/usr/bin/env bash
# Runs every test: `make test`. Installs what the tests need when missing (Debian packages, Python peers
# from PyPI), starts the real servers they use on random loopback ports, and stops them afterwards.
source "$(dirname "$0")/lib/common.sh"
source "$(dirname "$0")/lib/postgres.sh"
source "$(dirname "$0")/lib/rabbitmq.sh"
require_swift
cd "$ROOT"

apt_install chromium chromium-driver librabbitmq-dev pkg-config
# The dashboard page's unit tests run on Node's built-in test runner; Debian's nodejs when there is no node.
command -v node >/dev/null || apt_install nodejs
python_venv tests/interop/requirements.txt tests/browser/requirements.txt tests/contract/requirements.txt

log "building (debug) with tests"
swift_build --build-tests

start_postgres
# A real broker for the RabbitMQ transport's tests (MessagingAMQPTests, the messaging interop suite); ~5 s to start.
start_rabbitmq

ARTIFACTS="$ROOT/test-artifacts"
mkdir -p "$ARTIFACTS"
status=0

log "declared dependencies (every module a target imports is in Package.swift)"
python3 scripts/check-imports.py >"$ARTIFACTS/imports.log" 2>&1 || status=1
tail -20 "$ARTIFACTS/imports.log"

log "format check (swift format lint --strict with the repo's .swift-format; \`make format\` fixes most)"
swift format lint --strict --recursive Sources Tests Benchmarks/Sources >"$ARTIFACTS/lint.log" 2>&1 || true
if [ -s "$ARTIFACTS/lint.log" ]; then head -40 "$ARTIFACTS/lint.log"; status=1; else echo "clean"; fi

log "web unit tests (node --test: the dashboard page's modules, tests/web)"
node --test --test-reporter=spec tests/web/*.test.mjs 2>&1 | tee "$ARTIFACTS/node-test.log" || status=1

log "swift test"
# Swift Testing starts every test at once by default: ~780 of them, with their servers, pools and processes, on the
# two event-loop threads of a 2-core machine; the ones with a bounded wait then time out for want of CPU, not for a
# bug. Six at a time took 113 s against 100 s unbounded here, and its waits measure the code instead of the queue.
export SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH="${SWT_EXPERIMENTAL_MAXIMUM_PARALLELIZATION_WIDTH:-6}"
swift test --skip-build 2>&1 | tee "$ARTIFACTS/swift-test.log" | grep -vE '^(◇|↳)' || true
grep -qE '^✔ Test run with [0-9]+ tests? .*passed' "$ARTIFACTS/swift-test.log" || status=1

log "interop tests (official clients from PyPI against Interchange)"
INTERCHANGE_BIN="$ROOT/.build/debug/interchange" "$VENV/bin/pytest" -q tests/interop \
  --junitxml="$ARTIFACTS/interop.xml" || status=1

log "contract tests (schemathesis, every check and phase, against every OpenAPI document Interchange serves)"
INTERCHANGE_BIN="$ROOT/.build/debug/interchange" "$VENV/bin/pytest" -q tests/contract \
  --junitxml="$ARTIFACTS/contract.xml" || status=1

log "browser tests (headless Chromium against interchange up)"
INTERCHANGE_BIN="$ROOT/.build/debug/interchange" "$VENV/bin/pytest" -q tests/browser \
  --junitxml="$ARTIFACTS/browser.xml" || status=1

echo
log "summary"
[ -s "$ARTIFACTS/lint.log" ] && echo "format check: $(wc -l <"$ARTIFACTS/lint.log") findings (see $ARTIFACTS/lint.log)" || echo "format check: clean"
if ! grep -E '^(✔|✘) Test run' "$ARTIFACTS/swift-test.log"; then
  echo "swift test: no summary (build or crash failure; see $ARTIFACTS/swift-test.log)"
  # A crash's reason and the crashed thread's first frames, so a CI log shows what died without the artifact.
  grep -m1 -B2 -A30 -E 'Program crashed|Fatal error|Thread [0-9]+ crashed|error: (fatalError|exited with)' \
    "$ARTIFACTS/swift-test.log" | cut -c1-220 || true
fi
echo "node --test: $(grep -E '^ℹ (tests|pass|fail) ' "$ARTIFACTS/node-test.log" | sed 's/^ℹ //' | paste -sd, - | sed 's/,/, /g')"
python3 - "$ARTIFACTS/interop.xml" "$ARTIFACTS/contract.xml" "$ARTIFACTS/browser.xml" <<'PY' || true
import os, sys, xml.etree.ElementTree as ET
for path in sys.argv[1:]:
    if not os.path.exists(path):
        print(f"{os.path.basename(path)}: no report (the suite did not run)")
        continue
    suite = ET.parse(path).getroot()
    suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
    a = suite.attrib
    name = os.path.splitext(os.path.basename(path))[0]
    print(f"pytest {name}: {a['tests']} tests, {a['failures']} failures, {a['errors']} errors, {a['skipped']} skipped")
PY
[ $status -eq 0 ] && log "all tests passed" || log "TESTS FAILED"
exit $status
