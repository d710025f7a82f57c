"""Fixtures for the contract suite: the real ``interchange`` binary, one process per component.

``interchange serve <component> --port 0 --data-dir <tmp>`` is started on a free loopback port and stopped
(SIGTERM, then SIGKILL) when the session ends; its output goes to ``test-artifacts/contract-<component>.log``.
The binary is ``INTERCHANGE_BIN`` (absolute, or relative to the repository root; default ``.build/debug/interchange``).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

# The binary fixture and REPO_ROOT are shared with the other suites (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_binary import REPO_ROOT, interchange_bin  # noqa: E402,F401 (a fixture, used by name)

ARTIFACTS = REPO_ROOT / "test-artifacts"
LISTENING = re.compile(r"Interchange is listening on (http://\S+)")
STARTUP_TIMEOUT_S = 60
STOP_GRACE_S = 10


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    data_dir: Path
    log_path: Path


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_GRACE_S)


def _serve(binary: Path, component: str, data_dir: Path, env: dict[str, str]) -> Iterator[RunningServer]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = ARTIFACTS / f"contract-{component}.log"
    log = open(log_path, "w", encoding="utf-8", errors="replace")
    process = subprocess.Popen(
        [str(binary), "serve", component, "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir)],
        cwd=REPO_ROOT,
        # The token is the one interchange writes into the data dir, as for a first start.
        env={**{k: v for k, v in os.environ.items() if k != "INTERCHANGE_ADMIN_TOKEN"}, **env},
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
        # Drains stdout for the server's whole life so it never blocks on a full pipe.
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
            log.write(line)
            log.flush()
        lines.put(None)

    threading.Thread(target=pump, name=f"interchange-{component}-stdout", daemon=True).start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        url = None
        while url is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"interchange serve {component} did not print its listening line within "
                            f"{STARTUP_TIMEOUT_S} s (see {log_path})", pytrace=False)
            try:
                line = lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(f"interchange serve {component} exited with status {process.wait()} before listening "
                            f"(see {log_path})", pytrace=False)
            match = LISTENING.search(line)
            if match:
                url = match.group(1).rstrip("/")
        yield RunningServer(base_url=url, data_dir=data_dir, log_path=log_path)
    finally:
        _stop(process)
        log.close()


@pytest.fixture(scope="session")
def serve(interchange_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RunningServer]]:
    """``serve(component, **env) -> RunningServer``: one process per component for the session."""
    running: dict[str, RunningServer] = {}
    generators: list[Iterator[RunningServer]] = []

    def start(component: str, env: dict[str, str] | None = None) -> RunningServer:
        if component not in running:
            data_dir = tmp_path_factory.mktemp(f"interchange-{component}")
            generator = _serve(interchange_bin, component, data_dir, env or {})
            running[component] = next(generator)
            generators.append(generator)
        return running[component]

    try:
        yield start
    finally:
        for generator in generators:
            generator.close()  # runs _serve's finally: SIGTERM, then SIGKILL
