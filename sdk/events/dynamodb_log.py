"""The topic log in the journal's DynamoDB table.

A topic is one partition, ``pk = "topic#<topic>"``: an item per event (``sk =
"seq#<sequence id, zero-padded>"``) and an item per event id (``sk = "id#<id>"``)
holding its sequence id. Both are written in one transaction, each conditional on not
existing: the event's sequence id is taken only if free, its id only if new. A
publisher reads the topic's last sequence id (one strongly consistent ``Query`` of one
item), tries the next, and tries again after it if another publisher got there first;
so ``n`` is written only after ``n - 1`` was, and a reader never sees a gap filled later.

Each publish carries a random token in its id item: a retried transaction whose first
attempt was applied (its response lost) finds its own token and is no duplicate.
Data past ``INLINE_DATA_MAX_BYTES`` goes to the value store. Every item expires like a
step (``Retention.open_expiry``): after the longest an execution could still need it.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sdk.clock import Clock, SystemClock
from sdk.errors import TransientInfrastructureError
from sdk.events.log import PENDING_GRACE, PendingEvent, Starts, Waiter
from sdk.events.topics import (
    INLINE_DATA_MAX_BYTES,
    MAX_BATCH_EVENTS,
    MAX_TRANSACTION_ITEMS,
    InvalidEventError,
    NewEvent,
    Published,
    TopicEvent,
    check_topic,
)
from sdk.ids import new_token
from sdk.journal.fit import execution_items
from sdk.journal.records import ExecutionRecord, iso, parse_iso
from sdk.journal.retention import DEFAULT_RETENTION, Retention
from sdk.journal.schema import BY_DUE_INDEX, EXPIRES_AT
from sdk.values import ValueRef, ValueStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SEQ_DIGITS = 12
MAX_ATTEMPTS = 200  # publishers racing for one topic's next sequence id
BASE_BACKOFF = 0.001  # seconds, doubled after each lost race
MAX_BACKOFF = 0.05
PENDING = "events"  # the by-due index partition of events whose waiters are to be woken
_NOT_EXISTS = "attribute_not_exists(pk)"


def topic_pk(topic: str) -> str:
    return f"topic#{topic}"


def seq_sk(sequence_id: int) -> str:
    return f"seq#{sequence_id:0{SEQ_DIGITS}d}"


def claim_sk(workflow_id: str, sequence_id: int) -> str:
    """The claim a batch of ``workflow_id`` holds on one event of the topic."""
    return f"batch#{workflow_id}#{sequence_id:0{SEQ_DIGITS}d}"


def _reasons(exc: ClientError) -> list[str]:
    """The cancellation reason of each write of a cancelled transaction."""
    reasons = exc.response.get("CancellationReasons") or []
    return [str(r.get("Code", "")) for r in reasons]


# Cancellation reasons that say "not now" (two transactions on one item, a hot partition):
# the publish backs off and tries again, as for a sequence id another publisher took.
TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)


def _back_off(attempt: int) -> None:
    """Wait a random while, longer after each lost race: racing writers spread out
    instead of colliding again."""
    time.sleep(random.uniform(0, min(MAX_BACKOFF, BASE_BACKOFF * 2**attempt)))


def _transient(reasons: list[str]) -> bool:
    return any(reason in TRANSIENT_REASONS for reason in reasons)


def _cancelled(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "TransactionCanceledException"


class DynamoTopicLog:
    """A ``TopicLog`` in the DynamoDB table ``table``."""

    def __init__(
        self,
        client: DynamoDBClient,
        table: str,
        *,
        values: ValueStore | None = None,
        clock: Clock | None = None,
        retention: Retention = DEFAULT_RETENTION,
    ) -> None:
        self._client = client
        self._table = table
        self._values = values
        self._clock = clock or SystemClock()
        self._retention = retention

    @property
    def max_data_bytes(self) -> int:
        return self._values.max_bytes if self._values is not None else INLINE_DATA_MAX_BYTES

    def append(
        self,
        topic: str,
        event: NewEvent,
        starts: Starts | None = None,
        feeds: Sequence[str] = (),
    ) -> Published:
        check_topic(topic)
        size = len(event.data.encode())
        if size > self.max_data_bytes:
            raise InvalidEventError(
                f"event {event.id}: data is {size} bytes; the limit is {self.max_data_bytes}"
            )
        token = new_token()
        item = self._event_item(topic, event)
        sequence_id = self.last_sequence(topic) + 1
        for attempt in range(MAX_ATTEMPTS):
            try:
                self._write(topic, event, item, sequence_id, token, starts, feeds)
                return Published(event.id, sequence_id, topic)
            except ClientError as exc:
                if not _cancelled(exc):
                    raise
                reasons = _reasons(exc)
                if len(reasons) < 2 or reasons[1] == "ConditionalCheckFailed":
                    return self._already(topic, event.id, token)
                if reasons[0] != "ConditionalCheckFailed" and not _transient(reasons):
                    raise
            # Taken by another publisher: back off a random while (racing publishers spread
            # out instead of colliding again), then try after the topic's new last event.
            _back_off(attempt)
            sequence_id = self.last_sequence(topic) + 1
        raise TransientInfrastructureError(
            f"topic {topic!r}: no free sequence id after {MAX_ATTEMPTS} attempts"
        )

    def _event_item(self, topic: str, event: NewEvent) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": {"S": topic_pk(topic)},
            "id": {"S": event.id},
        }
        if event.event_type is not None:
            item["event_type"] = {"S": event.event_type}
        data = event.data.encode()
        if len(data) > INLINE_DATA_MAX_BYTES and self._values is not None:
            name = hashlib.sha256(event.id.encode()).hexdigest()
            ref = self._values.put(f"topics/{topic}/{name}", data)
            item["data_ref"] = {"M": ref.to_item()}
        else:
            item["data"] = {"S": event.data}
        return item

    def _write(
        self,
        topic: str,
        event: NewEvent,
        item: dict[str, Any],
        sequence_id: int,
        token: str,
        starts: Starts | None,
        feeds: Sequence[str],
    ) -> None:
        pk = topic_pk(topic)
        seq = {"N": str(sequence_id)}
        now = self._clock.now()
        expires = {"N": str(self._retention.open_expiry(now))}
        puts = [
            {
                **item,
                "sk": {"S": seq_sk(sequence_id)},
                "seq": seq,
                "created_at": {"S": iso(now)},
                EXPIRES_AT: expires,
            },
            {
                "pk": {"S": pk},
                "sk": {"S": f"id#{event.id}"},
                "seq": seq,
                "token": {"S": token},
                "sweep": {"S": PENDING},
                "due_at": {"S": iso(now + PENDING_GRACE)},
                EXPIRES_AT: expires,
                **({"feeds": {"L": [{"S": wf} for wf in feeds]}} if feeds else {}),
            },
        ]
        if starts is not None:
            stored = self._event(topic, puts[0], data=event.data)
            for record in starts(stored):
                execution, extra = execution_items(record, self._values)
                puts += [*extra, execution]
        if len(puts) > MAX_TRANSACTION_ITEMS:
            raise InvalidEventError(
                f"topic {topic!r}: an event may start at most {MAX_TRANSACTION_ITEMS - 2} "
                f"executions at once; this one would start {len(puts) - 2}"
            )
        self._client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": self._table, "Item": one, "ConditionExpression": _NOT_EXISTS}}
                for one in puts
            ],
            # botocore's retry of an applied transaction is then answered as a success
            ClientRequestToken=hashlib.sha256(f"{token}/{sequence_id}".encode()).hexdigest()[:36],
        )

    def _already(self, topic: str, event_id: str, token: str) -> Published:
        """The event id is taken: by this very publish (a retry) or an earlier one."""
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": topic_pk(topic)}, "sk": {"S": f"id#{event_id}"}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:  # the transaction failed for another reason
            raise TransientInfrastructureError(f"topic {topic!r}: publishing {event_id} failed")
        mine = item.get("token", {}).get("S") == token
        return Published(event_id, int(item["seq"]["N"]), topic, duplicate=not mine)

    def claim_batch(
        self, workflow_id: str, events: Sequence[TopicEvent], execution: ExecutionRecord
    ) -> frozenset[tuple[str, int]]:
        if len(events) > MAX_BATCH_EVENTS:
            raise InvalidEventError(
                f"a batch holds at most {MAX_BATCH_EVENTS} events, got {len(events)}"
            )
        eid = execution.execution_id
        first, extra = execution_items(execution, self._values)
        expires = {"N": str(self._retention.open_expiry(self._clock.now()))}
        claims = [
            {
                "pk": {"S": topic_pk(event.topic)},
                "sk": {"S": claim_sk(workflow_id, event.sequence_id)},
                "execution_id": {"S": eid},
                EXPIRES_AT: expires,
            }
            for event in events
        ]
        puts = [first, *extra, *claims]
        token = hashlib.sha256(f"{new_token()}/{eid}".encode()).hexdigest()[:36]
        for attempt in range(MAX_ATTEMPTS):
            try:
                self._client.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": self._table,
                                "Item": one,
                                "ConditionExpression": _NOT_EXISTS,
                            }
                        }
                        for one in puts
                    ],
                    ClientRequestToken=token,  # botocore's retry of an applied claim succeeds
                )
                return frozenset()
            except ClientError as exc:
                if not _cancelled(exc):
                    raise
                reasons = _reasons(exc)
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return frozenset()  # this batch exists: an earlier delivery claimed it
            offset = len(puts) - len(claims)
            taken = frozenset(
                (events[i - offset].topic, events[i - offset].sequence_id)
                for i, reason in enumerate(reasons)
                if i >= offset and reason == "ConditionalCheckFailed"
            )
            if taken:  # claimed by another batch, or by this one whose execution expired
                return taken
            if not _transient(reasons):
                raise TransientInfrastructureError(
                    f"claiming a batch of {workflow_id!r} failed: {', '.join(reasons)}"
                )
            _back_off(attempt)
        raise TransientInfrastructureError(
            f"claiming a batch of {workflow_id!r}: no answer after {MAX_ATTEMPTS} attempts"
        )

    def read(self, topic: str, *, after: int = 0, limit: int = 100) -> list[TopicEvent]:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": topic_pk(topic)},
                ":low": {"S": seq_sk(max(after, 0) + 1)},
                ":high": {"S": seq_sk(10**SEQ_DIGITS - 1)},
            },
            ConsistentRead=True,
            Limit=limit,
        )
        return [self._event(topic, item) for item in response.get("Items", [])]

    def _event(self, topic: str, item: dict[str, Any], data: str | None = None) -> TopicEvent:
        """The event an item holds (``data``: its JSON text when already at hand)."""
        return TopicEvent(
            id=item["id"]["S"],
            sequence_id=int(item["seq"]["N"]),
            topic=topic,
            data=self._data(item) if data is None else data,
            created_at=parse_iso(item["created_at"]["S"]),
            event_type=item.get("event_type", {}).get("S"),
        )

    def _data(self, item: dict[str, Any]) -> str:
        if "data_ref" in item and self._values is not None:
            return self._values.get(ValueRef.from_item(item["data_ref"]["M"])).decode()
        return str(item["data"]["S"])

    def last_sequence(self, topic: str) -> int:
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :seq)",
            ExpressionAttributeValues={":pk": {"S": topic_pk(topic)}, ":seq": {"S": "seq#"}},
            ProjectionExpression="seq",
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=1,
        )
        items = response.get("Items", [])
        return int(items[0]["seq"]["N"]) if items else 0

    def read_back(self, topic: str, *, upto: int, limit: int = 100) -> list[TopicEvent]:
        if upto <= 0:
            return []
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": topic_pk(topic)},
                ":low": {"S": seq_sk(1)},
                ":high": {"S": seq_sk(upto)},
            },
            ScanIndexForward=False,
            ConsistentRead=True,
            Limit=limit,
        )
        return [self._event(topic, item) for item in response.get("Items", [])]

    def _waiter_key(self, topic: str, waiter: Waiter) -> dict[str, Any]:
        sk = f"waiter#{waiter.execution_id}#{waiter.key}"
        return {"pk": {"S": topic_pk(topic)}, "sk": {"S": sk}}

    def add_waiter(self, topic: str, waiter: Waiter) -> None:
        item = {
            **self._waiter_key(topic, waiter),
            "execution_id": {"S": waiter.execution_id},
            "key": {"S": waiter.key},
            EXPIRES_AT: {"N": str(self._retention.open_expiry(self._clock.now()))},
        }
        self._client.put_item(TableName=self._table, Item=item)  # the same item on a retry

    def remove_waiter(self, topic: str, waiter: Waiter) -> None:
        self._client.delete_item(TableName=self._table, Key=self._waiter_key(topic, waiter))

    def waiters(self, topic: str) -> list[Waiter]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :waiter)",
            "ExpressionAttributeValues": {
                ":pk": {"S": topic_pk(topic)},
                ":waiter": {"S": "waiter#"},
            },
            "ConsistentRead": True,
        }
        found: list[Waiter] = []
        while True:
            response = self._client.query(**request)
            found += [
                Waiter(item["execution_id"]["S"], item["key"]["S"])
                for item in response.get("Items", [])
            ]
            if "LastEvaluatedKey" not in response:
                return sorted(found)
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def clear_pending(self, topic: str, event_id: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": topic_pk(topic)}, "sk": {"S": f"id#{event_id}"}},
                UpdateExpression="REMOVE sweep, due_at",
                ConditionExpression="attribute_exists(pk)",  # never create a bare id item
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise

    def list_pending(self, now: datetime, *, limit: int = 100) -> list[PendingEvent]:
        response = self._client.query(
            TableName=self._table,
            IndexName=BY_DUE_INDEX,
            KeyConditionExpression="sweep = :pending AND due_at <= :now",
            ExpressionAttributeValues={":pending": {"S": PENDING}, ":now": {"S": iso(now)}},
            Limit=limit,
        )
        return [
            PendingEvent(
                item["pk"]["S"].removeprefix("topic#"),
                item["sk"]["S"].removeprefix("id#"),
                parse_iso(item["due_at"]["S"]),
                int(item["seq"]["N"]),
                tuple(wf["S"] for wf in item.get("feeds", {}).get("L", [])),
            )
            for item in response.get("Items", [])
        ]

    def topics(self) -> dict[str, int]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :topic) AND begins_with(sk, :id)",
            "ExpressionAttributeValues": {":topic": {"S": "topic#"}, ":id": {"S": "id#"}},
            "ProjectionExpression": "pk, seq",
        }
        last: dict[str, int] = {}
        while True:
            response = self._client.scan(**request)
            for item in response.get("Items", []):
                topic = item["pk"]["S"].removeprefix("topic#")
                last[topic] = max(last.get(topic, 0), int(item["seq"]["N"]))
            if "LastEvaluatedKey" not in response:
                return dict(sorted(last.items()))
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
