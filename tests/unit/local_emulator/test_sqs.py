"""The emulator's SQS event source mappings: read from the template, Lambda's event, settlement,
and the poller on moto (delays and visibility timeouts on the real clock)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.parser.models import SqsModel
from moto import mock_aws

from local_emulator.lambda_.environments import InvokeResult
from local_emulator.sqs import EventSourceMapping, QueuePoller, event_source_mappings
from local_emulator.sqs.models import settle, sqs_event
from tests.unit.local_emulator.stacks import undeployed_stack

QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:timers"
REPORTING = EventSourceMapping("fn", QUEUE_ARN, report_batch_item_failures=True)
PLAIN = EventSourceMapping("fn", QUEUE_ARN)
BATCH = [{"MessageId": f"m-{i}", "ReceiptHandle": f"r-{i}"} for i in range(3)]


def ids(messages: list[dict[str, Any]]) -> list[str]:
    return [message["MessageId"] for message in messages]


def test_the_timer_queue_mapping_is_read_from_the_template() -> None:
    mappings = event_source_mappings(undeployed_stack())
    [mapping] = [m for m in mappings if m.function == "app-wakeups"]
    assert mapping == EventSourceMapping(
        function="app-wakeups",
        queue_arn="arn:aws:sqs:us-east-1:123456789012:app-TimerQueue-X1",
        batch_size=10,
        batching_window_seconds=0,
        report_batch_item_failures=True,
    )


def test_each_batched_workflow_queue_maps_to_the_batch_function_with_its_size_and_window() -> None:
    mappings = event_source_mappings(undeployed_stack())
    batches = {m.queue_name: m for m in mappings if m.function == "app-batches"}
    assert {(m.batch_size, m.batching_window_seconds) for m in batches.values()} == {
        (10, 30),  # batch-processor
        (5, 60),  # batched-handler
    }
    assert all(m.report_batch_item_failures for m in batches.values())


@pytest.mark.parametrize(
    ("response", "done"),
    [
        (None, ["m-0", "m-1", "m-2"]),
        ({}, ["m-0", "m-1", "m-2"]),
        ({"batchItemFailures": []}, ["m-0", "m-1", "m-2"]),
        ({"batchItemFailures": None}, ["m-0", "m-1", "m-2"]),
        ({"batchItemFailures": [{"itemIdentifier": "m-1"}]}, ["m-0", "m-2"]),
        ({"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-2"}]}, ["m-1"]),
        # Malformed reports fail the whole batch, as on Lambda.
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, []),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, []),
        ({"batchItemFailures": [{"id": "m-1"}]}, []),
        ({"batchItemFailures": [{"itemIdentifier": "m-9"}]}, []),
        ({"batchItemFailures": "m-1"}, []),
        ("not an object", []),
    ],
)
def test_reported_failures_stay_and_the_rest_is_done(response: Any, done: list[str]) -> None:
    assert ids(settle(BATCH, REPORTING, True, response)) == done


def test_a_failed_invocation_leaves_the_whole_batch() -> None:
    assert settle(BATCH, REPORTING, False, None) == []
    assert settle(BATCH, PLAIN, False, None) == []


def test_without_report_batch_item_failures_a_success_settles_everything() -> None:
    response = {"batchItemFailures": [{"itemIdentifier": "m-1"}]}
    assert ids(settle(BATCH, PLAIN, True, response)) == ["m-0", "m-1", "m-2"]


@dataclass
class FakeLambdas:
    """Runs a Python function in place of the mapped Lambda function, remembering its events."""

    function: Callable[[dict[str, Any]], InvokeResult]
    events: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, name: str, payload: Any) -> InvokeResult:
        with self.lock:
            self.events.append(payload)
        return self.function(payload)


@dataclass
class Queue:
    sqs: Any
    url: str
    mapping: EventSourceMapping


@pytest.fixture
def queue() -> Iterator[Queue]:
    with mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="timers", Attributes={"VisibilityTimeout": "1"})[
            "QueueUrl"
        ]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        yield Queue(sqs, url, EventSourceMapping("fn", arn, report_batch_item_failures=True))


def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def test_the_event_is_lambdas_sqs_event(queue: Queue) -> None:
    queue.sqs.send_message(
        QueueUrl=queue.url,
        MessageBody='{"execution_id": "e-1"}',
        MessageAttributes={"kind": {"DataType": "String", "StringValue": "wake-up"}},
    )
    received = queue.sqs.receive_message(
        QueueUrl=queue.url, MessageSystemAttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    event = sqs_event(received, queue.mapping)
    [record] = SqsModel.model_validate(event).Records  # Powertools' parser model accepts it
    assert record.body == '{"execution_id": "e-1"}'
    assert record.eventSourceARN == queue.mapping.queue_arn and record.awsRegion == "us-east-1"
    assert record.attributes.ApproximateReceiveCount == "1"
    assert record.messageAttributes["kind"].stringValue == "wake-up"


def test_the_poller_delivers_a_delayed_message_after_its_delay(queue: Queue) -> None:
    delivered: list[float] = []

    def function(event: dict[str, Any]) -> InvokeResult:
        delivered.append(time.monotonic())
        return InvokeResult(True, {"batchItemFailures": []})

    lambdas = FakeLambdas(function)
    poller = QueuePoller(queue.sqs, [queue.mapping], lambdas)  # type: ignore[arg-type]
    poller.start()
    try:
        sent = time.monotonic()
        queue.sqs.send_message(QueueUrl=queue.url, MessageBody="late", DelaySeconds=1)
        wait_until(lambda: poller.deleted == 1)
    finally:
        poller.stop()
    assert 1 <= delivered[0] - sent < 1.5
    assert [r["body"] for r in lambdas.events[0]["Records"]] == ["late"]


def test_a_reported_failure_comes_back_alone_after_the_visibility_timeout(queue: Queue) -> None:
    failed_once: set[str] = set()

    def function(event: dict[str, Any]) -> InvokeResult:
        failures = []
        for record in event["Records"]:
            if record["body"] == "flaky" and record["messageId"] not in failed_once:
                failed_once.add(record["messageId"])
                failures.append({"itemIdentifier": record["messageId"]})
        return InvokeResult(True, {"batchItemFailures": failures})

    lambdas = FakeLambdas(function)
    for body in ("fine", "flaky", "also fine"):
        queue.sqs.send_message(QueueUrl=queue.url, MessageBody=body)
    poller = QueuePoller(queue.sqs, [queue.mapping], lambdas)  # type: ignore[arg-type]
    poller.start()
    try:
        wait_until(lambda: poller.deleted == 3)
    finally:
        poller.stop()
    bodies = [sorted(r["body"] for r in event["Records"]) for event in lambdas.events]
    assert bodies == [["also fine", "fine", "flaky"], ["flaky"]]
    retry = lambdas.events[1]["Records"][0]
    assert retry["attributes"]["ApproximateReceiveCount"] == "2"
    assert poller.returned == 1


def test_a_failed_invocation_returns_its_batch_for_redelivery(queue: Queue) -> None:
    outcomes = iter([InvokeResult(False, None, "Runtime.ExitError", "crashed")])

    def function(event: dict[str, Any]) -> InvokeResult:
        return next(outcomes, InvokeResult(True, None))

    lambdas = FakeLambdas(function)
    queue.sqs.send_message(QueueUrl=queue.url, MessageBody="once more")
    poller = QueuePoller(queue.sqs, [queue.mapping], lambdas)  # type: ignore[arg-type]
    poller.start()
    try:
        wait_until(lambda: poller.deleted == 1)
    finally:
        poller.stop()
    assert len(lambdas.events) == 2 and poller.returned == 1


def test_a_batching_window_gathers_messages_until_the_batch_is_full(queue: Queue) -> None:
    mapping = EventSourceMapping("fn", queue.mapping.queue_arn, 3, 5.0)
    lambdas = FakeLambdas(lambda event: InvokeResult(True, None))
    poller = QueuePoller(queue.sqs, [mapping], lambdas)  # type: ignore[arg-type]
    poller.start()
    try:
        for body in ("a", "b", "c"):
            queue.sqs.send_message(QueueUrl=queue.url, MessageBody=body)
        wait_until(lambda: poller.deleted == 3)
    finally:
        poller.stop()
    assert [sorted(r["body"] for r in e["Records"]) for e in lambdas.events] == [["a", "b", "c"]]
