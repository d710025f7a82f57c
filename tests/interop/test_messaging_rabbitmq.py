"""Interchange's CloudEvents on a real RabbitMQ, read and written by Python's official peers: ``pika`` (AMQP 0-9-1)
and the ``cloudevents`` SDK (CloudEvents 1.0).

- Events ``interchange events publish`` sends parse as valid CloudEvents with the SDK's own AMQP protocol binding
  (``cloudevents.core.bindings.amqp``; on RabbitMQ the AMQP application properties are the message headers), in
  structured mode and in binary mode. The SDK validates the required attributes when it builds the event.
- Events a Python producer encodes with that binding — structured and binary (``cloudEvents_`` properties, ``time`` as
  an AMQP timestamp) — are consumed by an Interchange handler: the ``EventBus`` consumer behind
  ``interchange events tail --group``, which acknowledges what it prints.
- The same commands on the embedded transport's store (``--data-dir``, no broker) write events the SDK's JSON event
  format reads back.

Needs INTERCHANGE_TEST_AMQP_URL (``make test`` starts a throwaway broker); INTERCHANGE_SKIP_AMQP=1 opts out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pika
import pytest
from cloudevents.core.bindings import amqp as ce_amqp
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from support.interchange_binary import REPO_ROOT  # noqa: E402

WAIT_S = 30


@pytest.fixture(scope="module")
def amqp_url() -> str:
    url = os.environ.get("INTERCHANGE_TEST_AMQP_URL")
    if not url:
        if os.environ.get("INTERCHANGE_SKIP_AMQP") == "1":
            pytest.skip("INTERCHANGE_SKIP_AMQP=1: the RabbitMQ interop suite is opted out")
        pytest.fail("INTERCHANGE_TEST_AMQP_URL is not set: run `make test` (it starts a broker) or set it", pytrace=False)
    return url


@pytest.fixture()
def channel(amqp_url: str):
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    try:
        yield connection.channel()
    finally:
        connection.close()


@pytest.fixture()
def exchange(channel) -> str:
    """A topic exchange of this test's own, declared as Interchange declares it (durable topic)."""
    name = f"interop.events.{uuid.uuid4().hex[:8]}"
    channel.exchange_declare(exchange=name, exchange_type="topic", durable=True)
    yield name
    channel.exchange_delete(exchange=name)


def bound_queue(channel, exchange: str, pattern: str) -> str:
    result = channel.queue_declare(queue="", exclusive=True, auto_delete=True)
    channel.queue_bind(queue=result.method.queue, exchange=exchange, routing_key=pattern)
    return result.method.queue


def get_one(channel, queue: str):
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue=queue, auto_ack=True)
        if method is not None:
            return method, properties, body
        time.sleep(0.05)
    raise AssertionError(f"nothing arrived on {queue} within {WAIT_S} s")


def as_amqp_message(properties, body: bytes) -> ce_amqp.AMQPMessage:
    """A received RabbitMQ message as the SDK's AMQP message: the headers are the application properties."""
    return ce_amqp.AMQPMessage(
        properties={"content-type": properties.content_type} if properties.content_type else {},
        application_properties=dict(properties.headers or {}),
        application_data=body,
    )


def publish_amqp_message(channel, exchange: str, routing_key: str, message: ce_amqp.AMQPMessage) -> None:
    channel.basic_publish(
        exchange=exchange, routing_key=routing_key, body=message.application_data,
        properties=pika.BasicProperties(
            content_type=message.properties.get("content-type"), headers=dict(message.application_properties), delivery_mode=2,
        ),
    )


def interchange(binary: Path, *args: str, timeout: float = WAIT_S) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout, cwd=REPO_ROOT, check=False)


def test_structured_event_from_interchange_is_a_valid_cloudevent(interchange_bin, amqp_url, channel, exchange):
    queue = bound_queue(channel, exchange, "com.interop.order.*")
    published = interchange(
        interchange_bin, "events", "publish", "--broker", amqp_url, "--exchange", exchange,
        "--type", "com.interop.order.created", "--source", "/orders", "--subject", "o_1",
        "--data", '{"orderId":"o_1","total":4200}', "--extension", "tenant=acme",
    )
    assert published.returncode == 0, published.stderr
    event_id = published.stdout.strip()

    method, properties, body = get_one(channel, queue)
    assert method.routing_key == "com.interop.order.created"
    assert properties.content_type.startswith("application/cloudevents+json")
    assert properties.delivery_mode == 2, "events are published persistent"
    event = ce_amqp.from_structured(as_amqp_message(properties, body), JSONFormat())
    assert event.get_id() == event_id
    assert event.get_specversion() == "1.0"
    assert (event.get_source(), event.get_type(), event.get_subject()) == ("/orders", "com.interop.order.created", "o_1")
    assert event.get_extension("tenant") == "acme"
    assert event.get_time() is not None
    assert event.get_data() == {"orderId": "o_1", "total": 4200}


