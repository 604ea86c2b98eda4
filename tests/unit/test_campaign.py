"""The campaign driver, with a toy runner written against raw DynamoDB (not the engine)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from handlers.failures import FailedInvocation
from sdk.client import Invoker
from sdk.journal.dynamodb import client_config
from sdk.journal.schema import table_definition
from tests.campaign import CampaignReport, CampaignSettings, run_campaign
from tests.faults import FaultKind
from tests.lambda_model import InvocationContext
from tests.support import TABLE


def key(execution_id: str, sk: str = "#execution") -> dict[str, Any]:
    return {"pk": {"S": execution_id}, "sk": {"S": sk}}


def conditional(call: Any, **kwargs: Any) -> None:
    """A conditional write whose failed condition means someone already did it."""
    try:
        call(TableName=TABLE, **kwargs)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise


class ToyRunner:
    """Records step 1 (first writer wins) and re-invokes itself; the next invocation finishes."""

    def __init__(self, client: Any, invoker: Invoker) -> None:
        self.client = client
        self.invoker = invoker

    def __call__(self, event: Any, context: InvocationContext) -> dict[str, str]:
        execution_id = event["execution_id"]
        item = {**key(execution_id, "step#1"), "by": {"S": context.aws_request_id}}
        try:
            self.client.put_item(
                TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(pk)"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        else:
            self.invoker.invoke_async(execution_id)
            return {"execution_id": execution_id, "status": "suspended"}
        conditional(
            self.client.update_item,
            Key=key(execution_id),
            UpdateExpression="SET #s = :done",
            ConditionExpression="#s = :running",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":done": {"S": "completed"}, ":running": {"S": "running"}},
        )
        return {"execution_id": execution_id, "status": "completed"}


class ToyDestination:
    """Fails an execution still running, as the failure destination does."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def __call__(self, event: Any, context: InvocationContext) -> None:
        failed = FailedInvocation.parse(event)
        conditional(
            self.client.update_item,
            Key=key(failed.execution_id),
            UpdateExpression="SET #s = :failed",
            ConditionExpression="#s = :running",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":failed": {"S": "failed"}, ":running": {"S": "running"}},
        )


def start(client: Any, execution_id: str) -> Any:
    def begin(invoker: Invoker) -> str:
        client.put_item(TableName=TABLE, Item={**key(execution_id), "status": {"S": "running"}})
        invoker.invoke_async(execution_id)
        return execution_id

    return begin


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        client.create_table(**table_definition(TABLE))
        yield client


def campaign(
    seed: int, client: Any, settings: CampaignSettings, lambda_client: Any = None
) -> CampaignReport:
    def read_status(execution_id: str) -> str:
        item = client.get_item(TableName=TABLE, Key=key(execution_id), ConsistentRead=True)
        return str(item["Item"]["status"]["S"])

    return run_campaign(
        seed,
        [start(client, f"e{i}") for i in range(10)],
        clients=[client],
        build_runner=lambda invoker: ToyRunner(client, invoker),
        build_destination=lambda: ToyDestination(client),
        read_status=read_status,
        lambda_client=lambda_client,
        settings=settings,
    )


HOSTILE = CampaignSettings(fault_rate=0.3, kill_rate=0.2, duplicate_rate=0.5)


def test_a_campaign_runs_every_execution_to_an_outcome_and_reports_the_faults(
    dynamodb: Any,
) -> None:
    report = campaign(11, dynamodb, HOSTILE)

    assert set(report.statuses) == {f"e{i}" for i in range(10)}
    assert set(report.statuses.values()) <= {"completed", "failed"}
    assert report.faults.by_kind()[FaultKind.LOST_RESPONSE] > 0
    runner = report.lambda_model.stats["stepline-runner"]
    assert runner.events > 10 and runner.duplicates > 0 and runner.killed_attempts > 0
    assert "campaign seed 11: 10 executions" in report.summary()


def run_twice(settings: CampaignSettings) -> list[Any]:
    results = []
    for _ in range(2):
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
            client.create_table(**table_definition(TABLE))
            report = campaign(5, client, settings)
            results.append(
                (
                    report.statuses,
                    report.faults.log,
                    [(d.attempt, d.duplicate, d.outcome) for d in report.lambda_model.deliveries],
                )
            )
    return results


def test_a_seed_replays_the_same_campaign() -> None:
    first, second = run_twice(
        CampaignSettings(fault_rate=0.3, kill_rate=0.2, duplicate_timing="late")
    )

    assert first == second


def test_invocations_can_go_through_a_boto3_lambda_client_with_faults(dynamodb: Any) -> None:
    lambda_client = boto3.client("lambda", region_name="us-east-1")
    settings = CampaignSettings(
        fault_rate=1.0,
        fault_kinds=[FaultKind.LOST_RESPONSE],
        fault_operations={"lambda.Invoke"},
        faults_per_call=1,
        duplicate_rate=0.0,
    )

    report = campaign(1, dynamodb, settings, lambda_client=lambda_client)

    # Starts run with faults paused; each re-invocation's answer was lost and botocore
    # sent it again, so Lambda got it twice.
    assert report.lambda_model.stats["stepline-runner"].events == 10 + 2 * 10
    assert report.faults.counts() == {(FaultKind.LOST_RESPONSE, "Invoke"): 10}
    assert set(report.statuses.values()) == {"completed"}
