"""Lifecycle events on the bus and on lifecycle topics, from the journal's stream, on moto.

The journal table's DynamoDB Stream is read as Lambda reads it (``StreamMapping``), each
batch handed to the publisher's handler code (``handlers.lifecycle.process``); the bus
has a rule sending everything to an SQS queue, so the tests read what EventBridge got.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from handlers.lifecycle import LifecyclePublisher, bus_level_from_environ, process
from local_emulator.dynamodb.streams import StreamMapping, StreamReader, streams_client
from sdk import TerminalError, WorkflowContext, workflow
from sdk.errors import WorkflowDefinitionError
from sdk.events import InvalidEventError
from sdk.events.log import log_for
from sdk.events.publisher import Publisher
from sdk.journal.dynamodb import DynamoJournal
from sdk.lifecycle.bus import BusLevel, BusPublisher
from sdk.lifecycle.cloudevents import CLOUDEVENT_TYPES, read_structured
from sdk.lifecycle.model import EventType
from sdk.payloads import EventPayload
from sdk.sizes import EXECUTION_INLINE_VALUE
from tests.support import CALLS, TABLE, Harness, effect

BUS = "app-bus"


def charge(amount: int) -> str:
    if amount > 100:
        raise TerminalError(f"card declined for {amount}")
    return "paid"


@workflow(id="process-payment")
async def process_payment(ctx: WorkflowContext, amount: int) -> str:
    await ctx.step.run("validate", lambda: amount)
    paid: str = await ctx.step.run("charge", charge, amount)
    return paid


@workflow(id="refund", trigger_on_event="lifecycle/process-payment",
          event_types=["workflow_fail"])  # fmt: skip
async def refund(ctx: WorkflowContext, event: EventPayload) -> str:
    data = event.data
    await ctx.step.run("refund", effect, "refund", data["execution_id"])
    return f"refunded {data['input']} after {data['error']['message']}"


@dataclass
class Bus:
    harness: Harness
    mapping: StreamMapping
    sqs: Any
    queue_url: str

    def drain(self) -> int:
        return self.mapping.drain()

    def received(self) -> list[dict[str, Any]]:
        """Every EventBridge event the bus delivered so far (each once)."""
        got: list[dict[str, Any]] = []
        while True:
            messages = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            batch = messages.get("Messages", [])
            if not batch:
                return got
            for message in batch:
                got.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.queue_url,
                                        ReceiptHandle=message["ReceiptHandle"])  # fmt: skip


def _bus(
    dynamodb_client: Any,
    clock: Any,
    level: BusLevel,
    events_client: Any = None,
    workflows: list[Any] | None = None,
) -> Bus:
    events = boto3.client("events", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    events.create_event_bus(Name=BUS)
    queue_url = sqs.create_queue(QueueName="seen")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    pattern = json.dumps({"source": ["stepline.lifecycle"]})
    events.put_rule(Name="all", EventBusName=BUS, EventPattern=pattern)
    events.put_targets(Rule="all", EventBusName=BUS,
                       Targets=[{"Id": "q", "Arn": arn["Attributes"]["QueueArn"]}])  # fmt: skip
    journal = DynamoJournal(dynamodb_client, TABLE)
    h = Harness.build(journal, clock, workflows or [process_payment, refund])
    log = log_for(journal, clock)
    assert log is not None
    topics = Publisher(h.app, journal, log, h.invoker, clock)
    publisher = LifecyclePublisher(journal, BusPublisher(events_client or events, BUS), topics,
                                   level)  # fmt: skip
    stream_arn = dynamodb_client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    reader = StreamReader(streams_client(boto3.client, region_name="us-east-1"), stream_arn)

    def deliver(event: dict[str, Any]) -> tuple[bool, Any]:
        try:
            return True, process(event, publisher)
        except Exception as exc:  # the invocation failed as a whole
            return False, {"errorMessage": str(exc)}

    return Bus(h, StreamMapping(reader, deliver), sqs, queue_url)


@pytest.fixture
def bus(dynamodb_client: Any, clock: Any) -> Iterator[Bus]:
    yield _bus(dynamodb_client, clock, BusLevel.WORKFLOW)


def test_workflow_events_reach_the_bus_as_valid_cloudevents_each_once(bus: Bus) -> None:
    ok = bus.harness.client.invoke(process_payment, 40)
    assert ok.result(timeout=5) == "paid"
    bus.drain()
    received = bus.received()
    cloudevents = [read_structured(json.dumps(e["detail"])) for e in received]
    assert [c.get_type() for c in cloudevents] == [
        "io.serverlessworkflow.workflow.started.v1",
        "io.serverlessworkflow.workflow.completed.v1",
    ]
    assert all(e["source"] == "stepline.lifecycle" for e in received)
    assert [e["detail-type"] for e in received] == [c.get_type() for c in cloudevents]
    completed = cloudevents[1]
    assert completed.get_subject() == ok.id and completed.get_specversion() == "1.0"
    data = completed.get_data()
    assert isinstance(data, dict)
    assert data["workflowId"] == ok.id and data["name"] == "process-payment"
    assert data["durationMs"] >= 0 and "completedAt" in data and "startedAt" in data
    bus.drain()
    assert bus.received() == []  # nothing new: nothing sent again


def test_every_type_maps_to_a_serverless_workflow_type_and_validates(
    dynamodb_client: Any, clock: Any
) -> None:
    bus = _bus(dynamodb_client, clock, BusLevel.ALL)
    failed = bus.harness.client.invoke(process_payment, 400)
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    bus.drain()
    everything = [read_structured(json.dumps(e["detail"])) for e in bus.received()]
    cloudevents = [c for c in everything if c.get_subject() == failed.id]  # not refund's
    types = [c.get_type() for c in cloudevents]
    assert set(types) == {
        CLOUDEVENT_TYPES[t] for t in (
            EventType.WORKFLOW_START, EventType.STEP_START, EventType.STEP_FINISH,
            EventType.STEP_ERROR, EventType.WORKFLOW_FAIL,
        )
    }  # fmt: skip
    assert all(t.startswith("io.serverlessworkflow.") for t in types)
    assert len({c.get_id() for c in cloudevents}) == len(cloudevents)
    [task_faulted] = [c for c in cloudevents if c.get_type().endswith("task.faulted.v1")]
    error = task_faulted.get_data()["error"]  # type: ignore[index]
    assert error["detail"] == "card declined for 400" and error["instance"] == "/do/charge"
    assert error["title"] == "sdk.errors:TerminalError"


def test_a_failure_starts_its_compensation_once_with_the_input_and_error(bus: Bus) -> None:
    failed = bus.harness.client.invoke(process_payment, 500)
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    bus.drain()
    [compensation] = bus.harness.client.list_executions(workflow_id="refund")
    assert bus.harness.client.wait(compensation.execution_id, timeout=5).status.value == "completed"
    assert bus.harness.client.output_of(
        bus.harness.client.get_execution(compensation.execution_id)
    ) == "refunded 500 after card declined for 500"
    assert CALLS["refund"] == 1
    # the whole stream delivered again (a redelivered batch): nothing starts twice
    bus.mapping.reader._iterators.clear()
    bus.drain()
    assert len(bus.harness.client.list_executions(workflow_id="refund")) == 1
    assert CALLS["refund"] == 1


class _Refusing:
    """An EventBridge client whose PutEvents refuses the first entry of each of its first
    ``times`` calls (FailedEntryCount), as EventBridge does under internal errors."""

    def __init__(self, real: Any, times: int) -> None:
        self.real, self.times, self.calls = real, times, 0

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
        self.calls += 1
        if self.calls > self.times:
            response: dict[str, Any] = self.real.put_events(Entries=Entries)
            return response
        rest = self.real.put_events(Entries=Entries[1:]) if len(Entries) > 1 else {"Entries": []}
        return {"FailedEntryCount": 1, "Entries": [
            {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}, *rest["Entries"]]}


def test_entries_putevents_refuses_are_sent_again_and_none_is_lost(
    dynamodb_client: Any, clock: Any
) -> None:
    real = boto3.client("events", region_name="us-east-1")
    refusing = _Refusing(real, times=1)
    bus = _bus(dynamodb_client, clock, BusLevel.WORKFLOW, events_client=refusing)
    bus.harness.client.invoke(process_payment, 10).result(timeout=5)
    bus.drain()
    types = [e["detail-type"].rsplit(".", 2)[-2] for e in bus.received()]
    assert sorted(types) == ["completed", "started"]


def test_a_publisher_failing_every_retry_leaves_the_batch_to_the_dead_letter_queue(
    dynamodb_client: Any, clock: Any
) -> None:
    never = _Refusing(boto3.client("events", region_name="us-east-1"), 10**6)
    bus = _bus(dynamodb_client, clock, BusLevel.WORKFLOW, events_client=never)
    sent: list[dict[str, Any]] = []
    bus.mapping.on_failure = sent.append
    bus.mapping.max_retries = 2
    bus.harness.client.invoke(process_payment, 10).result(timeout=5)
    bus.drain()
    assert bus.mapping.given_up >= 1 and sent
    info = sent[0]["DDBStreamBatchInfo"]
    assert info["batchSize"] >= 1 and info["startSequenceNumber"]


def test_a_workflow_cannot_subscribe_to_its_own_lifecycle_events() -> None:
    with pytest.raises(WorkflowDefinitionError, match="its own lifecycle events"):

        @workflow(id="narcissus", trigger_on_event="lifecycle/narcissus")
        async def narcissus(ctx: WorkflowContext, event: EventPayload) -> None:
            return None


def test_no_one_else_may_publish_to_a_lifecycle_topic(bus: Bus) -> None:
    with pytest.raises(InvalidEventError, match="reserved"):
        bus.harness.client.publish_event("lifecycle/process-payment", {"fake": True})


@workflow(id="ping", trigger_on_event="lifecycle/pong", event_types=["workflow_fail"])
async def ping(ctx: WorkflowContext, event: EventPayload) -> None:
    effect("ping")
    raise TerminalError("ping fails too")


@workflow(id="pong", trigger_on_event="lifecycle/ping", event_types=["workflow_fail"])
async def pong(ctx: WorkflowContext, event: EventPayload | None) -> None:
    effect("pong")
    raise TerminalError("pong fails")


def test_two_compensations_of_each_other_never_loop(dynamodb_client: Any, clock: Any) -> None:
    bus = _bus(dynamodb_client, clock, BusLevel.WORKFLOW, workflows=[ping, pong])
    failed = bus.harness.client.invoke(pong, None)
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    bus.drain()
    bus.drain()
    # pong failed -> ping ran and failed; ping was started by a lifecycle event: it stops
    assert CALLS["pong"] == 1 and CALLS["ping"] == 1


def test_no_loop_either_when_the_compensation_s_input_is_too_long_for_its_item(
    dynamodb_client: Any, clock: Any
) -> None:
    bus = _bus(dynamodb_client, clock, BusLevel.WORKFLOW, workflows=[ping, pong])
    long = {"note": "x" * (EXECUTION_INLINE_VALUE * 2)}  # pong's input, then in ping's event
    failed = bus.harness.client.invoke(pong, EventPayload("e-1", 1, "manual", long))
    with pytest.raises(TerminalError):
        failed.result(timeout=5)
    bus.drain()
    bus.drain()
    assert CALLS["pong"] == 1 and CALLS["ping"] == 1


def test_the_bus_level_comes_from_the_environment_and_bad_values_are_named() -> None:
    assert bus_level_from_environ({}) is BusLevel.WORKFLOW
    assert bus_level_from_environ({"STEPLINE_LIFECYCLE_BUS": "all"}) is BusLevel.ALL
    with pytest.raises(RuntimeError, match="STEPLINE_LIFECYCLE_BUS must be one of"):
        bus_level_from_environ({"STEPLINE_LIFECYCLE_BUS": "verbose"})
