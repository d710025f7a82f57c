"""Fixtures for the contract suite: the real ``interchange`` binary, one process per component.

``interchange serve <component> --port 0 --data-dir <tmp>`` is started on a free loopback port and stopped
(SIGTERM, then SIGKILL) when the session ends; its output goes to ``test-artifacts/contract-<component>.log``.
The binary is ``INTERCHANGE_BIN`` (absolute, or relative to the repository root; default ``.build/debug/interchange``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest

# The binary fixture and REPO_ROOT are shared with the other suites (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_binary import REPO_ROOT, interchange_bin  # noqa: E402,F401 (a fixture, used by name)
from support.interchange_process import run_interchange  # noqa: E402

ARTIFACTS = REPO_ROOT / "test-artifacts"


@dataclass(frozen=True)
class RunningServer:
    base_url: str
    data_dir: Path
    log_path: Path


def _serve(binary: Path, component: str, data_dir: Path, env: dict[str, str], args: tuple[str, ...]) -> Iterator[RunningServer]:
    log_path = ARTIFACTS / f"contract-{component}.log"
    # The token is the one interchange writes into the data dir, as for a first start.
    with run_interchange(
        binary,
        ["serve", component, "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir), *args],
        log_path,
        env=env,
        drop_env=("INTERCHANGE_ADMIN_TOKEN",),
    ) as url:
        yield RunningServer(base_url=url, data_dir=data_dir, log_path=log_path)


@pytest.fixture(scope="session")
def serve(interchange_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., RunningServer]]:
    """``serve(component, env, args) -> RunningServer``: one process per component for the session."""
    running: dict[str, RunningServer] = {}
    generators: list[Iterator[RunningServer]] = []

    def start(component: str, env: dict[str, str] | None = None, args: tuple[str, ...] = ()) -> RunningServer:
        if component not in running:
            data_dir = tmp_path_factory.mktemp(f"interchange-{component}")
            generator = _serve(interchange_bin, component, data_dir, env or {}, args)
            running[component] = next(generator)
            generators.append(generator)
        return running[component]

    try:
        yield start
    finally:
        for generator in generators:
            generator.close()  # runs _serve's finally: SIGTERM, then SIGKILL
