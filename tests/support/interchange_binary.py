"""Where the suites find the ``interchange`` binary they drive: shared by tests/interop and tests/browser.

``INTERCHANGE_BIN`` (absolute, or relative to the repository root), else ``.build/debug/interchange``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = Path(".build") / "debug" / "interchange"


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
