"""The fulfillment system (#11) deployed as real processes: ``interchange serve users | inventory ×2 | payments |
orders ×2`` against one PostgreSQL (a schema per service, ``?search_path=<service>``) and one RabbitMQ, in both saga
styles (tests/support/fulfillment_cluster.py starts and reads them).

Each test drives the services over HTTP only and waits, bounded, by polling. After every test: every invariant of
the issue holds over the four schemas (every order CONFIRMED or CANCELLED; per SKU available + reserved = initial +
restocked − confirmed, nothing left reserved; every charge belongs to a confirmed order, the provider holds exactly
the confirmed orders' charges; no event twice in an inbox; one order.confirmed or order.cancelled per order), every
event observed on the exchange validates against its JSON Schema, and no group dead-lettered anything the test did
not send as poison.

Needs INTERCHANGE_TEST_POSTGRES_URL, INTERCHANGE_TEST_AMQP_URL, RABBITMQ_TEST_NODE and RABBITMQ_TEST_ENV (``make
test`` starts both servers and sets them); fails without them (INTERCHANGE_SKIP_AMQP=1 opts out).
"""

from __future__ import annotations

import concurrent.futures
import json
import sys
import threading
import time
import uuid
from pathlib import Path

import pika
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.fulfillment_cluster import (  # noqa: E402
    EXCHANGE, GROUPS, TYPE_PREFIX, FulfillmentCluster, rabbitmqctl, required_env, wait_for,
)
from support.interchange_binary import REPO_ROOT  # noqa: E402

APPLE = {"sku": "SKU-APPLE", "quantity": 1}  # 120¢: no amount trigger of the simulated provider
LOAD = 1000


@pytest.fixture(scope="module", params=["orchestration", "choreography"])
def cluster(request, interchange_bin):
    postgres = required_env("INTERCHANGE_TEST_POSTGRES_URL", "INTERCHANGE_SKIP_POSTGRES")
    amqp = required_env("INTERCHANGE_TEST_AMQP_URL", "INTERCHANGE_SKIP_AMQP")
    log_dir = REPO_ROOT / "test-artifacts" / "fulfillment-processes"
    system = FulfillmentCluster(interchange_bin, request.param, postgres, amqp, log_dir)
    try:
        system.start()
        yield system
    finally:
        system.close()


@pytest.fixture(autouse=True)
def invariants(cluster):
    """After every test: the invariants, the events' schemas, and no dead letter nobody sent on purpose."""
    yield
    cluster.switch_provider("ok")
    cluster.expect_invariants()
    problems = cluster.schema_problems()
    assert not problems, problems[:20]
    for group in GROUPS:
        unexpected = cluster.dead_letters(group)
        assert not unexpected, f"{group} dead-lettered {len(unexpected)}: {[h.get('x-interchange-last-error') for h, _ in unexpected][:5]}"


def timeline(order: dict) -> list[tuple[str, str, int]]:
    return [(entry["step"], entry["kind"], entry["attempt"]) for entry in order["saga"]["timeline"]]


def test_happy_path_spread_over_both_orders_instances(cluster):
    consumers = [("orders-a", "fulfillment.orders"), ("orders-b", "fulfillment.orders"),
                 ("inventory-a", "fulfillment.inventory"), ("inventory-b", "fulfillment.inventory")]
    before = {consumer: cluster.handled(*consumer) for consumer in consumers}
    ids = [cluster.place([APPLE, {"sku": "SKU-PEAR", "quantity": 2}], user=cluster.users[i % len(cluster.users)])
           for i in range(24)]
    statuses = cluster.wait_final(ids)
    assert set(statuses.values()) == {"CONFIRMED"}, statuses
    order = cluster.order(ids[0])
    assert order["totalCents"] == 120 + 2 * 90 and order["saga"]["style"] == cluster.style
    # Competing consumers: both instances of each group took a share of the saga's messages.
    for name, group in consumers:
        handled = cluster.handled(name, group) - before[(name, group)]
        assert handled > 0, f"{name} handled no {group} message of 24 orders"


