"""The fault injector against moto's DynamoDB (in-process and over HTTP) and a Lambda client."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.server import ThreadedMotoServer

from sdk.journal.dynamodb import client_config
from sdk.journal.schema import table_definition
from tests.faults import (
    DYNAMODB_WRITES,
    BackoffRecorder,
    FaultInjector,
    FaultKind,
    InvocationKilled,
    KillSwitch,
    armed,
    make_response,
    request_body,
    skip_backoff,
)
from tests.support import TABLE

NOT_EXISTS = "attribute_not_exists(pk)"


@pytest.fixture(autouse=True)
def backoff() -> Iterator[BackoffRecorder]:
    with skip_backoff() as recorder:
        yield recorder


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    """A journal-configured client (standard retries, 5 retries) on a moto table."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        client.create_table(**table_definition(TABLE))
        yield client


def put(client: Any, pk: str, **kwargs: Any) -> dict[str, Any]:
    item = {"pk": {"S": pk}, "sk": {"S": "#execution"}}
    result: dict[str, Any] = client.put_item(TableName=TABLE, Item=item, **kwargs)
    return result


def get(client: Any, pk: str) -> dict[str, Any] | None:
    key = {"pk": {"S": pk}, "sk": {"S": "#execution"}}
    item: dict[str, Any] | None = client.get_item(TableName=TABLE, Key=key).get("Item")
    return item


@pytest.mark.parametrize(
    "kind", [FaultKind.THROTTLE, FaultKind.SERVER_ERROR, FaultKind.CONNECTION_ERROR]
)
def test_a_fault_that_is_not_applied_is_retried_by_botocore_and_the_call_succeeds(
    dynamodb: Any, kind: FaultKind
) -> None:
    injector = FaultInjector(
        random.Random(1), 1.0, [kind], operations=DYNAMODB_WRITES, faults_per_call=1
    )
    injector.attach(dynamodb)

    # Conditional: had the faulted attempt been applied, the retry would fail its condition.
    response = put(dynamodb, "e1", ConditionExpression=NOT_EXISTS)

    assert response["ResponseMetadata"]["RetryAttempts"] == 1
    assert get(dynamodb, "e1") is not None
    assert [(f.kind, f.operation, f.attempt) for f in injector.log] == [(kind, "PutItem", 1)]
    assert [(c.faults, c.attempts, c.outcome) for c in injector.calls] == [((kind,), 2, "ok")]


def test_a_lost_response_applies_a_conditional_put_once_and_its_retry_fails_the_condition(
    dynamodb: Any,
) -> None:
    injector = FaultInjector(
        random.Random(1), 1.0, [FaultKind.LOST_RESPONSE], operations={"PutItem"}, faults_per_call=1
    )
    injector.attach(dynamodb)

    with pytest.raises(ClientError) as raised:
        put(dynamodb, "e1", ConditionExpression=NOT_EXISTS)

    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert raised.value.response["ResponseMetadata"]["RetryAttempts"] == 1
    assert get(dynamodb, "e1") == {"pk": {"S": "e1"}, "sk": {"S": "#execution"}}
    [call] = injector.calls
    assert call.faults == (FaultKind.LOST_RESPONSE,)
    assert (call.outcome, call.surfaced) == ("ConditionalCheckFailedException", False)


def test_a_lost_response_applies_an_unconditional_update_twice(dynamodb: Any) -> None:
    injector = FaultInjector(random.Random(1), 1.0, [FaultKind.LOST_RESPONSE], faults_per_call=1)
    injector.attach(dynamodb)

    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "e1"}, "sk": {"S": "#execution"}},
        UpdateExpression="ADD wakeups :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )

    assert (get(dynamodb, "e1") or {})["wakeups"] == {"N": "2"}


