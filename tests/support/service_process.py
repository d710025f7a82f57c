"""One ``interchange serve <component>`` process that a test can start, SIGKILL and start again.

``run_interchange`` (interchange_process.py) runs a process for the length of a ``with`` block; the fulfillment
system tests also need to kill one mid-test and bring it back on the same database, so this keeps the process as an
object: ``start()`` waits (bounded) for its "listening on" line and returns the base URL, ``kill()`` is SIGKILL,
``stop()`` is SIGTERM then SIGKILL. Each start appends to the same log file (a restart's lines follow the first
run's), and standard output is drained for the process's whole life so it never blocks on a full pipe.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from .interchange_binary import REPO_ROOT
from .interchange_process import LISTENING, STARTUP_TIMEOUT_S, stop


class ServiceProcess:
    """``interchange <args>`` with ``env`` added to this process's environment; ``name`` labels logs and failures."""

    def __init__(self, binary: Path, name: str, args: list[str], log_path: Path, env: dict[str, str] | None = None):
        self.binary = binary
        self.name = name
        self.args = args
        self.log_path = log_path
        self.env = env or {}
        self.process: subprocess.Popen | None = None
        self.url: str | None = None
        self.starts = 0

    def start(self) -> str:
        """Starts the process and returns its base URL once it listens; fails the test if it does not within
        STARTUP_TIMEOUT_S or exits first."""
        assert self.process is None or self.process.poll() is not None, f"{self.name} is already running"
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "a", encoding="utf-8", errors="replace")
        self.starts += 1
        log.write(f"--- start {self.starts}: interchange {' '.join(self.args)}\n")
        log.flush()
        process = subprocess.Popen(
            [str(self.binary), *self.args],
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
        )
        self.process = process
        lines: "queue.Queue[str | None]" = queue.Queue()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)
                log.write(line)
                log.flush()
            lines.put(None)
            log.close()

        threading.Thread(target=pump, name=f"interchange-{self.name}-stdout", daemon=True).start()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                pytest.fail(f"{self.name} did not print its listening line within {STARTUP_TIMEOUT_S} s (see {self.log_path})",
                            pytrace=False)
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"{self.name} exited with status {process.wait()} before listening (see {self.log_path})",
                            pytrace=False)
            match = LISTENING.search(line)
            if match:
                self.url = match.group(1).rstrip("/")
                return self.url

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, no last commit, no goodbye to the broker."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after the grace period."""
        if self.process is not None:
            stop(self.process)

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
