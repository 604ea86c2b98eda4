"""Event source mappings from SQS queues to functions: the rules of Lambda's SQS poller.

An ``EventSourceMapping`` comes from the translated template (moto must not hold it:
its own mapping invokes the function inside SendMessage, ignoring batch size and
window). ``sqs_event`` builds the event Lambda sends a function for a batch of
received messages; ``settle`` decides, from the invocation's result, which messages
are done (deleted) and which stay for redelivery after their visibility timeout:

- the invocation failed: none is done;
- it succeeded without ``ReportBatchItemFailures``: all are done;
- with it, the reported ``batchItemFailures`` stay and the others are done; a missing,
  null or empty list means all are done, and a malformed report (not an object, an
  entry without an ``itemIdentifier``, or one naming no message of the batch) fails
  the whole batch, as Lambda does.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_emulator.stack import Stack

MAPPING_TYPE = "AWS::Lambda::EventSourceMapping"
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"
DEFAULT_BATCH_SIZE = 10
MAX_RECEIVE = 10  # SQS's limit per ReceiveMessage

Message = dict[str, Any]  # a message as boto3's ReceiveMessage returns it


@dataclass(frozen=True)
class EventSourceMapping:
    """One queue feeding one function."""

    function: str
    queue_arn: str
    batch_size: int = DEFAULT_BATCH_SIZE
    batching_window_seconds: float = 0.0
    report_batch_item_failures: bool = False
    enabled: bool = True

    @property
    def queue_name(self) -> str:
        return self.queue_arn.split(":")[-1]

    @property
    def region(self) -> str:
        return self.queue_arn.split(":")[3]

    @classmethod
    def from_properties(cls, properties: dict[str, Any]) -> EventSourceMapping:
        """From a mapping's resolved CloudFormation properties."""
        return cls(
            function=str(properties["FunctionName"]),
            queue_arn=str(properties["EventSourceArn"]),
            batch_size=int(properties.get("BatchSize", DEFAULT_BATCH_SIZE)),
            batching_window_seconds=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
            report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES
            in properties.get("FunctionResponseTypes", []),
            enabled=bool(properties.get("Enabled", True)),
        )


def event_source_mappings(stack: Stack) -> list[EventSourceMapping]:
    """The stack's enabled mappings whose source is an SQS queue."""
    mappings = []
    for resource in stack.emulated_of_type(MAPPING_TYPE).values():
        mapping = EventSourceMapping.from_properties(stack.resolve(resource["Properties"]))
        if mapping.enabled and mapping.queue_arn.startswith("arn:aws:sqs:"):
            mappings.append(mapping)
    return mappings


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": value["DataType"],
    }
    if "StringValue" in value:
        record["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        record["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode()
    return record


def sqs_record(message: Message, mapping: EventSourceMapping) -> dict[str, Any]:
    """One record of Lambda's SQS event."""
    record: dict[str, Any] = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": {
            name: _message_attribute(value)
            for name, value in message.get("MessageAttributes", {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": mapping.queue_arn,
        "awsRegion": mapping.region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sqs_event(messages: Sequence[Message], mapping: EventSourceMapping) -> dict[str, Any]:
    """The event Lambda sends a function for one batch."""
    return {"Records": [sqs_record(message, mapping) for message in messages]}


def settle(
    messages: Sequence[Message], mapping: EventSourceMapping, ok: bool, response: Any
) -> list[Message]:
    """The messages of a batch that are done (to delete), given the invocation's outcome."""
    if not ok:
        return []
    if not mapping.report_batch_item_failures or response is None:
        return list(messages)
    if not isinstance(response, dict):
        return []
    failures = response.get("batchItemFailures")
    if not failures:
        return list(messages)
    if not isinstance(failures, list):
        return []
    ids = {message["MessageId"] for message in messages}
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not isinstance(identifier, str) or identifier not in ids:
            return []
        failed.add(identifier)
    return [message for message in messages if message["MessageId"] not in failed]
