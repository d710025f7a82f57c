"""The fulfillment system deployed as separate processes, for tests/interop/test_fulfillment_*.py.

``FulfillmentCluster`` runs the real binary as ``serve users``, ``serve inventory`` (two instances), ``serve payments``
and ``serve orders`` (two instances), each on its own random loopback port, against ONE PostgreSQL database (a fresh
one per cluster; a schema per service through ``?search_path=<service>``) and ONE RabbitMQ (a fresh vhost per
cluster, so one saga style's queues never meet the other's). It also:

- observes every event: a durable queue of its own bound to the ``interchange.events`` exchange with ``#``
  (drained with ``basic_get``, so a broker restart loses nothing: the queue is durable, the events persistent);
- reads the four schemas with psycopg for the invariant check (``violations()``), which mirrors
  Tests/FulfillmentTests/InvariantChecks.swift;
- validates each observed event's data against ``schemas/events/<name>.v1.json``, chosen by its ``dataschema``.

One payments instance only: the simulated provider keeps its charges in the process's memory, so two payments
processes would be two providers, and a retried charge (same idempotency key) landing on the other one would be
charged again there — a property of the simulator, not of the service, which a real provider does not have.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable

import jsonschema
import pika
import psycopg
import pytest

from .interchange_binary import REPO_ROOT
from .interchange_process import required_env  # noqa: F401 (re-exported for the tests)
from .service_process import ServiceProcess

EXCHANGE = "interchange.events"
GROUPS = ("fulfillment.orders", "fulfillment.inventory", "fulfillment.payments")
TYPE_PREFIX = "com.interchange.fulfillment."
SCHEMA_DIR = REPO_ROOT / "schemas" / "events"
FINAL = ("CONFIRMED", "CANCELLED")

# Saga timeouts short enough for a test, long enough for a debug build under load (the defaults are 30 s).
SAGA_ENV = {
    "INTERCHANGE_ORDERS_SAGA_RESERVE_TIMEOUT_MS": "5000",
    "INTERCHANGE_ORDERS_SAGA_CHARGE_TIMEOUT_MS": "2500",
    "INTERCHANGE_ORDERS_SAGA_MAX_ATTEMPTS": "3",
    "INTERCHANGE_PAYMENTS_SIMULATED_TIMEOUT_MS": "300",
}


def rabbitmqctl(*args: str, timeout: float = 60) -> None:
    """``rabbitmqctl -n $RABBITMQ_TEST_NODE <args>`` with the test broker's environment ($RABBITMQ_TEST_ENV)."""
    node, env_file = os.environ.get("RABBITMQ_TEST_NODE"), os.environ.get("RABBITMQ_TEST_ENV")
    if not node or not env_file:
        pytest.fail("RABBITMQ_TEST_NODE / RABBITMQ_TEST_ENV are not set: run `make test` (it starts the broker and sets "
                    "them)", pytrace=False)
    quoted = " ".join("'" + arg.replace("'", "'\\''") + "'" for arg in args)
    result = subprocess.run(["sh", "-c", f'. "$1"; rabbitmqctl -q -n "$2" {quoted}', "sh", env_file, node],
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"rabbitmqctl {' '.join(args)} failed: {result.stderr.strip()}"


def http(method: str, url: str, body: Any = None, timeout: float = 15) -> tuple[int, Any]:
    """One JSON request; returns (status, decoded body or None). Never raises on an HTTP error status."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def with_query(url: str, **items: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + list(items.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Polls ``check`` until it returns something truthy; fails naming ``what`` (and the last value) after ``timeout``."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what}: not within {timeout} s (last: {last!r})", pytrace=False)


class EventSchemas:
    """``schemas/events/*.v1.json`` by ``$id`` (= the events' ``dataschema``), draft 2020-12."""

    def __init__(self) -> None:
        self.by_id: dict[str, dict] = {}
        for path in sorted(SCHEMA_DIR.glob("*.json")):
            schema = json.loads(path.read_text())
            jsonschema.Draft202012Validator.check_schema(schema)
            self.by_id[schema["$id"]] = schema

    def problems(self, event: dict) -> list[str]:
        """What is wrong with ``event`` (empty when its attributes name its schema and its data validates)."""
        name = event.get("type", "").removeprefix(TYPE_PREFIX)
        expected = f"urn:interchange:schema:fulfillment:{name}:1"
        if event.get("dataschema") != expected:
            return [f"{event.get('type')} {event.get('id')}: dataschema {event.get('dataschema')!r}, expected {expected!r}"]
        if expected not in self.by_id:
            return [f"{event.get('type')} {event.get('id')}: no schema {expected} under schemas/events"]
        validator = jsonschema.Draft202012Validator(self.by_id[expected], format_checker=jsonschema.FormatChecker())
        problems = [f"{event['type']} {event['id']}: {error.json_path}: {error.message}"
                    for error in validator.iter_errors(event.get("data"))]
        if event.get("specversion") != "1.0" or not event.get("id") or not event.get("source"):
            problems.append(f"{event.get('type')} {event.get('id')}: not a CloudEvents 1.0 event: {event}")
        if event.get("subject") != (event.get("data") or {}).get("orderId"):
            problems.append(f"{event['type']} {event['id']}: subject {event.get('subject')!r} is not data.orderId")
        return problems


def as_cloudevent(properties, body: bytes) -> dict:
    """A received message as a CloudEvent dict: structured mode (the JSON envelope) or binary (``cloudEvents_`` headers)."""
    if (properties.content_type or "").startswith("application/cloudevents+json"):
        return json.loads(body)
    event = {key.split("_", 1)[1].split(":", 1)[-1]: value for key, value in (properties.headers or {}).items()
             if key.startswith(("cloudEvents_", "cloudEvents:"))}
    event["data"] = json.loads(body) if body else None
    return event


class FulfillmentCluster:
    def __init__(self, binary: Path, style: str, postgres_url: str, amqp_url: str, log_dir: Path):
        self.binary, self.style, self.log_dir = binary, style, log_dir
        tag = uuid.uuid4().hex[:8]
        self.database = f"fulfillment_{style[:5]}_{tag}"
        self.vhost = f"fulfillment-{style}-{tag}"
        self.admin_url = postgres_url
        self.db_url = urllib.parse.urlunsplit(urllib.parse.urlsplit(postgres_url)._replace(path="/" + self.database))
        base = urllib.parse.urlsplit(amqp_url)
        self.amqp_url = urllib.parse.urlunsplit(base._replace(path="/" + urllib.parse.quote(self.vhost, safe="")))
        self.schemas = EventSchemas()
        self.events: dict[str, dict] = {}          # by id (a redelivered event is the same event)
        self.deliveries = Counter()                 # how often each id arrived
        self.ignored_sources = {"/interop/poison"}  # what the tests themselves publish …
        self.ignored_bodies: set[bytes] = set()      # … including bodies that are no event at all
        self.unreadable: list[bytes] = []
        self.initial_stock: dict[str, int] = {}
        self.restocked: Counter = Counter()
        self.processes: dict[str, ServiceProcess] = {}
        self.users: list[str] = []
        self._next_orders = 0
        self.unavailable = 0  # 503s answered to placements that were then tried again
        self.db: psycopg.Connection | None = None
        self.observer: pika.BlockingConnection | None = None

    # MARK: Lifecycle

    def start(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        rabbitmqctl("add_vhost", self.vhost)
        rabbitmqctl("set_permissions", "-p", self.vhost, "guest", ".*", ".*", ".*")
        channel = self._observer_channel()
        channel.exchange_declare(exchange=EXCHANGE, exchange_type="topic", durable=True)
        channel.queue_declare(queue="interop.observer", durable=True)
        channel.queue_bind(queue="interop.observer", exchange=EXCHANGE, routing_key="#")
        self.db = psycopg.connect(self.db_url, autocommit=True)

        common = {"INTERCHANGE_FULFILLMENT_SAGA_STYLE": self.style, **SAGA_ENV}
        for name, service in [("users", "users"), ("inventory-a", "inventory"), ("inventory-b", "inventory"),
                              ("payments", "payments"), ("orders-a", "orders"), ("orders-b", "orders")]:
            args = ["serve", service, "--port", "0", "--log-format", "json", "--data-dir", str(self.log_dir / "data"),
                    "--database", with_query(self.db_url, search_path=service), "--broker", self.amqp_url]
            self.processes[name] = ServiceProcess(self.binary, name, args, self.log_dir / f"{self.style}-{name}.log", dict(common))
        # users, the first inventory (it seeds the demo stock into its empty schema) and payments on their own
        # schemas; then the second inventory and both orders at once (two processes migrating one schema).
        self._start_together(["users", "inventory-a", "payments"])
        for orders in ("orders-a", "orders-b"):
            self.processes[orders].env["INTERCHANGE_ORDERS_USERS_BASE_URL"] = self.url("users")
            self.processes[orders].env["INTERCHANGE_ORDERS_INVENTORY_BASE_URL"] = self.url("inventory-a")
        self._start_together(["inventory-b", "orders-a", "orders-b"])
        self.initial_stock = {sku: available for sku, available, _ in self.rows(
            "SELECT sku, available, reserved FROM inventory.inventory_stock")}
        assert self.initial_stock, "inventory seeded no stock"
        self.users = [self.create_user(f"user{i}") for i in range(4)]

    def _start_together(self, names: list[str]) -> None:
        with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
            for future in [pool.submit(self.processes[name].start) for name in names]:
                future.result()

    def close(self) -> None:
        for process in self.processes.values():
            process.stop()
        if self.observer is not None and self.observer.is_open:
            self.observer.close()
        if self.db is not None:
            self.db.close()
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        rabbitmqctl("delete_vhost", self.vhost)

    def url(self, name: str) -> str:
        url = self.processes[name].url
        assert url, f"{name} is not running"
        return url

    def orders_urls(self) -> list[str]:
        return [self.url("orders-a"), self.url("orders-b")]

    # MARK: Acting

    def create_user(self, name: str) -> str:
        status, body = http("POST", self.url("users") + "/users/api/users",
                            {"name": name, "email": f"{name}.{uuid.uuid4().hex[:6]}@example.com"})
        assert status == 201, (status, body)
        return body["id"]

    def place(self, lines: list[dict], user: str | None = None, via: str | None = None, retries: int = 0) -> str:
        """POST an order (round robin over the two orders instances unless ``via``); returns its id.

        ``retries``: how often a 503 (an upstream too slow to answer: no order was placed) is tried again after its
        ``retryAfterSeconds`` (at most 1 s) — what a client under load does."""
        if via is None:
            via = self.orders_urls()[self._next_orders % 2]
            self._next_orders += 1
        for attempt in range(retries + 1):
            status, body = http("POST", via + "/orders/api/orders", {"userId": user or self.users[0], "lines": lines})
            if status != 503 or attempt == retries:
                break
            self.unavailable += 1
            time.sleep(min(1.0, float(body.get("retryAfterSeconds", 1))))
        assert status == 202, (status, body)
        return body["id"]

    def restock(self, sku: str, quantity: int) -> None:
        status, body = http("POST", f"{self.url('inventory-a')}/inventory/api/stock/{sku}/restock", {"quantity": quantity})
        assert status == 200, (status, body)
        self.restocked[sku] += quantity

    def switch_provider(self, mode: str = "ok", latency_ms: int = 0) -> None:
        status, body = http("PUT", self.url("payments") + "/payments/api/provider", {"mode": mode, "latencyMs": latency_ms})
        assert status == 200 and body["mode"] == mode, (status, body)

    def provider(self) -> dict:
        status, body = http("GET", self.url("payments") + "/payments/api/provider")
        assert status == 200, (status, body)
        return body

    def order(self, order_id: str) -> dict:
        """The order as an orders instance answers it (either: they share the schema)."""
        for url in self.orders_urls():
            status, body = http("GET", f"{url}/orders/api/orders/{order_id}")
            assert status == 200, (status, body)
            return body
        raise AssertionError("no orders instance")

    def statuses(self, ids: list[str]) -> dict[str, str]:
        return dict(self.rows("SELECT id, status FROM orders.fulfillment_orders WHERE id = ANY(%s)", (ids,)))

    def wait_final(self, ids: list[str], timeout: float = 60) -> dict[str, str]:
        def final() -> dict[str, str] | None:
            statuses = self.statuses(ids)
            return statuses if len(statuses) == len(ids) and all(s in FINAL for s in statuses.values()) else None
        return wait_for(f"{len(ids)} orders CONFIRMED or CANCELLED", final, timeout, interval=0.2)

    def handled(self, name: str, group: str) -> float:
        """``messaging_handled_total{group=…, outcome="ack"}`` on one process's /metrics."""
        status, text = http("GET", self.url(name) + "/metrics")
        assert status == 200, status
        total = 0.0
        for line in str(text).splitlines():
            if line.startswith("messaging_handled_total{") and f'group="{group}"' in line and 'outcome="ack"' in line:
                total += float(line.rsplit(" ", 1)[1])
        return total

    # MARK: Reading

    def rows(self, query: str, params: tuple = ()) -> list[tuple]:
        assert self.db is not None
        return self.db.execute(query, params).fetchall()

    def _observer_channel(self):
        """A channel on the observer's connection, reconnected when the broker dropped it (a restart)."""
        for attempt in range(2):
            try:
                if self.observer is None or not self.observer.is_open:
                    self.observer = pika.BlockingConnection(pika.URLParameters(self.amqp_url))
                return self.observer.channel()
            except pika.exceptions.AMQPError:
                self.observer = None
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def drain_events(self) -> None:
        """Moves what the observer queue holds into ``events``."""
        channel = self._observer_channel()
        try:
            while True:
                method, properties, body = channel.basic_get(queue="interop.observer", auto_ack=True)
                if method is None:
                    return
                if body in self.ignored_bodies:
                    continue
                try:
                    event = as_cloudevent(properties, body)
                except ValueError:
                    self.unreadable.append(body)
                    continue
                if event.get("source") in self.ignored_sources:
                    continue
                self.deliveries[event["id"]] += 1
                self.events.setdefault(event["id"], {**event, "_routing_key": method.routing_key})
        finally:
            channel.close()

    def dead_letters(self, group: str) -> list[tuple[dict, bytes]]:
        """Takes every message of ``group``'s dead-letter queue: (headers, body)."""
        channel = self._observer_channel()
        taken = []
        try:
            while True:
                method, properties, body = channel.basic_get(queue=f"{EXCHANGE}.{group}.dead", auto_ack=True)
                if method is None:
                    return taken
                taken.append((dict(properties.headers or {}), body))
        finally:
            channel.close()

    def schema_problems(self) -> list[str]:
        problems = [f"an unreadable message on the exchange: {body[:200]!r}" for body in self.unreadable]
        for event in self.events.values():
            if event["_routing_key"] != event.get("type"):
                problems.append(f"{event['id']}: routing key {event['_routing_key']} is not its type {event.get('type')}")
            problems += self.schemas.problems({k: v for k, v in event.items() if not k.startswith("_")})
        return problems

    def violations(self) -> list[str]:
        """The invariants of #11 over the four schemas (and the observed events); empty when all hold."""
        self.drain_events()
        found: list[str] = []
        orders = self.rows("SELECT id, status, lines, total_cents FROM orders.fulfillment_orders")
        status_of = {order_id: status for order_id, status, _, _ in orders}
        for order_id, status, _, _ in orders:
            if status not in FINAL:
                found.append(f"order {order_id} is {status}")
        confirmed = {order_id: total for order_id, status, _, total in orders if status == "CONFIRMED"}
        sold: Counter = Counter()
        for order_id, status, lines, _ in orders:
            if status == "CONFIRMED":
                for line in json.loads(lines):
                    sold[line["sku"]] += line["quantity"]
        stock = {sku: (available, reserved) for sku, available, reserved in
                 self.rows("SELECT sku, available, reserved FROM inventory.inventory_stock")}
        for sku, initial in self.initial_stock.items():
            available, reserved = stock.get(sku, (None, None))
            expected = initial + self.restocked[sku] - sold[sku]
            if available is None or available + reserved != expected or reserved != 0:
                found.append(f"SKU {sku}: available {available} + reserved {reserved}, expected {expected} + 0")
        charged = {}
        for order_id, status, amount in self.rows("SELECT order_id, status, amount_cents FROM payments.payments"):
            if status == "charged":
                charged[order_id] = amount
                if order_id not in confirmed:
                    found.append(f"order {order_id} ({status_of.get(order_id)}) is charged {amount}¢ and not confirmed")
        for order_id, total in confirmed.items():
            if charged.get(order_id) != total:
                found.append(f"confirmed order {order_id} of {total}¢: charged {charged.get(order_id)}")
        provider = self.provider()
        if provider["charges"] - provider["refunds"] != len(confirmed):
            found.append(f"the provider made {provider['charges']} charges and {provider['refunds']} refunds; "
                         f"{len(confirmed)} orders are confirmed")
        for schema in ("orders", "inventory", "payments"):
            (twice,) = self.rows(f"SELECT count(*) FROM (SELECT 1 FROM {schema}.messaging_inbox "
                                 "GROUP BY consumer, source, event_id HAVING count(*) > 1) AS d")[0]
            if twice:
                found.append(f"{schema}: {twice} events recorded twice in its inbox")
        ends: dict[str, list[str]] = defaultdict(list)
        for event in self.events.values():
            if event.get("type") in (TYPE_PREFIX + "order.confirmed", TYPE_PREFIX + "order.cancelled"):
                ends[event.get("subject")].append(event["type"].removeprefix(TYPE_PREFIX))
        for order_id, status in status_of.items():
            expected = ["order.confirmed" if status == "CONFIRMED" else "order.cancelled"]
            if status in FINAL and ends.get(order_id) != expected:
                found.append(f"order {order_id} is {status}; its final events: {ends.get(order_id)}")
        return found

    def expect_invariants(self, timeout: float = 60) -> None:
        """Waits (bounded) until every invariant holds — participants finish compensating shortly after an order's
        final status — and fails naming what is still violated."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.violations()
            if not found:
                return
            if time.monotonic() > deadline:
                shown = "; ".join(found[:20]) + (f" … and {len(found) - 20} more" if len(found) > 20 else "")
                pytest.fail(f"invariants violated after {timeout} s: {shown}", pytrace=False)
            time.sleep(0.25)


def log_lines(process: ServiceProcess, pattern: str) -> list[str]:
    return [line for line in process.log_text().splitlines() if re.search(pattern, line)]
