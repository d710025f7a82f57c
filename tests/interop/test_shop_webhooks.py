"""Stripe webhooks signed by the official ``stripe`` package, delivered to a running ``interchange serve shop``.

The shop is started with two signing secrets (``STRIPE_WEBHOOK_SECRET=<current>,<previous>``, a rotation). Each
delivery's ``Stripe-Signature`` is made by ``stripe.WebhookSignature.generate_signature_header`` over the exact bytes
sent; the package's own ``stripe.Webhook.construct_event`` checks the same pair first, so the test proves the
shop agrees with Stripe's SDK, not with a re-implementation of it.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import stripe

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_binary import REPO_ROOT  # noqa: E402
from support.interchange_process import run_interchange  # noqa: E402

SECRET = "whsec_interop_current_" + uuid.uuid4().hex
PREVIOUS_SECRET = "whsec_interop_previous_" + uuid.uuid4().hex
WAIT_S = 20


@pytest.fixture(scope="module")
def shop(interchange_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("interchange-shop-webhooks")
    with run_interchange(
        interchange_bin,
        ["serve", "shop", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir)],
        REPO_ROOT / "test-artifacts" / "interop-shop-webhooks.log",
        env={"STRIPE_WEBHOOK_SECRET": f"{SECRET},{PREVIOUS_SECRET}"},
        drop_env=("STRIPE_SECRET_KEY", "INTERCHANGE_SHOP_DATABASE_URL"),
    ) as url:
        yield url


def request(method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict, bytes]:
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=15) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def post_json(url: str, value: object) -> tuple[int, dict]:
    status, _, body = request("POST", url, json.dumps(value).encode(), {"Content-Type": "application/json"})
    return status, json.loads(body) if body else {}


def deliver(shop: str, payload: str, header: str | None) -> tuple[int, dict, dict]:
    headers = {"Content-Type": "application/json", "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)"}
    if header is not None:
        headers["Stripe-Signature"] = header
    status, response_headers, body = request("POST", shop + "/shop/webhooks/stripe", payload.encode("utf-8"), headers)
    return status, response_headers, json.loads(body) if body else {}


def awaiting_order(shop: str) -> tuple[dict, str]:
    """An order with an open Checkout session at the embedded simulator."""
    status, _, body = request("GET", shop + "/shop/api/products")
    assert status == 200
    product = json.loads(body)["data"][0]["id"]
    status, order = post_json(shop + "/shop/api/orders", {"lines": [{"productId": product, "quantity": 2}]})
    assert status == 201, order
    status, checkout = post_json(shop + f"/shop/api/orders/{order['id']}/checkout", {})
    assert status == 200, checkout
    return order, checkout["sessionId"]


def completed_event(order: dict, session_id: str) -> str:
    """A `checkout.session.completed` event as Stripe sends it (its JSON, spaces and all: bytes are what is signed)."""
    event = {
        "id": "evt_" + uuid.uuid4().hex[:24],
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()),
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": order["amountTotal"],
                "amount_total": order["amountTotal"],
                "currency": order["currency"],
                "client_reference_id": order["id"],
                "metadata": {"order_id": order["id"]},
                "mode": "payment",
                "payment_intent": "pi_" + uuid.uuid4().hex[:24],
                "payment_status": "paid",
                "status": "complete",
                "livemode": False,
                "customer_details": {"email": "zoë@example.com", "name": "Zoë Ünicode"},
            }
        },
    }
    return json.dumps(event, indent=2, ensure_ascii=False)


def sign(payload: str, secret: str = SECRET) -> str:
    header = stripe.WebhookSignature.generate_signature_header(payload, secret)
    # Stripe's SDK accepts what it made: the pair is right before the shop sees it.
    assert stripe.Webhook.construct_event(payload, header, secret).id == json.loads(payload)["id"]
    return header


def wait_for_status(shop: str, order_id: str, status: str) -> dict:
    deadline = time.monotonic() + WAIT_S
    while True:
        code, _, body = request("GET", shop + f"/shop/api/orders/{order_id}")
        assert code == 200
        order = json.loads(body)
        if order["status"] == status or time.monotonic() > deadline:
            return order
        time.sleep(0.1)


def test_an_event_signed_by_the_stripe_package_is_accepted_and_applied(shop: str) -> None:
    order, session_id = awaiting_order(shop)
    payload = completed_event(order, session_id)
    status, _, receipt = deliver(shop, payload, sign(payload))
    assert status == 200, receipt
    assert receipt["duplicate"] is False
    assert receipt["eventID"] == json.loads(payload)["id"]
    paid = wait_for_status(shop, order["id"], "paid")
    assert paid["status"] == "paid", paid
    assert paid["paymentStatus"] == "paid"


def test_the_same_event_again_is_acknowledged_as_a_duplicate_with_no_second_effect(shop: str) -> None:
    order, session_id = awaiting_order(shop)
    payload = completed_event(order, session_id)
    assert deliver(shop, payload, sign(payload))[2]["duplicate"] is False
    status, _, receipt = deliver(shop, payload, sign(payload))
    assert status == 200
    assert receipt["duplicate"] is True
    paid = wait_for_status(shop, order["id"], "paid")
    assert sum(1 for entry in paid["timeline"] if entry.get("to") == "paid" and entry["kind"] != "transition.rejected") == 1


def test_an_event_signed_with_the_previous_secret_of_a_rotation_is_accepted(shop: str) -> None:
    order, session_id = awaiting_order(shop)
    payload = completed_event(order, session_id)
    status, _, receipt = deliver(shop, payload, sign(payload, PREVIOUS_SECRET))
    assert status == 200, receipt


@pytest.mark.parametrize(
    "tampering",
    ["body", "secret", "old-timestamp", "missing-header"],
)
def test_a_delivery_stripe_would_reject_is_rejected_400_and_changes_nothing(shop: str, tampering: str) -> None:
    order, session_id = awaiting_order(shop)
    payload = completed_event(order, session_id)
    header: str | None
    body = payload
    if tampering == "body":
        header = sign(payload)
        body = payload.replace('"amount_total": %d' % order["amountTotal"], '"amount_total": 1')
        assert body != payload
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body, header, SECRET)
    elif tampering == "secret":
        header = stripe.WebhookSignature.generate_signature_header(payload, "whsec_not_the_shops")
    elif tampering == "old-timestamp":
        header = stripe.WebhookSignature.generate_signature_header(payload, SECRET, timestamp=int(time.time()) - 3600)
        with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
            stripe.Webhook.construct_event(payload, header, SECRET)
    else:
        header = None
    status, headers, problem = deliver(shop, body, header)
    assert status == 400, problem
    assert headers.get("Content-Type") == "application/problem+json"
    assert problem["type"] == "https://interchange.dev/problems/webhook-signature"
    assert problem["status"] == 400
    # Nothing was stored: the same event correctly signed is still new, and the order was untouched until then.
    code, _, body_now = request("GET", shop + f"/shop/api/orders/{order['id']}")
    assert json.loads(body_now)["status"] == "awaiting_payment"
    status, _, receipt = deliver(shop, payload, sign(payload))
    assert status == 200 and receipt["duplicate"] is False
