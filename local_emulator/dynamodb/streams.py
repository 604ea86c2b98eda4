"""DynamoDB Streams the way Lambda's event source mapping reads them, for moto.

``StreamReader`` walks every shard of a table's stream from where it left off (from
the oldest record first) and hands out records in Lambda's event shape. ``StreamMapping``
delivers them to a function as Lambda does for a mapping with
``ReportBatchItemFailures``, ``BisectBatchOnFunctionError`` and an on-failure
destination: a batch whose invocation fails, or that reports a failed record, is tried
again from that record; after ``max_retries`` it is given up, its metadata sent to the
destination, and the stream moves on. The emulator runs one per stream mapping on its
clock; the ``stepline`` fixture drains it after every step of a test.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.config import Config

logger = logging.getLogger(__name__)

Record = dict[str, Any]
# Invokes the mapped function with one stream event; (ok, its response payload).
Deliver = Callable[[dict[str, Any]], tuple[bool, Any]]
# moto answers streams only on the regional endpoint, not on the account-based one
STREAMS_CONFIG = Config(account_id_endpoint_mode="disabled")


def streams_client(session_client: Callable[..., Any], **options: Any) -> Any:
    """A ``dynamodbstreams`` client moto can answer (``session_client`` is ``boto3.client``
    or an emulator's ``client``)."""
    return session_client("dynamodbstreams", config=STREAMS_CONFIG, **options)


class StreamReader:
    """Reads a stream's records in order, shard by shard, each once."""

    def __init__(self, streams: Any, stream_arn: str) -> None:
        self._streams = streams
        self.stream_arn = stream_arn
        self._iterators: dict[str, str | None] = {}  # shard -> next iterator (None: closed)

    def read(self, limit: int) -> list[Record]:
        """Up to ``limit`` records not read yet (none if nothing new)."""
        description = self._streams.describe_stream(StreamArn=self.stream_arn)
        records: list[Record] = []
        for shard in description["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            if iterator is None or len(records) >= limit:
                continue
            page = self._streams.get_records(ShardIterator=iterator, Limit=limit - len(records))
            self._iterators[shard_id] = page.get("NextShardIterator")
            records += [self._lambda_record(r) for r in page["Records"]]
        return records

    def _lambda_record(self, record: Record) -> Record:
        """A GetRecords record as Lambda's DynamoDB event carries it."""
        change = dict(record["dynamodb"])
        moment = change.get("ApproximateCreationDateTime")
        if isinstance(moment, datetime):
            change["ApproximateCreationDateTime"] = moment.timestamp()
        return {**record, "dynamodb": change, "eventSourceARN": self.stream_arn}


def stream_event(records: Iterable[Record]) -> dict[str, Any]:
    return {"Records": list(records)}


@dataclass
class StreamMapping:
    """One stream feeding one function, with Lambda's retry rules."""

    reader: StreamReader
    deliver: Deliver
    batch_size: int = 100
    max_retries: int = 10
    on_failure: Callable[[dict[str, Any]], None] | None = None  # gets the batch's metadata
    pending: list[Record] = field(default_factory=list)
    attempts: int = 0
    given_up: int = 0  # batches handed to the on-failure destination

    def step(self) -> bool:
        """Deliver one batch (read if none is pending); did anything happen?"""
        if not self.pending:
            self.pending = self.reader.read(self.batch_size)
            self.attempts = 0
        if not self.pending:
            return False
        ok, payload = self.deliver(stream_event(self.pending))
        failed_from = self._failed_from(ok, payload)
        if failed_from is None:
            self.pending = []
            return True
        self.attempts += 1
        if self.attempts > self.max_retries:
            self._give_up(self.pending[failed_from:])
            self.pending, self.attempts = [], 0
            return True
        # bisecting would split it; retrying from the failed record is what it converges on
        self.pending = self.pending[failed_from:]
        return True

    def drain(self, rounds: int = 10_000) -> int:
        """Deliver until nothing is left; the batches delivered."""
        done = 0
        while done < rounds and self.step():
            done += 1
        return done

    def _failed_from(self, ok: bool, payload: Any) -> int | None:
        """Where to retry from: ``None`` when the whole batch succeeded."""
        if not ok:
            return 0
        failures = payload.get("batchItemFailures", []) if isinstance(payload, dict) else []
        if not failures:
            return None
        numbers = [r["dynamodb"]["SequenceNumber"] for r in self.pending]
        first = min(f["itemIdentifier"] for f in failures)
        return numbers.index(first) if first in numbers else 0

    def _give_up(self, records: list[Record]) -> None:
        self.given_up += 1
        logger.error("giving up on %d stream records after %d attempts", len(records),
                     self.attempts)  # fmt: skip
        if self.on_failure is not None:
            self.on_failure(
                {
                    "requestContext": {"condition": "RetryAttemptsExhausted"},
                    "DDBStreamBatchInfo": {
                        "streamArn": self.reader.stream_arn,
                        "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                        "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                        "batchSize": len(records),
                    },
                }
            )


class StreamPoller:
    """Runs mappings on the real clock between ``start`` and ``stop`` (the emulator)."""

    def __init__(self, mappings: Iterable[StreamMapping], *, interval: float = 0.02) -> None:
        self.mappings = list(mappings)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="dynamodb-streams", daemon=True)

    def start(self) -> None:
        if self.mappings:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            busy = False
            for mapping in self.mappings:
                try:
                    busy = mapping.step() or busy
                except Exception:  # a failed round (moto busy, a worker restarting): again
                    if not self._stop.is_set():
                        logger.exception("polling %s failed", mapping.reader.stream_arn)
            if not busy:
                self._stop.wait(self._interval)


def sqs_destination(sqs: Any, queue_url: str) -> Callable[[dict[str, Any]], None]:
    """An on-failure destination that sends the metadata to an SQS queue."""

    def send(info: dict[str, Any]) -> None:
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(info))

    return send


def stream_mappings(
    stack: Any, dynamodb: Any, streams: Any, invoke: Callable[[str, dict[str, Any]], Any],
    sqs: Any,
) -> list[StreamMapping]:
    """The stack's event source mappings from its table's stream, ready to run.

    ``invoke(function, event)`` returns the Lambda service's result (``ok``, ``payload``).
    """
    from local_emulator.sqs.models import MAPPING_TYPE

    mappings = []
    for resource in stack.emulated_of_type(MAPPING_TYPE).values():
        properties = stack.resolve(resource["Properties"])
        source = str(properties.get("EventSourceArn", ""))
        if ":dynamodb:" not in source or "/stream/" not in source:
            continue
        table = source.split(":table/", 1)[1].split("/stream/", 1)[0]
        arn = dynamodb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        function = str(properties["FunctionName"])

        def deliver(event: dict[str, Any], function: str = function) -> tuple[bool, Any]:
            result = invoke(function, event)
            return bool(result.ok), result.payload

        destination = (
            properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        )
        on_failure = None
        if destination:
            name = str(destination).rsplit(":", 1)[-1]
            on_failure = sqs_destination(sqs, sqs.get_queue_url(QueueName=name)["QueueUrl"])
        mappings.append(
            StreamMapping(
                StreamReader(streams, arn),
                deliver,
                batch_size=int(properties.get("BatchSize", 100)),
                max_retries=int(properties.get("MaximumRetryAttempts", 10)),
                on_failure=on_failure,
            )
        )
    return mappings
