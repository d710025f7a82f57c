"""One ``interchange serve <component>`` process that a test can start, SIGKILL and start again.

``run_interchange`` (interchange_process.py) runs a process for the length of a ``with`` block; the fulfillment
system tests also need to kill one mid-test and bring it back on the same database, so this keeps the process as an
object: ``start()`` waits (bounded) for its "listening on" line and returns the base URL, ``kill()`` is SIGKILL,
``stop()`` is SIGTERM then SIGKILL. Each start appends to the same log file (a restart's lines follow the first
run's); starting, draining and waiting for the listening line are ``launch``'s.
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from .interchange_process import launch, stop


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
        self.process, self.url = launch(self.binary, self.args, log, self.name, self.log_path, {**os.environ, **self.env})
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