def test_every_attempt_faulted_fails_the_call_after_six_attempts_with_the_service_error(
    dynamodb: Any,
) -> None:
    injector = FaultInjector(random.Random(1), 1.0, [FaultKind.THROTTLE])
    injector.attach(dynamodb)

    with pytest.raises(ClientError) as raised:
        put(dynamodb, "e1")

    error = raised.value.response
    assert error["Error"]["Code"] in (
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
    )
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["RetryAttempts"] == 5  # client_config: max_attempts=5 retries
    assert len(injector.log) == 6
    assert injector.calls[0].surfaced


def test_the_retry_quota_runs_out_after_35_retries_of_server_errors(dynamodb: Any) -> None:
    injector = FaultInjector(random.Random(1), 1.0, [FaultKind.SERVER_ERROR])
    injector.attach(dynamodb)

    for i in range(8):
        with pytest.raises(ClientError, match="InternalServerError"):
            get(dynamodb, f"e{i}")

    # 500 units of quota, 14 per retry after a 5xx: seven calls get their 5 retries...
    assert [c.attempts for c in injector.calls] == [6] * 7 + [1]
    # ...and the eighth surfaces at once.
    assert [c.retry_quota_exhausted for c in injector.calls] == [False] * 7 + [True]


def test_the_backoff_botocore_wanted_is_recorded_instead_of_slept(
    dynamodb: Any, backoff: BackoffRecorder
) -> None:
    injector = FaultInjector(random.Random(1), 1.0, [FaultKind.THROTTLE], faults_per_call=2)
    injector.attach(dynamodb)

    put(dynamodb, "e1")

    assert len(backoff.delays) == 2
    assert all(0 <= delay <= 2 for delay in backoff.delays)  # throttling: 1 s, then 2 s scale


def test_rate_zero_injects_nothing(dynamodb: Any) -> None:
    injector = FaultInjector(random.Random(1), 0.0)
    injector.attach(dynamodb)

    for i in range(20):
        put(dynamodb, f"e{i}", ConditionExpression=NOT_EXISTS)

    assert injector.log == [] and injector.calls == []
    assert injector.requests == {"dynamodb.PutItem": 20}


def run_sequence(seed: int) -> list[tuple[FaultKind, str, int, str]]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        client.create_table(**table_definition(TABLE))
        injector = FaultInjector(random.Random(seed), 0.4)
        injector.attach(client)
        for i in range(15):
            try:
                put(client, f"e{i}", ConditionExpression=NOT_EXISTS)
                get(client, f"e{i}")
            except ClientError:
                pass
        return [(f.kind, f.operation, f.attempt, f.detail) for f in injector.log]


def test_the_same_seed_gives_the_same_faults() -> None:
    first = run_sequence(7)

    assert run_sequence(7) == first
    assert run_sequence(8) != first
    assert {kind for kind, *_ in first} == {
        FaultKind.THROTTLE,
        FaultKind.SERVER_ERROR,
        FaultKind.CONNECTION_ERROR,
        FaultKind.LOST_RESPONSE,
    }


def test_only_the_operations_named_get_faults(dynamodb: Any) -> None:
    injector = FaultInjector(random.Random(1), 1.0, operations=DYNAMODB_WRITES, faults_per_call=1)
    injector.attach(dynamodb)

    get(dynamodb, "e1")
    dynamodb.delete_item(TableName=TABLE, Key={"pk": {"S": "e1"}, "sk": {"S": "#execution"}})

    assert [f.operation for f in injector.log] == ["DeleteItem"]
    assert injector.requests == {"dynamodb.GetItem": 1, "dynamodb.DeleteItem": 2}


def test_requests_made_while_paused_get_no_faults(dynamodb: Any) -> None:
    injector = FaultInjector(random.Random(1), 1.0)
    injector.attach(dynamodb)

    with injector.paused():
        put(dynamodb, "e1")

    assert injector.log == []


def test_a_detached_client_is_answered_by_moto_again(dynamodb: Any) -> None:
    injector = FaultInjector(random.Random(1), 1.0)
    injector.attach(dynamodb)
    injector.detach(dynamodb)

    put(dynamodb, "e1")

    assert injector.log == [] and get(dynamodb, "e1") is not None


