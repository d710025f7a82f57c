"""Shared fixtures for the webhook-signature interop suite.

The suite drives the real ``interchange`` binary as a subprocess. Its location is
taken from ``INTERCHANGE_BIN`` (absolute, or relative to the repository root) and
defaults to ``.build/debug/interchange`` under the repository root.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, Sequence

import pytest

# The binary fixture and REPO_ROOT are shared with the other suite (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_binary import REPO_ROOT, interchange_bin  # noqa: E402,F401 (a fixture, used by name)

RunCLI = Callable[..., "subprocess.CompletedProcess[bytes]"]


@pytest.fixture(scope="session")
def run_cli(interchange_bin: Path) -> RunCLI:
    """``run_cli(args, body: bytes) -> CompletedProcess[bytes]``.

    Runs ``interchange *args`` with ``body`` as raw stdin bytes and captures
    stdout/stderr as bytes. Never raises on a non-zero exit status.
    """

    def run(args: Sequence[str], body: bytes, *, timeout: float = 60) -> "subprocess.CompletedProcess[bytes]":
        assert isinstance(body, (bytes, bytearray)), "body must be raw bytes"
        return subprocess.run(
            [str(interchange_bin), *args],
            input=bytes(body),
            capture_output=True,
            timeout=timeout,
            check=False,
            cwd=REPO_ROOT,
        )

    return run
