"""Interop: the Stripe simulator (`interchange serve stripe-sim`) driven by Stripe's official Python SDK.

The SDK is pointed at the simulator's base URL (``StripeClient(..., base_addresses={"api": url})``, and once the
module-level ``stripe.api_base``); every call goes over HTTP to the real binary, so what passes here is what the
SDK accepts on the wire: form encoding of nested parameters, object shapes, list objects and auto-paging, error
objects mapped to the SDK's exception classes, idempotency keys, and webhook signatures checked by
``stripe.Webhook.construct_event``.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator, List, Tuple

import pytest
import stripe

from support.interchange_process import run_interchange

API_KEY = "sk_test_interchange"
SUCCESS_URL = "http://127.0.0.1:9/shop/success.html?order=ord_1&session_id={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://127.0.0.1:9/shop/cancel.html?order=ord_1"
DELIVERY_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def sim_url(interchange_bin: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("stripe-sim")
    args = ["serve", "stripe-sim", "--port", "0", "--data-dir", str(data)]
    with run_interchange(interchange_bin, args, data / "interchange.log", drop_env=("STRIPE_SECRET_KEY",)) as url:
        yield url


@pytest.fixture
def client(sim_url: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": sim_url}, max_network_retries=0)


def session_params(order: str = "ord_1", **extra) -> dict:
    params = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "usd", "unit_amount": 1250, "product_data": {"name": "Blue mug"}}, "quantity": 2},
            {"price_data": {"currency": "usd", "unit_amount": 300, "product_data": {"name": "Tea"}}, "quantity": 1},
        ],
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "client_reference_id": order,
        "metadata": {"order_id": order},
        "payment_intent_data": {"metadata": {"order_id": order}},
        "expires_at": int(time.time()) + 3600,
    }
    params.update(extra)
    return params


def pay(sim_url: str, session_id: str, card: str) -> dict:
    """The simulator's control (not Stripe's API): pay a session as its hosted page does."""
    body = urllib.parse.urlencode({"card": card}).encode()
    request = urllib.request.Request(f"{sim_url}/_sim/checkout/sessions/{session_id}/pay", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_create_retrieve_list_and_expire_a_checkout_session(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.amount_total == 2800
    assert session.status == "open" and session.payment_status == "unpaid"
    assert session.metadata["order_id"] == "ord_1"
    assert session.url.endswith(f"/checkout/pay/{session.id}")
    assert session.payment_intent is None

    retrieved = client.v1.checkout.sessions.retrieve(session.id)
    assert retrieved.id == session.id and retrieved.client_reference_id == "ord_1"

    listed = client.v1.checkout.sessions.list({"limit": 100})
    assert listed.object == "list"
    assert session.id in [s.id for s in listed.data]

    expired = client.v1.checkout.sessions.expire(session.id)
    assert expired.status == "expired"
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"


def test_auto_paging_walks_every_page_once(client: stripe.StripeClient) -> None:
    ids = [client.v1.checkout.sessions.create(session_params(f"ord_page_{i}")).id for i in range(5)]
    page = client.v1.checkout.sessions.list({"limit": 2})
    assert len(page.data) == 2 and page.has_more
    walked = [s.id for s in page.auto_paging_iter()]
    assert len(walked) == len(set(walked)), "a session came twice"
    # Newest first, as Stripe lists.
    assert walked[:5] == list(reversed(ids))


def test_line_items_list(client: stripe.StripeClient) -> None:
    session = client.v1.checkout.sessions.create(session_params())
    items = client.v1.checkout.sessions.line_items.list(session.id)
    assert [item.description for item in items.data] == ["Blue mug", "Tea"]
    assert items.data[0].object == "item"
    assert items.data[0].amount_total == 2500
    assert items.data[0].price.unit_amount == 1250
    expanded = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["line_items"]})
    assert len(expanded.line_items.data) == 2


def test_events_filtered_by_type_and_a_refund_for_a_paid_session(client: stripe.StripeClient, sim_url: str) -> None:
    session = client.v1.checkout.sessions.create(session_params("ord_refund"))
    outcome = pay(sim_url, session.id, "4242424242424242")
    assert outcome["outcome"] == "succeeded"
    paid = client.v1.checkout.sessions.retrieve(session.id, {"expand": ["payment_intent"]})
    assert paid.status == "complete" and paid.payment_status == "paid"
    assert paid.payment_intent.status == "succeeded"
    assert paid.payment_intent.metadata["order_id"] == "ord_refund"

    completed = client.v1.events.list({"type": "checkout.session.completed", "limit": 100})
    assert all(event.type == "checkout.session.completed" for event in completed.data)
    assert session.id in [event.data.object["id"] for event in completed.data]

    refund = client.v1.refunds.create({"payment_intent": paid.payment_intent.id, "amount": 1000})
    assert refund.id.startswith("re_") and refund.status == "succeeded" and refund.amount == 1000
    assert client.v1.refunds.retrieve(refund.id).charge == refund.charge

    refunded = client.v1.events.list({"type": "charge.refunded"})
    charge = refunded.data[0].data.object
    assert charge["id"] == refund.charge
    assert charge["amount_refunded"] == 1000 and charge["refunded"] is False
    assert charge["metadata"]["order_id"] == "ord_refund"


def test_errors_map_to_the_sdks_exceptions(client: stripe.StripeClient, sim_url: str) -> None:
    params = session_params()
    del params["line_items"]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.create(params)
    assert missing.value.param == "line_items"
    assert missing.value.code == "parameter_missing"
    assert missing.value.http_status == 400

    with pytest.raises(stripe.InvalidRequestError) as not_found:
        client.v1.checkout.sessions.retrieve("cs_test_does_not_exist")
    assert not_found.value.http_status == 404 and not_found.value.code == "resource_missing"

    bad_key = stripe.StripeClient("sk_test_not_the_key", base_addresses={"api": sim_url}, max_network_retries=0)
    with pytest.raises(stripe.AuthenticationError) as unauthorized:
        bad_key.v1.checkout.sessions.list()
    assert unauthorized.value.http_status == 401


def test_an_idempotent_replay_returns_the_same_session_and_a_mismatch_is_an_idempotency_error(
    client: stripe.StripeClient,
) -> None:
    key = f"order-ord_1-attempt-{uuid.uuid4()}"
    first = client.v1.checkout.sessions.create(session_params(), {"idempotency_key": key})
    again = client.v1.checkout.sessions.create(session_params(expires_at=first.expires_at), {"idempotency_key": key})
    assert again.id == first.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"

    with pytest.raises(stripe.IdempotencyError):
        client.v1.checkout.sessions.create(session_params("ord_other"), {"idempotency_key": key})


def test_the_module_level_api_base_works_too(sim_url: str) -> None:
    saved = (stripe.api_key, stripe.api_base)
    stripe.api_key, stripe.api_base = API_KEY, sim_url
    try:
        session = stripe.checkout.Session.create(**session_params("ord_global"))
        assert stripe.checkout.Session.retrieve(session.id).metadata["order_id"] == "ord_global"
    finally:
        stripe.api_key, stripe.api_base = saved


# --- PaymentIntents: what a server-side integration (fulfillment's Stripe adapter) does -------------------------

# A test payment method confirmed at once, no redirect-based methods: what a server without a browser sends.
SERVER_SIDE = {"confirm": True, "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"}}


def test_a_payment_intent_is_created_confirmed_retrieved_listed_and_refunded(client: stripe.StripeClient) -> None:
    key = f"interchange-fulfillment-charge-{uuid.uuid4()}"
    params = {"amount": 1450, "currency": "usd", "payment_method": "pm_card_visa", "metadata": {"order_id": "o-py-1"}, **SERVER_SIDE}
    intent = client.v1.payment_intents.create(params, {"idempotency_key": key})
    assert intent.id.startswith("pi_") and intent.object == "payment_intent"
    assert intent.status == "succeeded" and intent.amount_received == 1450
    assert intent.metadata["order_id"] == "o-py-1"
    assert intent.payment_method.startswith("pm_") and intent.latest_charge.startswith("ch_")

    again = client.v1.payment_intents.create(params, {"idempotency_key": key})
    assert again.id == intent.id
    assert again.last_response.headers.get("Idempotent-Replayed") == "true"

    retrieved = client.v1.payment_intents.retrieve(intent.id, {"expand": ["latest_charge"]})
    assert retrieved.latest_charge.status == "succeeded"
    assert retrieved.latest_charge.payment_intent == intent.id
    listed = [pi.id for pi in client.v1.payment_intents.list({"limit": 100}).auto_paging_iter()]
    assert listed.count(intent.id) == 1

    refund = client.v1.refunds.create({"payment_intent": intent.id, "metadata": {"order_id": "o-py-1"}})
    assert refund.status == "succeeded" and refund.amount == 1450 and refund.payment_intent == intent.id
    assert client.v1.charges.retrieve(intent.latest_charge).refunded is True


def test_confirming_later_and_a_decline_raise_card_error_with_the_decline_code(client: stripe.StripeClient) -> None:
    created = client.v1.payment_intents.create({"amount": 990, "currency": "eur", "payment_method_types": ["card"]})
    assert created.status == "requires_payment_method"

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(created.id, {"payment_method": "pm_card_chargeDeclinedInsufficientFunds"})
    assert declined.value.http_status == 402
    assert declined.value.code == "card_declined"
    assert declined.value.error.decline_code == "insufficient_funds"
    assert declined.value.error.payment_intent["id"] == created.id
    after = client.v1.payment_intents.retrieve(created.id)
    assert after.status == "requires_payment_method"
    assert after.last_payment_error.decline_code == "insufficient_funds"

    with pytest.raises(stripe.CardError) as expired:
        client.v1.payment_intents.create({"amount": 500, "currency": "usd", "payment_method": "pm_card_chargeDeclinedExpiredCard", **SERVER_SIDE})
    assert expired.value.code == "expired_card"

    confirmed = client.v1.payment_intents.confirm(created.id, {"payment_method": "pm_card_visa"})
    assert confirmed.status == "succeeded" and confirmed.last_payment_error is None
    charges = client.v1.charges.list({"payment_intent": created.id})
    assert [charge.status for charge in charges.data] == ["succeeded", "failed"]


def test_a_payment_intent_is_canceled_and_bad_input_names_the_param(client: stripe.StripeClient) -> None:
    intent = client.v1.payment_intents.create({"amount": 700, "currency": "usd", "payment_method": "pm_card_visa"})
    assert intent.status == "requires_confirmation"
    canceled = client.v1.payment_intents.cancel(intent.id, {"cancellation_reason": "abandoned"})
    assert canceled.status == "canceled" and canceled.cancellation_reason == "abandoned"
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.v1.payment_intents.confirm(intent.id, {"payment_method": "pm_card_visa"})
    assert again.value.code == "payment_intent_unexpected_state"

    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.payment_intents.create({"currency": "usd"})
    assert missing.value.param == "amount" and missing.value.code == "parameter_missing"
    with pytest.raises(stripe.InvalidRequestError) as unknown_method:
        client.v1.payment_intents.create({"amount": 100, "currency": "usd", "payment_method": "pm_card_nonsense", **SERVER_SIDE})
    assert unknown_method.value.param == "payment_method" and unknown_method.value.code == "resource_missing"
    with pytest.raises(stripe.InvalidRequestError) as no_return_url:
        client.v1.payment_intents.create({"amount": 100, "currency": "usd", "payment_method": "pm_card_visa", "confirm": True})
    assert no_return_url.value.param == "return_url"


class _Receiver(http.server.BaseHTTPRequestHandler):
    received: List[Tuple[bytes, str]] = []
    lock = threading.Lock()

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with self.lock:
            self.received.append((body, self.headers.get("Stripe-Signature", "")))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Tuple[str, type]]:
    handler = type("Receiver", (_Receiver,), {"received": [], "lock": threading.Lock()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe", handler
    finally:
        server.shutdown()
        server.server_close()


def wait_for_deliveries(handler: type, count: int) -> List[Tuple[bytes, str]]:
    deadline = time.monotonic() + DELIVERY_TIMEOUT_S
    while time.monotonic() < deadline:
        with handler.lock:
            if len(handler.received) >= count:
                return list(handler.received)
        time.sleep(0.05)
    pytest.fail(f"fewer than {count} webhook deliveries within {DELIVERY_TIMEOUT_S} s", pytrace=False)


def test_webhooks_are_delivered_signed_so_construct_event_accepts_them(
    client: stripe.StripeClient, sim_url: str, receiver: Tuple[str, type]
) -> None:
    url, handler = receiver
    endpoint = client.v1.webhook_endpoints.create(
        {"url": url, "enabled_events": ["checkout.session.completed", "payment_intent.succeeded"]}
    )
    assert endpoint.id.startswith("we_") and endpoint.secret.startswith("whsec_")
    try:
        session = client.v1.checkout.sessions.create(session_params("ord_hook"))
        pay(sim_url, session.id, "4242 4242 4242 4242")
        deliveries = wait_for_deliveries(handler, 2)
        events = [stripe.Webhook.construct_event(body, signature, endpoint.secret) for body, signature in deliveries]
        assert {event.type for event in events} == {"checkout.session.completed", "payment_intent.succeeded"}
        completed = next(event for event in events if event.type == "checkout.session.completed")
        assert completed.data.object["id"] == session.id
        assert completed.data.object["payment_status"] == "paid"
        assert completed.data.object["metadata"]["order_id"] == "ord_hook"
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(deliveries[0][0], deliveries[0][1], "whsec_someone_elses_secret")
        assert client.v1.events.retrieve(completed.id).type == "checkout.session.completed"
    finally:
        client.v1.webhook_endpoints.delete(endpoint.id)
    assert endpoint.id not in [e.id for e in client.v1.webhook_endpoints.list().data]


def test_trigger_fires_an_event_through_the_api(interchange_bin: Path, client: stripe.StripeClient, sim_url: str) -> None:
    result = subprocess.run(
        [str(interchange_bin), "stripe-sim", "trigger", "charge.refunded", "--sim", sim_url, "--api-key", API_KEY],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    event_id = result.stdout.strip().splitlines()[-1].split()[-1]
    assert client.v1.events.retrieve(event_id).type == "charge.refunded"

    unknown = subprocess.run(
        [str(interchange_bin), "stripe-sim", "trigger", "customer.created", "--sim", sim_url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unknown.returncode != 0
    assert "checkout.session.completed" in unknown.stderr


# --- fulfillment's payments service charging through the embedded simulator under `interchange up` ---------------

ORDER_TIMEOUT_S = 60


def call(method: str, url: str, body: dict | None = None) -> Tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def place_and_wait(base: str, email: str) -> Tuple[str, dict]:
    """Registers a user, orders one unit of a seeded SKU, and waits (bounded) until the order is final."""
    status, user = call("POST", f"{base}/users/api/users", {"name": "Stripe Payer", "email": email})
    assert status == 201, user
    status, stock = call("GET", f"{base}/inventory/api/stock")
    assert status == 200, stock
    sku = next(item["sku"] for item in stock if item["available"] > 0)
    status, order = call("POST", f"{base}/orders/api/orders", {"userId": user["id"], "lines": [{"sku": sku, "quantity": 1}]})
    assert status == 202, order
    deadline = time.monotonic() + ORDER_TIMEOUT_S
    while time.monotonic() < deadline:
        _, current = call("GET", f"{base}/orders/api/orders/{order['id']}")
        if current.get("status") in ("CONFIRMED", "CANCELLED"):
            return order["id"], current
        time.sleep(0.1)
    pytest.fail(f"order {order['id']} not final within {ORDER_TIMEOUT_S} s", pytrace=False)


@pytest.mark.parametrize(
    ("payment_method", "final", "intent_status"),
    [("pm_card_visa", "CONFIRMED", "succeeded"), ("pm_card_chargeDeclinedInsufficientFunds", "CANCELLED", "requires_payment_method")],
)
def test_up_with_the_stripe_provider_charges_orders_at_the_embedded_simulator(
    interchange_bin: Path, tmp_path: Path, payment_method: str, final: str, intent_status: str
) -> None:
    env = {"INTERCHANGE_PAYMENTS_PROVIDER": "stripe", "INTERCHANGE_PAYMENTS_STRIPE_PAYMENT_METHOD": payment_method}
    args = ["up", "--port", "0", "--data-dir", str(tmp_path / "data")]
    with run_interchange(interchange_bin, args, tmp_path / "up.log", env=env, drop_env=("STRIPE_SECRET_KEY",)) as base:
        order_id, order = place_and_wait(base, f"payer-{uuid.uuid4().hex[:8]}@example.com")
        assert order["status"] == final, order
        status, payments = call("GET", f"{base}/payments/api/payments?orderId={order_id}")
        assert status == 200 and len(payments["data"]) == 1, payments
        payment = payments["data"][0]
        assert payment["provider"] == "stripe"

        sim = stripe.StripeClient(API_KEY, base_addresses={"api": f"{base}/sim/stripe"}, max_network_retries=0)
        intents = [pi for pi in sim.v1.payment_intents.list({"limit": 100}).auto_paging_iter() if pi.metadata.to_dict().get("order_id") == order_id]
        assert len(intents) == 1, intents
        assert intents[0].status == intent_status
        assert intents[0].amount == payment["amountCents"]
        if final == "CONFIRMED":
            assert payment["providerPaymentId"] == intents[0].id
        else:
            assert payment.get("declineCode") == "insufficient_funds", payment
    assert "sk_test_interchange" not in (tmp_path / "up.log").read_text(encoding="utf-8", errors="replace")


def test_serve_payments_with_the_stripe_provider_and_no_api_base_names_the_field(interchange_bin: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(interchange_bin), "serve", "payments", "--port", "0", "--data-dir", str(tmp_path)],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "INTERCHANGE_PAYMENTS_PROVIDER": "stripe"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "payments.stripe.apiBase" in result.stderr, result.stderr
