"""The lifecycle publisher's side of the stack: the journal's stream -> the bus.

``LifecycleFunction`` (``handlers.lifecycle``) reads the journal table's DynamoDB Stream
through an event source mapping: from the oldest record, in batches, reporting failed
records so Lambda retries from them, bisecting a failing batch, and after
``MAX_RETRIES`` handing it to ``LifecycleDeadLetterQueue`` (Lambda sends the batch's
shard and sequence numbers there; the records stay in the stream for 24 hours). It puts
CloudEvents on the app's bus and publishes to lifecycle topics.
"""

from __future__ import annotations

from typing import Any

from infra import resources
from infra.names import EVENT_BUS, TABLE, get_att, sub

LIFECYCLE_FUNCTION = "LifecycleFunction"
LIFECYCLE_SUFFIX = "lifecycle"
LIFECYCLE_DLQ = "LifecycleDeadLetterQueue"
BATCH_SIZE = 100
MAX_RETRIES = 10
MAX_RECORD_AGE_SECONDS = 86_400  # a stream keeps records for 24 hours
TIMEOUT_SECONDS = 60


def queues() -> dict[str, Any]:
    return {
        LIFECYCLE_DLQ: resources.queue(
            MessageRetentionPeriod=resources.DEAD_LETTER_RETENTION_SECONDS
        )
    }


def events() -> dict[str, Any]:
    """The function's SAM event: the journal's stream."""
    return {
        "Journal": {
            "Type": "DynamoDB",
            "Properties": {
                "Stream": get_att(TABLE, "StreamArn"),
                "StartingPosition": "TRIM_HORIZON",
                "BatchSize": BATCH_SIZE,
                "MaximumBatchingWindowInSeconds": 0,
                "MaximumRetryAttempts": MAX_RETRIES,
                "MaximumRecordAgeInSeconds": MAX_RECORD_AGE_SECONDS,
                "BisectBatchOnFunctionError": True,
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "DestinationConfig": {"OnFailure": {"Destination": get_att(LIFECYCLE_DLQ)}},
            },
        }
    }


def statements() -> list[dict[str, Any]]:
    """What the publisher needs beyond the journal: the stream, the bus, its DLQ."""
    return [
        {
            "Effect": "Allow",
            "Action": [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
                "dynamodb:ListStreams",
            ],
            "Resource": sub("${" + TABLE + ".Arn}/stream/*"),
        },
        {"Effect": "Allow", "Action": "events:PutEvents", "Resource": get_att(EVENT_BUS)},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": get_att(LIFECYCLE_DLQ)},
    ]
