"""The stack's data and plumbing: the journal, the values bucket, queues and log groups.

What holds executions survives the stack: the journal table and the values bucket are
retained when the stack is deleted or a change would replace them. The table has
point-in-time recovery, server-side encryption and a TTL on ``EXPIRES_AT``, which the
journal sets from the retention parameters. Every queue is encrypted; every dead-letter
queue keeps its messages for the longest SQS allows.
"""

from __future__ import annotations

from typing import Any

from infra import scan
from infra.names import (
    FAILURE_DLQ,
    ROUTER_DLQ,
    SCHEDULE_DLQ,
    TIMER_DLQ,
    TIMER_QUEUE,
    get_att,
    sub,
)
from infra.parameters import LOG_RETENTION_DAYS, ref
from sdk.journal.schema import table_definition, time_to_live

WAKEUPS_TIMEOUT_SECONDS = 10
# Lambda asks for a visibility timeout of at least the function's timeout; AWS advises 6x.
TIMER_VISIBILITY_TIMEOUT_SECONDS = 6 * WAKEUPS_TIMEOUT_SECONDS
TIMER_MAX_RECEIVE_COUNT = 5
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600  # SQS's longest
RETAIN = {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"}


def journal_table() -> dict[str, Any]:
    """The journal's table: the schema of ``sdk.journal.schema``, retained and recoverable."""
    properties = table_definition("unused")
    del properties["TableName"]
    properties["StreamSpecification"] = {  # CloudFormation takes the view type alone
        "StreamViewType": properties["StreamSpecification"]["StreamViewType"]
    }
    properties.update(
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        TimeToLiveSpecification=time_to_live(),
        SSESpecification={"SSEEnabled": True},
    )
    return {
        "Type": "AWS::DynamoDB::Table",
        **RETAIN,
        "Metadata": scan.metadata(scan.AWS_MANAGED_TABLE_KEY),
        "Properties": properties,
    }


def values_bucket() -> dict[str, Any]:
    """Where values past DynamoDB's item limit live (``sdk.values``): private, encrypted,
    retained like the journal that points into it."""
    return {
        "Type": "AWS::S3::Bucket",
        **RETAIN,
        "Metadata": scan.metadata(scan.BUCKET_ACCESS_LOGS, scan.BUCKET_VERSIONING),
        "Properties": {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        },
    }


def queue(**properties: Any) -> dict[str, Any]:
    """An SQS queue, encrypted with SQS's own keys."""
    return {
        "Type": "AWS::SQS::Queue",
        "Metadata": scan.metadata(scan.SQS_MANAGED_ENCRYPTION),
        "Properties": {"SqsManagedSseEnabled": True, **properties},
    }


def queues() -> dict[str, Any]:
    """The timer queue (undeliverable wake-ups go to its DLQ) and the dead-letter queues of
    the failure function, of the schedules and of the event router."""
    dead_letter = {"MessageRetentionPeriod": DEAD_LETTER_RETENTION_SECONDS}
    return {
        TIMER_QUEUE: queue(
            VisibilityTimeout=TIMER_VISIBILITY_TIMEOUT_SECONDS,
            RedrivePolicy={
                "deadLetterTargetArn": get_att(TIMER_DLQ),
                "maxReceiveCount": TIMER_MAX_RECEIVE_COUNT,
            },
        ),
        TIMER_DLQ: queue(**dead_letter),
        FAILURE_DLQ: queue(**dead_letter),
        SCHEDULE_DLQ: queue(**dead_letter),
        ROUTER_DLQ: queue(**dead_letter),
    }


def log_group(function_suffix: str) -> dict[str, Any]:
    """A function's log group, under the name Lambda would give it, expiring its logs."""
    return {
        "Type": "AWS::Logs::LogGroup",
        "Metadata": scan.metadata(scan.LOG_GROUP_DEFAULT_ENCRYPTION),
        "Properties": {
            "LogGroupName": sub("/aws/lambda/${AWS::StackName}-" + function_suffix),
            "RetentionInDays": ref(LOG_RETENTION_DAYS),
        },
    }
