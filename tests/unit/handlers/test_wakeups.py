"""The wake-ups handler (on moto): timer messages -> runner invocations, failures reported alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from handlers.wakeups import WakeUps, build_wakeups_from_environment
from local_emulator.sqs.models import EventSourceMapping, sqs_event
from sdk.aws_timers import wake_up_body
from sdk.client import LambdaInvoker
from tests.support import FakeLambdaContext

RUNNER = "stepline-runner"
WAKE_AT = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass
class RecordingInvoker:
    """The real ``LambdaInvoker`` on moto, remembering the invocations that succeeded."""

    inner: LambdaInvoker
    started: list[str] = field(default_factory=list)

    def invoke_async(self, execution_id: str) -> None:
        self.inner.invoke_async(execution_id)
        self.started.append(execution_id)


@dataclass
class Aws:
    sqs: Any
    lambda_client: Any
    queue_url: str
    mapping: EventSourceMapping

    def event(self, *bodies: str) -> tuple[dict[str, Any], list[str]]:
        """Lambda's SQS event for messages with these bodies, and their message ids."""
        send = self.sqs.send_message
        ids = [send(QueueUrl=self.queue_url, MessageBody=body)["MessageId"] for body in bodies]
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
        )["Messages"]
        order = {message_id: index for index, message_id in enumerate(ids)}
        received.sort(key=lambda message: order[message["MessageId"]])
        return sqs_event(received, self.mapping), ids


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws(config={"lambda": {"use_docker": False}}):
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="timers")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        mapping = EventSourceMapping("stepline-wakeups", arn, report_batch_item_failures=True)
        yield Aws(sqs, boto3.client("lambda", region_name="us-east-1"), url, mapping)


def test_each_wake_up_starts_the_runner_asynchronously(aws: Aws) -> None:
    invoker = RecordingInvoker(LambdaInvoker(aws.lambda_client, RUNNER))
    event, _ = aws.event(wake_up_body("e-1", WAKE_AT), wake_up_body("e-2", WAKE_AT))
    response = WakeUps(invoker)(event, FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    assert invoker.started == ["e-1", "e-2"]


def test_a_record_whose_invocation_fails_is_reported_alone(aws: Aws) -> None:
    def refuse_e2(request: Any, **_: Any) -> AWSResponse | None:
        if b'"e-2"' not in request.body:
            return None

        class Raw:
            def stream(self, **_: Any) -> Iterator[bytes]:
                yield json.dumps({"Type": "User", "Message": "injected"}).encode()

        return AWSResponse(
            request.url, 400, {"x-amzn-ErrorType": "InvalidRequestContentException"}, Raw()
        )

    aws.lambda_client.meta.events.register_first("before-send.lambda.Invoke", refuse_e2)
    invoker = RecordingInvoker(LambdaInvoker(aws.lambda_client, RUNNER))
    event, ids = aws.event(*(wake_up_body(e, WAKE_AT) for e in ("e-1", "e-2", "e-3")))
    response = WakeUps(invoker)(event, FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    assert invoker.started == ["e-1", "e-3"]


@pytest.mark.parametrize(
    "body", ["not json", "{}", '{"execution_id": ""}', '{"execution_id": 7}', "[]"]
)
def test_a_record_that_is_not_a_wake_up_is_reported_alone(aws: Aws, body: str) -> None:
    invoker = RecordingInvoker(LambdaInvoker(aws.lambda_client, RUNNER))
    event, ids = aws.event(wake_up_body("e-1", WAKE_AT), body)
    response = WakeUps(invoker)(event, FakeLambdaContext())
    assert response == {"batchItemFailures": [{"itemIdentifier": ids[1]}]}
    assert invoker.started == ["e-1"]


def test_a_batch_that_fails_entirely_fails_the_invocation(aws: Aws) -> None:
    invoker = RecordingInvoker(LambdaInvoker(aws.lambda_client, RUNNER))
    event, _ = aws.event("not json", "{}")
    with pytest.raises(BatchProcessingError, match="All records failed"):
        WakeUps(invoker)(event, FakeLambdaContext())
    assert invoker.started == []


def test_the_runner_comes_from_the_environment() -> None:
    arn = "arn:aws:lambda:us-east-1:123456789012:function:app-runner"
    assert isinstance(build_wakeups_from_environment({"STEPLINE_RUNNER_ARN": arn}), WakeUps)
    assert isinstance(build_wakeups_from_environment({"STEPLINE_RUNNER_FUNCTION": "r"}), WakeUps)
    with pytest.raises(RuntimeError, match="STEPLINE_RUNNER_ARN or STEPLINE_RUNNER_FUNCTION"):
        build_wakeups_from_environment({})
