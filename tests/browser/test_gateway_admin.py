"""The gateway's admin page (Sources/GatewayProxy/admin.html, served at /_gateway/ on the admin port) in headless
Chromium, against the real `interchange serve gateway` in front of a real upstream (Python's HTTP server).

DOM hooks: #status[data-generation], #error (role=alert, hidden unless the last reload was rejected),
#routes tr[data-route][data-requests], #consumers tr[data-consumer][data-requests], #targets tr[data-target][data-breaker],
body[data-loaded]. Every wait is an explicit, bounded WebDriverWait; the page refreshes itself every 2 s.
"""

from __future__ import annotations

import re
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_binary import REPO_ROOT  # noqa: E402
from support.interchange_process import run_interchange  # noqa: E402

WAIT_S = 15


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        body = b'{"hello":"world"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def kong_file(path: Path, upstream: str, extra: str = "") -> None:
    path.write_text(
        '_format_version: "3.0"\n'
        f"services:\n  - name: hello\n    url: {upstream}\n    routes: [{{name: hello-route, paths: [/hello]}}]\n{extra}"
        "consumers:\n  - username: alice\n    keyauth_credentials: [{key: alice-browser-key}]\n"
        "plugins:\n  - name: key-auth\n"
    )


def get(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_admin_page_shows_traffic_targets_and_a_rejected_reload(
    driver: WebDriver, interchange_bin: Path, tmp_path: Path, screenshot
) -> None:
    upstream = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{upstream.server_address[1]}"
        config = tmp_path / "kong.yaml"
        kong_file(config, url)
        log = REPO_ROOT / "test-artifacts" / "browser-gateway.log"
        args = ["serve", "gateway", "--config", str(config), "--port", "0", "--admin-port", "0"]
        with run_interchange(interchange_bin, args, log) as gateway:
            admin = re.search(r"Gateway admin API on (http://\S+)/_gateway/", log.read_text()).group(1)
            for _ in range(3):
                assert get(f"{gateway}/hello", {"apikey": "alice-browser-key"}) == 200
            assert get(f"{gateway}/hello", {}) == 401

            driver.get(f"{admin}/_gateway/")
            wait = WebDriverWait(driver, WAIT_S)
            route = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#routes tr[data-route="hello-route"]'))
            assert route.get_attribute("data-requests") == "4"
            assert "200: 3" in route.text and "401: 1" in route.text
            consumer = driver.find_element(By.CSS_SELECTOR, '#consumers tr[data-consumer="alice"]')
            assert consumer.get_attribute("data-requests") == "3"
            target = driver.find_element(By.CSS_SELECTOR, "#targets tr[data-target]")
            assert target.get_attribute("data-breaker") == "closed"
            assert target.get_attribute("data-target") == f"127.0.0.1:{upstream.server_address[1]}"
            assert driver.find_element(By.ID, "status").get_attribute("data-generation") == "1"
            assert not driver.find_element(By.ID, "error").is_displayed()
            assert "alice-browser-key" not in driver.page_source, "the page shows no credential"
            screenshot("gateway-admin.png")

            # More traffic, then a bad file: the page updates by itself and says why the file was refused.
            assert get(f"{gateway}/hello", {"apikey": "alice-browser-key"}) == 200
            wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#routes tr[data-route="hello-route"]').get_attribute("data-requests") == "5")
            kong_file(config, url, extra="    colour: blue\n")
            error = wait.until(lambda d: (e := d.find_element(By.ID, "error")).is_displayed() and e)
            assert "colour" in error.text and "configuration in force stays" in error.text
            assert driver.find_element(By.ID, "status").get_attribute("data-generation") == "1"
            screenshot("gateway-admin-rejected.png")
            logs = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
            assert not logs, logs
    finally:
        upstream.shutdown()
