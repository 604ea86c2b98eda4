"""The schedule store in the journal's DynamoDB table (``sdk.schedules.records``).

Every write is conditional: ``add`` on the item not existing, ``replace`` on its version,
and ``start_tick`` is one transaction of the schedule item (conditional on its version)
and the tick's execution (conditional on not existing). A condition that fails becomes
the store's answer (``False``, ``TickWrite.EXISTS`` or ``STALE``); a transaction cancelled
for contention or throttling is ``STALE`` too, so the ticker reads again and retries. Any
other error propagates: the tick invocation fails and EventBridge Scheduler retries it.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from sdk.ids import new_token
from sdk.journal.fit import execution_items
from sdk.journal.records import ExecutionRecord
from sdk.schedules.records import SCHEDULES_PK, ScheduleRecord
from sdk.schedules.store import TickWrite

if TYPE_CHECKING:
    from sdk.journal.dynamodb import DynamoJournal

_NOT_EXISTS = "attribute_not_exists(pk)"
_SAME_VERSION = "version = :v"
# Cancellation reasons that mean "not now": read the schedule again and retry.
_TRANSIENT = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _reasons(exc: ClientError) -> list[str]:
    return [str(r.get("Code", "")) for r in exc.response.get("CancellationReasons") or []]


class DynamoScheduleStore:
    """A ``ScheduleStore`` in the table of ``journal``."""

    def __init__(self, journal: DynamoJournal) -> None:
        self._journal = journal
        self._client = journal.client
        self._table = journal.table

    def _key(self, schedule_id: str) -> dict[str, Any]:
        return {"pk": {"S": SCHEDULES_PK}, "sk": {"S": schedule_id}}

    def get(self, schedule_id: str) -> ScheduleRecord | None:
        item = self._client.get_item(
            TableName=self._table, Key=self._key(schedule_id), ConsistentRead=True
        ).get("Item")
        return None if item is None else ScheduleRecord.from_item(item)

    def list(self) -> list[ScheduleRecord]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": SCHEDULES_PK}},
            "ConsistentRead": True,
        }
        found: list[ScheduleRecord] = []
        while True:
            response = self._client.query(**request)
            found += [ScheduleRecord.from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def add(self, record: ScheduleRecord) -> ScheduleRecord:
        try:
            self._client.put_item(
                TableName=self._table, Item=record.to_item(), ConditionExpression=_NOT_EXISTS
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            existing = self.get(record.schedule_id)
            if existing is None:  # deleted in between: try once more
                return self.add(record)
            return existing
        return record

    def replace(self, record: ScheduleRecord, *, expected_version: int) -> bool:
        try:
            self._client.put_item(
                TableName=self._table,
                Item=record.to_item(),
                ConditionExpression=_SAME_VERSION,
                ExpressionAttributeValues={":v": {"N": str(expected_version)}},
            )
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return True

    def delete(self, schedule_id: str, generation: str | None = None) -> bool:
        request: dict[str, Any] = {}
        if generation is not None:
            request = {
                "ConditionExpression": "gen = :g",
                "ExpressionAttributeValues": {":g": {"S": generation}},
            }
        try:
            response = self._client.delete_item(
                TableName=self._table, Key=self._key(schedule_id), ReturnValues="ALL_OLD",
                **request,
            )  # fmt: skip
        except ClientError as exc:
            if _code(exc) != "ConditionalCheckFailedException":
                raise
            return False
        return "Attributes" in response

    def start_tick(
        self, record: ScheduleRecord, *, expected_version: int, execution: ExecutionRecord
    ) -> TickWrite:
        journal = self._journal
        execution = execution.evolve(expires_at=journal.retention.open_expiry(execution.created_at))
        item, extra = execution_items(execution, journal.values)
        puts = [
            {"Put": {"TableName": self._table, "Item": one, "ConditionExpression": _NOT_EXISTS}}
            for one in [*extra, item]
        ]
        schedule = {
            "Put": {
                "TableName": self._table,
                "Item": record.to_item(),
                "ConditionExpression": _SAME_VERSION,
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
            }
        }
        # Unique to this call: botocore's retries of it reuse it (same parameters), while a
        # concurrent delivery of the same tick, whose items differ (``created_at``), must not
        # share it, or DynamoDB answers IdempotentParameterMismatch instead of its condition.
        token = f"{new_token()}/{execution.execution_id}/{expected_version}"
        try:
            self._client.transact_write_items(
                TransactItems=[schedule, *puts],  # type: ignore[list-item]
                # botocore's retry of an applied transaction is then answered as a success
                ClientRequestToken=hashlib.sha256(token.encode()).hexdigest()[:36],
            )
        except ClientError as exc:
            if _code(exc) != "TransactionCanceledException":
                raise
            reasons = _reasons(exc)
            if "ConditionalCheckFailed" in reasons[1:]:
                return TickWrite.EXISTS
            if reasons[:1] == ["ConditionalCheckFailed"] or _TRANSIENT & set(reasons):
                return TickWrite.STALE
            raise
        return TickWrite.STARTED
