"""Shared fixtures for the webhook-signature interop suite.

The suite drives the real ``interchange`` binary as a subprocess. Its location is
taken from ``INTERCHANGE_BIN`` (absolute, or relative to the repository root) and
defaults to ``.build/debug/interchange`` under the repository root.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Callable, Sequence

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = Path(".build") / "debug" / "interchange"

RunCLI = Callable[..., "subprocess.CompletedProcess[bytes]"]


def locate_interchange_bin() -> Path:
    """Return the configured path of the interchange binary (it may not exist)."""
    configured = os.environ.get("INTERCHANGE_BIN")
    path = Path(configured).expanduser() if configured else DEFAULT_BIN
    if not path.is_absolute():
        path = REPO_ROOT / path
    return path


@pytest.fixture(scope="session")
def interchange_bin() -> Path:
    path = locate_interchange_bin()
    source = "INTERCHANGE_BIN" if os.environ.get("INTERCHANGE_BIN") else "default location"
    if not path.is_file():
        pytest.fail(
            f"interchange binary not found at {path} ({source}). "
            "Build it first (`swift build --product interchange`, or `make test`), "
            "or point INTERCHANGE_BIN at an existing binary.",
            pytrace=False,
        )
    if not os.access(path, os.X_OK):
        pytest.fail(f"interchange binary at {path} ({source}) is not executable.", pytrace=False)
    return path


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
