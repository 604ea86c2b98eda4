"""The model of Lambda's asynchronous invocations, with trivial handlers."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handlers.failures import FailedInvocation
from sdk.client import LambdaInvoker
from sdk.journal.dynamodb import client_config
from sdk.journal.schema import table_definition
from tests.faults import FaultInjector, FaultKind, skip_backoff
from tests.lambda_model import AsyncLambda, InvocationContext, QuiescenceError
from tests.support import TABLE

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class Recorder:
    """A handler that remembers what it saw and fails while ``failures`` lasts."""

    def __init__(self, failures: int = 0) -> None:
        self.seen: list[tuple[Any, str]] = []
        self.failures = failures
        self._lock = threading.Lock()

    def __call__(self, event: Any, context: InvocationContext) -> dict[str, Any]:
        with self._lock:
            self.seen.append((event, context.aws_request_id))
            if self.failures:
                self.failures -= 1
                raise RuntimeError("boom")
        return {"ok": True}


def model(handler: Any, **kwargs: Any) -> AsyncLambda:
    kwargs.setdefault("duplicate_rate", 0.0)
    kwargs.setdefault("clock", lambda: T0)
    return AsyncLambda(handler, rng=random.Random(1), **kwargs)


def test_nothing_runs_until_drain() -> None:
    handler = Recorder()
    lam = model(handler)

    lam.invoke_async("e1")

    assert handler.seen == [] and lam.pending() == 1
    assert lam.drain() == 1
    assert [event for event, _ in handler.seen] == [{"execution_id": "e1"}]


def test_a_duplicate_is_delivered_concurrently_with_the_same_request_id() -> None:
    both_inside = threading.Barrier(2, timeout=10)
    seen: list[str] = []

    def handler(event: Any, context: InvocationContext) -> None:
        both_inside.wait()  # breaks (and fails the delivery) unless both copies run at once
        seen.append(context.aws_request_id)

    lam = model(handler, duplicate_rate=1.0, max_retries=0)
    lam.invoke_async("e1")
    lam.drain()

    assert len(seen) == 2 and seen[0] == seen[1]
    assert [(d.duplicate, d.outcome) for d in lam.deliveries] == [(False, "ok"), (True, "ok")]
    assert lam.stats["stepline-runner"].duplicates == 1


def test_a_late_duplicate_runs_after_what_was_pending() -> None:
    handler = Recorder()
    lam = model(handler, duplicate_rate=1.0, duplicate_timing="late")

    lam.invoke_async("e1")
    lam.invoke_async("e2")
    lam.drain()

    ids = [(event["execution_id"], request_id) for event, request_id in handler.seen]
    assert [execution_id for execution_id, _ in ids] == ["e1", "e2", "e1", "e2"]
    assert ids[0] == ids[2] and ids[1] == ids[3]
    assert [d.duplicate for d in lam.deliveries] == [False, False, True, True]


def test_a_failed_attempt_is_retried_with_the_same_request_id() -> None:
    handler = Recorder(failures=2)
    lam = model(handler, max_retries=2)

    lam.invoke_async("e1")
    lam.drain()

    assert len({request_id for _, request_id in handler.seen}) == 1
    assert [(d.attempt, d.outcome) for d in lam.deliveries] == [
        (1, "error"),
        (2, "error"),
        (3, "ok"),
    ]
    assert lam.stats["stepline-runner"].retries == 2
    assert lam.undelivered == []


def test_exhausted_attempts_send_lambdas_destination_record() -> None:
    handler, destination = Recorder(failures=3), Recorder()
    lam = model(handler, destination=destination, max_retries=2)

    lam.invoke_async("e1")
    lam.drain()

    [(record, _)] = destination.seen
    request_id = handler.seen[0][1]
    error = record["responsePayload"]
    assert record == {
        "version": "1.0",
        "timestamp": "2024-05-01T12:00:00.000Z",
        "requestContext": {
            "requestId": request_id,
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:stepline-runner:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3,
        },
        "requestPayload": {"execution_id": "e1"},
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": error,
    }
    assert (error["errorType"], error["errorMessage"], error["requestId"]) == (
        "RuntimeError",
        "boom",
        request_id,
    )
    assert "raise RuntimeError" in "".join(error["stackTrace"])
    failed = FailedInvocation.parse(record)  # what the real destination handler reads
    assert (failed.execution_id, failed.attempts, failed.error_type) == ("e1", 3, "RuntimeError")


def test_without_a_destination_the_record_is_kept() -> None:
    lam = model(Recorder(failures=1), max_retries=0)

    lam.invoke_async("e1")
    lam.drain()

    assert [r["requestContext"]["approximateInvokeCount"] for r in lam.undelivered] == [1]


def test_drain_delivers_what_handlers_enqueue_while_draining() -> None:
    delivered: list[int] = []

    def handler(event: Any, context: InvocationContext) -> None:
        delivered.append(event["n"])
        if event["n"] < 5:
            lam.invoke({"n": event["n"] + 1})
            lam.invoke({"n": 10 + event["n"]})

    lam = model(handler)
    lam.invoke({"n": 1})

    assert lam.drain() == 9
    assert sorted(delivered) == [1, 2, 3, 4, 5, 11, 12, 13, 14]
    assert lam.pending() == 0


def test_a_handler_that_never_stops_reinvoking_itself_is_reported() -> None:
    def handler(event: Any, context: InvocationContext) -> None:
        lam.invoke(event)

    lam = model(handler, max_deliveries=50)
    lam.invoke({})

    with pytest.raises(QuiescenceError, match="50 deliveries"):
        lam.drain()


def test_each_invocation_gets_its_remaining_time_from_its_start() -> None:
    now = [T0]
    remaining: list[int] = []

    def handler(event: Any, context: InvocationContext) -> None:
        remaining.append(context.get_remaining_time_in_millis())
        now[0] += timedelta(seconds=2)
        remaining.append(context.get_remaining_time_in_millis())

    lam = model(handler, remaining_ms=lambda rng: 5_000, clock=lambda: now[0])
    lam.invoke_async("e1")
    lam.drain()

    assert remaining == [5_000, 3_000]


def test_a_killed_attempt_fails_as_a_killed_runtime_and_is_retried() -> None:
    handler, destination = Recorder(), Recorder()
    lam = model(handler, destination=destination, kill_rate=1.0, max_retries=1)

    lam.invoke_async("e1")
    lam.drain()

    # The handler ran to its end both times, but the process died before Lambda saw a result.
    assert len(handler.seen) == 2
    assert [d.outcome for d in lam.deliveries[:2]] == ["killed", "killed"]
    record = destination.seen[0][0]  # the destination is killed too, and retried
    assert record["responsePayload"]["errorType"] == "Runtime.ExitError"
    assert FailedInvocation.parse(record).error_type == "Runtime.ExitError"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws(), skip_backoff():
        client = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        client.create_table(**table_definition(TABLE))
        yield client


def test_a_killed_attempt_dies_at_an_aws_request_of_its_own(dynamodb: Any) -> None:
    FaultInjector(random.Random(1), 0.0).attach(dynamodb)
    reached: list[int] = []

    def handler(event: Any, context: InvocationContext) -> None:
        for i in range(3):
            item = {"pk": {"S": f"item-{i}"}, "sk": {"S": context.aws_request_id}}
            dynamodb.put_item(TableName=TABLE, Item=item)
            reached.append(i)

    lam = model(handler, kill_rate=1.0, kill_window=1, max_retries=0)
    lam.invoke_async("e1")
    lam.drain()

    assert reached == []  # died at its first request
    assert [d.outcome for d in lam.deliveries] == ["killed"]


def test_lambda_api_lets_the_production_invoker_queue_events_through_boto3() -> None:
    lam = model(Recorder())
    client = boto3.client("lambda", region_name="us-east-1")
    injector = FaultInjector(random.Random(1), 1.0, [FaultKind.LOST_RESPONSE], faults_per_call=1)
    injector.attach(client, backend=lam.lambda_api)

    with skip_backoff():
        LambdaInvoker(client, lam.function_name).invoke_async("e1")

    # The first Invoke was accepted but its answer lost; botocore sent it again.
    assert lam.pending() == 2
    assert lam.drain() == 2


def test_lambda_api_refuses_other_functions() -> None:
    lam = model(Recorder())
    client = boto3.client("lambda", region_name="us-east-1")
    FaultInjector(random.Random(1), 0.0).attach(client, backend=lam.lambda_api)

    with pytest.raises(client.exceptions.ResourceNotFoundException):
        LambdaInvoker(client, "someone-else").invoke_async("e1")


def deliveries_for(seed: int) -> list[tuple[str, int, bool, str]]:
    handler = Recorder(failures=4)
    lam = AsyncLambda(
        handler,
        rng=random.Random(seed),
        duplicate_rate=0.5,
        duplicate_timing="late",
        shuffle=True,
        kill_rate=0.3,
        clock=lambda: T0,
    )
    for i in range(6):
        lam.invoke_async(f"e{i}")
    lam.drain()
    return [(d.request_id, d.attempt, d.duplicate, d.outcome) for d in lam.deliveries]


def test_the_same_seed_gives_the_same_deliveries() -> None:
    assert deliveries_for(3) == deliveries_for(3)
    assert deliveries_for(3) != deliveries_for(4)