def test_payment_declined_releases_the_stock_and_cancels(cluster):
    cluster.switch_provider("decline")
    ids = [cluster.place([{"sku": "SKU-PLUM", "quantity": 3}]) for _ in range(3)]
    statuses = cluster.wait_final(ids)
    assert set(statuses.values()) == {"CANCELLED"}, statuses
    for order_id in ids:
        order = cluster.order(order_id)
        assert "declined" in order.get("reason", ""), order
    payments = cluster.rows("SELECT status, reason, decline_code FROM payments.payments WHERE order_id = ANY(%s)", (ids,))
    assert sorted(payments) == [("failed", "declined", "card_declined")] * 3
    # The release is the invariant check's: SKU-PLUM back to initial − confirmed, nothing reserved.


def test_stock_short_charges_nobody(cluster):
    (available,) = cluster.rows("SELECT available FROM inventory.inventory_stock WHERE sku = 'SKU-RARE'")[0]
    charges = cluster.provider()["charges"]
    short = cluster.place([APPLE, {"sku": "SKU-RARE", "quantity": available + 1}])
    assert cluster.wait_final([short]) == {short: "CANCELLED"}
    assert cluster.rows("SELECT count(*) FROM payments.payments WHERE order_id = %s", (short,)) == [(0,)]
    assert cluster.provider()["charges"] == charges
    kinds = [kind for step, kind, _ in timeline(cluster.order(short))]
    assert "failed" in " ".join(kinds) or "reservation" in json.dumps(cluster.order(short)), cluster.order(short)


def test_payment_timeout_is_retried_then_compensated(cluster):
    cluster.switch_provider("timeout")
    before = cluster.provider()
    order_id = cluster.place([APPLE])
    assert cluster.wait_final([order_id], timeout=45) == {order_id: "CANCELLED"}
    order = cluster.order(order_id)
    charge_attempts = {attempt for step, kind, attempt in timeline(order) if step == "charge-payment"}
    if cluster.style == "orchestration":
        assert max(charge_attempts) == 3, timeline(order)  # the same command, sent again up to maxAttempts
    # The provider took the money (a timeout loses only the answer) and it was given back.
    after = cluster.provider()
    assert after["charges"] - before["charges"] == 1, (before, after)
    assert after["refunds"] - before["refunds"] == 1, (before, after)
    assert cluster.rows("SELECT status FROM payments.payments WHERE order_id = %s", (order_id,)) == [("refunded",)]


def test_orders_processes_killed_between_saga_steps_resume_after_restart(cluster):
    # Hold every saga at charge-payment: each charge answers after 1.5 s (less than the 2.5 s step timeout).
    cluster.switch_provider("ok", latency_ms=1500)
    ids = [cluster.place([APPLE]) for _ in range(6)]
    wait_for("all six orders at CHARGING", lambda: set(cluster.statuses(ids).values()) == {"CHARGING"}, timeout=20)
    for name in ("orders-a", "orders-b"):
        cluster.processes[name].kill()
    cluster.switch_provider("ok")
    # While orders is gone the payments answer; they wait in the orders group's durable queue.
    for name in ("orders-a", "orders-b"):
        cluster.processes[name].start()
    statuses = cluster.wait_final(ids)
    assert set(statuses.values()) == {"CONFIRMED"}, statuses
    assert cluster.rows("SELECT count(*) FROM payments.payments WHERE order_id = ANY(%s) AND status = 'charged'", (ids,)) == [(6,)]