def test_binary_event_from_interchange_is_a_valid_cloudevent(interchange_bin, amqp_url, channel, exchange):
    queue = bound_queue(channel, exchange, "com.interop.#")
    published = interchange(
        interchange_bin, "events", "publish", "--binary", "--broker", amqp_url, "--exchange", exchange,
        "--type", "com.interop.payment.processed", "--source", "/payments", "--data", '{"amount":4200}',
    )
    assert published.returncode == 0, published.stderr
    _, properties, body = get_one(channel, queue)
    assert properties.content_type == "application/json", "binary mode: the content type is the data's"
    assert any(name.startswith(("cloudEvents_", "cloudEvents:")) for name in properties.headers or {})
    event = ce_amqp.from_binary(as_amqp_message(properties, body), JSONFormat())
    assert event.get_id() == published.stdout.strip()
    assert event.get_specversion() == "1.0"
    assert (event.get_type(), event.get_source()) == ("com.interop.payment.processed", "/payments")
    assert event.get_datacontenttype() == "application/json"
    assert event.get_data() == {"amount": 4200}


def test_a_bad_broker_url_names_the_flag(interchange_bin):
    result = interchange(interchange_bin, "events", "publish", "--broker", "http://nope", "--type", "t", "--source", "/s")
    assert result.returncode != 0
    assert "--broker" in result.stderr


def test_events_from_a_python_producer_are_consumed_by_an_interchange_handler(interchange_bin, amqp_url, channel, exchange):
    group = f"interop-{uuid.uuid4().hex[:6]}"
    # The group's consumer declares its durable queue; start it, wait for the queue, then publish from Python.
    consumer = subprocess.Popen(
        [str(interchange_bin), "events", "tail", "--broker", amqp_url, "--exchange", exchange,
         "--group", group, "--type", "com.interop.python.*", "--count", "2"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        queue = f"{exchange}.{group}"
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                probe = pika.BlockingConnection(pika.URLParameters(amqp_url))
                try:
                    probe.channel().queue_declare(queue=queue, passive=True)
                    break
                finally:
                    if probe.is_open:
                        probe.close()
            except pika.exceptions.ChannelClosedByBroker:
                assert time.monotonic() < deadline, f"the group's queue {queue} was not declared within {WAIT_S} s"
                assert consumer.poll() is None, consumer.stderr.read() if consumer.stderr else "consumer exited"
                time.sleep(0.1)

        structured = CloudEvent(
            {"type": "com.interop.python.structured", "source": "/python", "subject": "s1", "datacontenttype": "application/json"},
            {"n": 1, "unknownField": "ignored by consumers"},
        )
        publish_amqp_message(channel, exchange, structured.get_type(), ce_amqp.to_structured(structured, JSONFormat()))
        binary = CloudEvent(
            {"type": "com.interop.python.binary", "source": "/python", "datacontenttype": "application/json"}, {"n": 2}
        )
        publish_amqp_message(channel, exchange, binary.get_type(), ce_amqp.to_binary(binary, JSONFormat()))

        stdout, stderr = consumer.communicate(timeout=WAIT_S)
        assert consumer.returncode == 0, stderr
        received = {event["id"]: event for event in map(json.loads, stdout.splitlines())}
        assert set(received) == {structured.get_id(), binary.get_id()}
        assert received[structured.get_id()]["data"] == {"n": 1, "unknownField": "ignored by consumers"}
        assert received[structured.get_id()]["subject"] == "s1"
        assert received[binary.get_id()]["data"] == {"n": 2}
        assert received[binary.get_id()]["source"] == "/python"
        assert received[binary.get_id()]["time"].startswith(binary.get_time().strftime("%Y-%m-%dT%H:%M:%S"))
        # Handled means acknowledged: the group's queue is empty afterwards.
        declared = channel.queue_declare(queue=queue, passive=True)
        assert declared.method.message_count == 0
    finally:
        if consumer.poll() is None:
            consumer.kill()
            consumer.wait(timeout=10)
        channel.queue_delete(queue=f"{exchange}.{group}")


def test_the_embedded_store_publishes_and_tails_without_a_broker(interchange_bin, tmp_path):
    data_dir = str(tmp_path / "data")
    ids = []
    for event_type in ("com.interop.embedded.created", "com.interop.other.created", "com.interop.embedded.paid"):
        result = interchange(interchange_bin, "events", "publish", "--data-dir", data_dir, "--type", event_type, "--source", "/cli",
                             "--data", '{"ok":true}')
        assert result.returncode == 0, result.stderr
        ids.append(result.stdout.strip())
    tail = interchange(interchange_bin, "events", "tail", "--data-dir", data_dir, "--from-beginning",
                       "--type", "com.interop.embedded.*", "--count", "2")
    assert tail.returncode == 0, tail.stderr
    lines = tail.stdout.splitlines()
    events = [JSONFormat().read(CloudEvent, line.encode()) for line in lines]
    assert [event.get_id() for event in events] == [ids[0], ids[2]], "in publish order, the other type filtered out"
    assert all(event.get_data() == {"ok": True} for event in events)
