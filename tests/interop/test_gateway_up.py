"""`interchange up` runs the API gateway in front of the fulfillment services on its own port (the real binary,
real services, embedded transport): a user registers and creates an API key through the gateway, the key opens the
orders and inventory APIs, a missing or revoked key does not, and the main port's paths keep working unchanged.
"""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_process import run_interchange  # noqa: E402


def call(method: str, url: str, body: dict | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict, dict]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            text = response.read()
            return response.status, dict(response.headers), json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        text = error.read()
        return error.code, dict(error.headers), json.loads(text) if text else {}


def test_the_gateway_fronts_the_fulfillment_services_with_the_users_api_keys(interchange_bin: Path, tmp_path: Path) -> None:
    log = tmp_path / "up.log"
    args = ["up", "--port", "0", "--data-dir", str(tmp_path / "data")]
    with run_interchange(interchange_bin, args, log) as base:
        deadline = time.monotonic() + 30
        match = None
        while match is None and time.monotonic() < deadline:
            match = re.search(r"Gateway in front of the fulfillment services on (http://\S+) \(its Kong file: (\S+)\)", log.read_text())
            time.sleep(0.05)
        assert match, f"no gateway line in {log}"
        gateway, kong_file = match.group(1), Path(match.group(2))
        assert "verify_url" in kong_file.read_text(), "the generated Kong file is there to read"

        # Register and get a key through the gateway (/users is open).
        status, _, user = call("POST", f"{gateway}/users/api/users", {"name": "Gia", "email": f"gia-{uuid.uuid4().hex[:8]}@example.com"})
        assert status == 201, user
        status, _, key = call("POST", f"{gateway}/users/api/users/{user['id']}/api-keys")
        assert status == 201, key

        order = {"userId": user["id"], "lines": [{"sku": "SKU-APPLE", "quantity": 1}]}
        status, headers, problem = call("POST", f"{gateway}/orders/api/orders", order)
        assert status == 401 and problem["type"].endswith("/unauthorized"), problem
        assert headers.get("WWW-Authenticate") == "Key"
        status, _, problem = call("POST", f"{gateway}/orders/api/orders", order, {"apikey": "not-a-key"})
        assert status == 401, problem

        status, headers, placed = call("POST", f"{gateway}/orders/api/orders", order, {"apikey": key["key"]})
        assert status == 202, placed
        assert headers.get("X-Correlation-ID"), "correlation-id echoes the id downstream"
        assert headers.get("X-RateLimit-Limit-Second") == "50"
        status, _, stock = call("GET", f"{gateway}/inventory/api/stock/SKU-APPLE", headers={"apikey": key["key"]})
        assert status == 200 and stock["sku"] == "SKU-APPLE"

        # The main port's paths keep working as before, without a key.
        status, _, direct = call("GET", f"{base}/orders/api/orders/{placed['id']}")
        assert status == 200 and direct["id"] == placed["id"]

        # A revoked key stops working once the gateway's remembered answer (10 s at most) has expired: a fresh
        # key is revoked before its first use, so nothing is remembered.
        status, _, fresh = call("POST", f"{base}/users/api/users/{user['id']}/api-keys")
        assert status == 201
        request = urllib.request.Request(f"{base}/users/api/users/{user['id']}/api-keys/{fresh['id']}", method="DELETE")
        with urllib.request.urlopen(request, timeout=15) as response:
            assert response.status in (200, 204)
        status, _, _ = call("GET", f"{gateway}/inventory/api/stock", headers={"apikey": fresh["key"]})
        assert status == 401