def test_a_client_takes_one_injector(dynamodb: Any) -> None:
    FaultInjector(random.Random(1), 0.0).attach(dynamodb)

    with pytest.raises(ValueError, match="already has a fault injector"):
        FaultInjector(random.Random(2), 0.0).attach(dynamodb)


@pytest.mark.parametrize("applied", [True, False])
def test_a_killed_invocation_dies_at_its_nth_request_and_sends_nothing_after(
    dynamodb: Any, applied: bool
) -> None:
    injector = FaultInjector(random.Random(1), 0.0)
    injector.attach(dynamodb)
    switch = KillSwitch(die_at=2, apply_fatal=applied)

    with armed(switch):
        put(dynamodb, "e1")
        with pytest.raises(InvocationKilled):
            put(dynamodb, "e2")
        with pytest.raises(InvocationKilled):
            put(dynamodb, "e3")

    assert switch.dead
    assert (get(dynamodb, "e2") is not None) is applied
    assert get(dynamodb, "e3") is None
    assert [(f.kind, f.attempt) for f in injector.log] == [(FaultKind.CRASH, 1)]


class LambdaBackend:
    """Answers ``Invoke`` like Lambda accepting an ``Event`` invocation."""

    def __init__(self) -> None:
        self.payloads: list[bytes] = []

    def __call__(self, operation: str, request: AWSPreparedRequest) -> AWSResponse:
        self.payloads.append(request_body(request))
        return make_response(request.url, 202, {"x-amzn-RequestId": "r1"}, b"")


def invoke(client: Any) -> Any:
    return client.invoke(FunctionName="runner", InvocationType="Event", Payload=b'{"a": 1}')


def test_a_lambda_throttle_is_a_429_too_many_requests_and_is_retried() -> None:
    backend = LambdaBackend()
    client = boto3.client("lambda", region_name="us-east-1")
    injector = FaultInjector(random.Random(1), 1.0, [FaultKind.THROTTLE], faults_per_call=1)
    injector.attach(client, backend=backend)

    assert invoke(client)["StatusCode"] == 202

    assert backend.payloads == [b'{"a": 1}']  # the throttled attempt never reached Lambda
    assert [f.detail for f in injector.log] == ["TooManyRequestsException"]


def test_a_lambda_throttle_that_never_ends_surfaces_as_429() -> None:
    client = boto3.client("lambda", region_name="us-east-1")
    FaultInjector(random.Random(1), 1.0, [FaultKind.THROTTLE]).attach(
        client, backend=LambdaBackend()
    )

    with pytest.raises(ClientError) as raised:
        invoke(client)

    assert raised.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_a_lost_lambda_invoke_response_delivers_the_event_twice() -> None:
    backend = LambdaBackend()
    client = boto3.client("lambda", region_name="us-east-1")
    injector = FaultInjector(random.Random(1), 1.0, [FaultKind.LOST_RESPONSE], faults_per_call=1)
    injector.attach(client, backend=backend)

    invoke(client)

    assert backend.payloads == [b'{"a": 1}', b'{"a": 1}']


@pytest.fixture
def http_dynamodb() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        config=client_config(),
    )
    client.create_table(**table_definition(TABLE))
    yield client
    # moto's state outlives the server in this process; a fresh client meets no injector
    endpoint = f"http://{host}:{port}"
    cleanup = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
    cleanup.delete_table(TableName=TABLE)
    server.stop()


@pytest.mark.slow
def test_a_lost_response_over_http_is_applied_by_the_server(http_dynamodb: Any) -> None:
    injector = FaultInjector(random.Random(1), 1.0, [FaultKind.LOST_RESPONSE], faults_per_call=1)
    injector.attach(http_dynamodb)

    with pytest.raises(ClientError, match="ConditionalCheckFailedException"):
        put(http_dynamodb, "e1", ConditionExpression=NOT_EXISTS)

    assert get(http_dynamodb, "e1") is not None