def test_a_poison_message_is_dead_lettered_with_its_reason_and_blocks_nothing(cluster):
    not_an_event = b"{not json"
    cluster.ignored_bodies.add(not_an_event)
    connection = pika.BlockingConnection(pika.URLParameters(cluster.amqp_url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        bad_schema = {
            "specversion": "1.0", "id": f"poison-{uuid.uuid4().hex[:8]}", "source": "/interop/poison",
            "type": TYPE_PREFIX + "payment.processed", "subject": "ord_none", "datacontenttype": "application/json",
            "dataschema": "urn:interchange:schema:fulfillment:payment.processed:1", "data": {"orderId": 42},
        }
        properties = pika.BasicProperties(content_type="application/cloudevents+json; charset=utf-8", delivery_mode=2)
        channel.basic_publish(EXCHANGE, bad_schema["type"], json.dumps(bad_schema).encode(), properties)
        channel.basic_publish(EXCHANGE, TYPE_PREFIX + "payment.processed", not_an_event, properties)
    finally:
        connection.close()
    dead = wait_for("both poison messages in fulfillment.orders' dead-letter queue",
                    lambda: _collect(cluster, "fulfillment.orders", 2), timeout=20)
    reasons = [headers.get("x-interchange-last-error", "") for headers, _ in dead]
    assert all(reasons) and all(h.get("x-interchange-group") == "fulfillment.orders" for h, _ in dead), dead
    assert any("orderId" in reason for reason in reasons), reasons          # the field that does not decode
    assert any("CloudEvent" in reason for reason in reasons), reasons       # the body that is no event
    # Any other group bound to payment.processed dead-letters the same two, and nothing else.
    for group in set(GROUPS) - {"fulfillment.orders"}:
        for headers, body in cluster.dead_letters(group):
            assert body == not_an_event or b"/interop/poison" in body, (group, headers, body[:200])
    # The queue is not blocked: an order placed after the poison completes.
    order_id = cluster.place([APPLE])
    assert cluster.wait_final([order_id]) == {order_id: "CONFIRMED"}


_dead: dict[str, list] = {}


def _collect(cluster: FulfillmentCluster, group: str, count: int):
    _dead.setdefault(group, []).extend(cluster.dead_letters(group))
    return _dead.pop(group) if len(_dead[group]) >= count else None


def test_broker_restarted_during_a_load_of_1000_orders(cluster):
    cluster.restock("SKU-APPLE", LOAD)
    placed: list[str] = []
    lock = threading.Lock()
    restarted = threading.Event()

    def place(i: int) -> None:
        order_id = cluster.place([APPLE], user=cluster.users[i % len(cluster.users)], via=cluster.orders_urls()[i % 2],
                                 retries=60)
        with lock:
            placed.append(order_id)

    def restart_broker() -> None:
        # Restart once a third of the load is placed, so it lands mid-load however long rabbitmqctl takes.
        wait_for("a third of the load placed", lambda: len(placed) >= LOAD // 3, timeout=240, interval=0.05)
        rabbitmqctl("stop_app")
        rabbitmqctl("start_app")
        restarted.set()

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(9) as pool:
        restart = pool.submit(restart_broker)
        for future in [pool.submit(place, i) for i in range(LOAD)]:
            future.result()
        restart.result()
    assert restarted.is_set() and len(placed) == LOAD
    statuses = cluster.wait_final(placed, timeout=240)
    elapsed = time.monotonic() - started
    outcome = {status: list(statuses.values()).count(status) for status in set(statuses.values())}
    print(f"{cluster.style}: {LOAD} orders final in {elapsed:.1f} s with a broker restart: {outcome}; "
          f"{cluster.unavailable} placements answered 503 and were tried again")
    assert outcome.get("CONFIRMED", 0) > 0, outcome


def test_every_event_type_was_emitted_and_matched_its_schema(cluster):
    # Runs last in each style: the invariant fixture validated every event so far; here, that all kinds were seen.
    cluster.drain_events()
    seen = {event["type"].removeprefix(TYPE_PREFIX) for event in cluster.events.values()}
    events = {"order.created", "inventory.reserved", "inventory.reservation-failed", "payment.processed", "payment.failed",
              "order.confirmed", "order.cancelled", "inventory.released", "payment.refunded"}
    commands = {"command.reserve-inventory", "command.release-inventory", "command.charge-payment", "command.refund-payment"}
    expected = events | (commands if cluster.style == "orchestration" else set())
    assert expected <= seen, f"never emitted: {sorted(expected - seen)}"
    if cluster.style == "choreography":
        assert not (seen & commands), f"choreography sent commands: {sorted(seen & commands)}"
