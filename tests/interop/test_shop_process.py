"""The real ``interchange up`` killed (SIGKILL) after Stripe events are stored and before they are processed: after a
restart on the same data directory every event is processed exactly once and the order ends paid.

The first run starts with ``INTERCHANGE_SHOP_PROCESS_WEBHOOKS=false``: the webhook endpoint verifies and stores
events (and answers 2xx, so the simulator will not deliver them again) but no inbox processor runs — the window
between "durably stored" and "processed" held open on purpose. The process is then killed without a chance to
clean up, and started again with processing on.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_binary import REPO_ROOT  # noqa: E402
from support.interchange_process import launch  # noqa: E402

WAIT_S = 30


def start(binary: Path, data_dir: Path, log_path: Path, processes: bool) -> tuple[subprocess.Popen, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "INTERCHANGE_SHOP_DATABASE_URL")}
    env["INTERCHANGE_SHOP_PROCESS_WEBHOOKS"] = "true" if processes else "false"
    log = open(log_path, "a", encoding="utf-8", errors="replace")
    return launch(binary, ["up", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir)], log, "up", log_path, env)


def request(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def inbox(data_dir: Path) -> list[tuple[str, str, str, int]]:
    with sqlite3.connect(data_dir / "shop.sqlite", timeout=10) as db:
        return db.execute("SELECT event_id, event_type, status, attempts FROM webhook_inbox ORDER BY received_at").fetchall()


def wait_until(description: str, condition) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {WAIT_S} s waiting until {description}")
        time.sleep(0.1)


def test_events_stored_before_a_sigkill_are_processed_once_after_the_restart(interchange_bin: Path, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    log_path = REPO_ROOT / "test-artifacts" / "interop-shop-process.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_text("")
    process, url = start(interchange_bin, data_dir, log_path, processes=False)
    try:
        status, order = request("POST", url + "/shop/api/orders", json.dumps({"lines": [{"productId": "prod_mug", "quantity": 1}]}).encode(),
                                {"Content-Type": "application/json"})
        assert status == 201, order
        order_id = order["id"]
        # The shop registers its endpoint with the simulator in the background: checkout works at once, but the
        # payment's events are delivered only to an endpoint that exists, so wait for it.
        wait_until("the shop registered its webhook endpoint", lambda: "webhook endpoint registered" in log_path.read_text())
        status, checkout = request("POST", url + f"/shop/api/orders/{order_id}/checkout")
        assert status == 200, checkout
        status, paid = request("POST", url + f"/sim/stripe/_sim/checkout/sessions/{checkout['sessionId']}/pay", b"card=4242424242424242",
                               {"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200 and paid["outcome"] == "succeeded", paid
        wait_until("checkout.session.completed is stored", lambda: any(row[1] == "checkout.session.completed" for row in inbox(data_dir)))
        assert request("GET", url + f"/shop/api/orders/{order_id}")[1]["status"] == "awaiting_payment"
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL
    # Read after the kill: whatever the dead process stored is what must be processed, once.
    stored = inbox(data_dir)
    assert any(event_type == "checkout.session.completed" for _, event_type, _, _ in stored)
    assert all(status == "received" and attempts == 0 for _, _, status, attempts in stored), stored

    process, url = start(interchange_bin, data_dir, log_path, processes=True)
    try:
        wait_until("every stored event is processed", lambda: all(row[2] == "processed" for row in inbox(data_dir)))
        after = inbox(data_dir)
        assert {event_id for event_id, *_ in after} == {event_id for event_id, *_ in stored}, "no event lost, none added twice"
        assert all(attempts == 1 for *_, attempts in after), after
        status, order = request("GET", url + f"/shop/api/orders/{order_id}")
        assert status == 200
        assert order["status"] == "paid", order
        assert order["paymentStatus"] == "paid"
        assert sum(1 for entry in order["timeline"] if entry.get("to") == "paid" and entry["kind"] != "transition.rejected") == 1
        with sqlite3.connect(data_dir / "shop.sqlite", timeout=10) as db:
            applied = db.execute("SELECT COUNT(*) FROM shop_stripe_events").fetchone()[0]
        assert applied == len(stored)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
