"""Runs the real ``interchange`` binary for a suite: shared by tests/contract and tests/browser.

``run_interchange(binary, args, log_path)`` starts it, drains its standard output for its whole life (so it
never blocks on a full pipe), waits — bounded — for its "listening on" line, yields the base URL, and stops it
(SIGTERM, then SIGKILL) however the suite ends. Standard output and error go to ``log_path``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Iterator

import pytest

from .interchange_binary import REPO_ROOT

LISTENING = re.compile(r"Interchange is listening on (http://\S+)")
STARTUP_TIMEOUT_S = 60
STOP_GRACE_S = 10


def stop(process: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL after STOP_GRACE_S."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE_S)


def launch(binary: Path, args: list[str], log, label: str, log_path: Path,
           env: dict[str, str] | None = None) -> tuple[subprocess.Popen, str]:
    """Starts ``interchange <args>`` with ``env`` as its whole environment (None: this process's), standard error to
    ``log`` and standard output drained into it for the process's whole life (so it never blocks on a full pipe;
    ``log`` is closed when the output ends). Returns the process and its base URL once it prints its listening
    line; kills it and fails the test if it does not within STARTUP_TIMEOUT_S or exits first."""
    process = subprocess.Popen(
        [str(binary), *args],
        cwd=REPO_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
        encoding="utf-8",
        errors="replace",
        bufsize=1,
    )
    lines: "queue.Queue[str | None]" = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
            log.write(line)
            log.flush()
        lines.put(None)
        log.close()

    threading.Thread(target=pump, name=f"interchange-{label}-stdout", daemon=True).start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            process.kill()
            pytest.fail(f"interchange {label} did not print its listening line within {STARTUP_TIMEOUT_S} s "
                        f"(see {log_path})", pytrace=False)
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            pytest.fail(f"interchange {label} exited with status {process.wait()} before listening "
                        f"(see {log_path})", pytrace=False)
        match = LISTENING.search(line)
        if match:
            return process, match.group(1).rstrip("/")


@contextlib.contextmanager
def run_interchange(
    binary: Path, args: list[str], log_path: Path, env: dict[str, str] | None = None, drop_env: tuple[str, ...] = ()
) -> Iterator[str]:
    """``interchange <args>`` until the block ends; yields its base URL (no trailing slash)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w", encoding="utf-8", errors="replace")
    environment = {**{k: v for k, v in os.environ.items() if k not in drop_env}, **(env or {})}
    process, url = launch(binary, args, log, " ".join(args[:2]), log_path, environment)
    try:
        yield url
    finally:
        stop(process)


def required_env(name: str, opt_out: str) -> str:
    """The environment variable ``name`` (a test server's URL that `make test` sets); the test is skipped only when the
    developer opted out with ``opt_out=1``, and fails saying how to run it otherwise."""
    value = os.environ.get(name)
    if not value:
        if os.environ.get(opt_out) == "1":
            pytest.skip(f"{opt_out}=1: the tests that need {name} are opted out")
        pytest.fail(f"{name} is not set: run `make test` (it starts PostgreSQL and RabbitMQ) or set it", pytrace=False)
    return value
