"""Fixtures for the dashboard browser suite (headless Chromium through Selenium).

The suite starts the real ``interchange up`` as a subprocess on a free port and drives the page it
serves at ``/`` with Debian's ``chromium`` + ``chromium-driver``. The binary is ``INTERCHANGE_BIN``
(absolute, or relative to the repository root; default ``.build/debug/interchange``). Chromium and
chromedriver are found on PATH, or via ``CHROME_BIN`` / ``CHROMEDRIVER``.

Screenshots go to ``<repo>/test-artifacts/`` (``dashboard*.png``, plus ``failure-<test>.png`` for
any failing test); the server's output goes to ``test-artifacts/browser-server.log``.
"""

from __future__ import annotations

import base64
import math
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

# The binary fixture and REPO_ROOT are shared with the other suite (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_binary import REPO_ROOT, interchange_bin  # noqa: E402,F401 (a fixture, used by name)
from support.interchange_process import run_interchange  # noqa: E402

ARTIFACTS = REPO_ROOT / "test-artifacts"
WINDOW = (1280, 900)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def base_url(interchange_bin: Path, artifacts_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Starts `interchange up --port 0 --data-dir <tmp>` and yields its base URL (no trailing slash)."""
    data_dir = tmp_path_factory.mktemp("interchange-data")
    with run_interchange(
        interchange_bin, ["up", "--port", "0", "--data-dir", str(data_dir)], artifacts_dir / "browser-server.log"
    ) as url:
        yield url


def _find_executable(env: str, names: tuple[str, ...]) -> str | None:
    configured = os.environ.get(env)
    if configured:
        return configured
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chrome_paths() -> tuple[str, str]:
    chrome = _find_executable("CHROME_BIN", ("chromium", "chromium-browser", "google-chrome"))
    driver = _find_executable("CHROMEDRIVER", ("chromedriver",))
    if not chrome or not driver:
        pytest.fail(
            "Chromium and chromedriver are required: `apt-get install -y chromium chromium-driver` "
            "(or set CHROME_BIN and CHROMEDRIVER).",
            pytrace=False,
        )
    return chrome, driver


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def make_driver(chrome_paths: tuple[str, str], artifacts_dir: Path) -> webdriver.Chrome:
    chrome, chromedriver = chrome_paths
    options = Options()
    options.binary_location = chrome
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--window-size={WINDOW[0]},{WINDOW[1]}",
        "--lang=en-US",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--metrics-recording-only",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=chromedriver, log_output=str(artifacts_dir / "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(10)
    return driver


@pytest.fixture
def driver(
    request: pytest.FixtureRequest, chrome_paths: tuple[str, str], artifacts_dir: Path
) -> Iterator[webdriver.Chrome]:
    """A fresh headless Chromium per test (1280×900); a failing test leaves failure-<name>.png."""
    browser = make_driver(chrome_paths, artifacts_dir)
    try:
        yield browser
    finally:
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
            try:
                save_full_page_screenshot(browser, artifacts_dir / f"failure-{name}.png")
            except Exception:  # noqa: BLE001 - a screenshot must never hide the real failure
                pass
        browser.quit()


@pytest.fixture
def screenshot(driver: webdriver.Chrome, artifacts_dir: Path) -> Callable[[str], Path]:
    """``screenshot("name.png")`` saves a full-page screenshot to test-artifacts/."""

    def take(name: str) -> Path:
        return save_full_page_screenshot(driver, artifacts_dir / name)

    return take


def save_full_page_screenshot(driver: webdriver.Chrome, path: Path) -> Path:
    """The whole page, not just the viewport (Chrome DevTools Protocol)."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    width = max(1, math.ceil(size["width"]))
    height = max(1, math.ceil(size["height"]))
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))
    return path
