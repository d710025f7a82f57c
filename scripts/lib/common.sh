# Shared helpers for Interchange's scripts. Source it; do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="$ROOT/.venv"

log() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# apt_install PKG... — installs the Debian packages that are missing (root, or sudo when available).
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { $sudo apt-get update -qq >/dev/null && $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; } \
    || die "could not install ${missing[*]} with apt-get"
}

require_swift() {
  command -v swift >/dev/null || die "Swift 6.x is required (https://www.swift.org/install/linux/); 'swift' is not on PATH"
}

# swift_build ARGS... — `swift build ARGS...`, run again (up to twice more) only when the package manager itself dies
# by a signal: SwiftPM 6.3 has been seen to segfault inside libdispatch a minute into a clean clone's first build
# (CI, 2026-12-03), and the next run goes on from where it stopped. A compile error (exit 1) is never retried.
swift_build() {
  local attempt status
  for attempt in 1 2 3; do
    status=0
    swift build "$@" || status=$?
    [ "$status" -eq 0 ] && return 0
    [ "$status" -gt 128 ] || return "$status"
    log "swift build died by signal $((status - 128)) (attempt $attempt of 3)"
  done
  return "$status"
}

# python_venv REQUIREMENTS... — a project-local virtualenv with the given requirement files installed,
# reinstalled only when they change.
python_venv() {
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then apt_install python3-venv; fi
  [ -x "$VENV/bin/python" ] || { log "creating $VENV"; python3 -m venv "$VENV"; }
  local stamp="$VENV/.requirements.sha256" wanted
  wanted="$(cat "$@" | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    log "installing Python test peers from PyPI ($(cat "$@" | grep -cv '^\s*#') packages)"
    "$VENV/bin/pip" install -q --disable-pip-version-check $(printf -- '-r %s ' "$@")
    echo "$wanted" > "$stamp"
  fi
}

# free_port — an unused loopback TCP port.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# stop_with_parent PID COMMAND — runs COMMAND once process PID is gone, however it ends (even SIGKILL of its
# whole process group: the watcher runs in a session of its own), so servers started for tests never outlive them.
stop_with_parent() {
  local parent=$1; shift
  setsid sh -c 'while kill -0 "$0" 2>/dev/null; do sleep 1; done; exec "$@"' "$parent" "$@" >/dev/null 2>&1 < /dev/null &
}
