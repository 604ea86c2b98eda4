"""The DynamoDB journal.

One write per step (a conditional ``PutItem``), one ``Query`` per load, and
conditional updates for the lease. A ``ConditionalCheckFailedException`` always
becomes a domain answer: the existing record, or a Stepline error.

Every item carries its time to live (``expires_at``, see ``sdk.journal.retention``),
set in the write that creates it; the execution item's is set again, in the same
conditional write, when the execution finishes.

Every item is measured before it is written (``sdk.journal.fit``). A long input or
output gets an item of its own, written in one transaction with the execution item
(so no execution is ever runnable without its input, nor completed without its
output); a value past the item limit goes to the value store, if one was given.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import ClientError

from sdk.errors import (
    Cancelled,
    ExecutionNotFoundError,
    ExecutionNotRunnableError,
    LeaseBusyError,
    LeaseLost,
    WokenUp,
)
from sdk.failures import ErrorInfo
from sdk.ids import new_token
from sdk.journal.fit import (
    EXECUTION_RESERVE,
    check_item,
    execution_items,
    max_value_bytes,
    output_item,
    resolve,
    step_item,
)
from sdk.journal.leases import (
    check_creatable,
    check_runnable,
    lease_lost_message,
    not_parked_message,
    woken_message,
)
from sdk.journal.records import (
    DUE,
    EXECUTION_SK,
    INPUT_SK,
    LEASE_SWEEP_SLACK,
    OUTPUT_SK,
    RESUME_GRACE,
    STEP_PREFIX,
    VALUE_ATTR,
    ExecutionRecord,
    ExecutionStatus,
    Item,
    StepRecord,
    Suspension,
    epoch_ms,
    error_to_item,
    inline_value,
    iso,
    suspension_values,
)
from sdk.journal.retention import DEFAULT_RETENTION, Retention
from sdk.journal.schema import (
    BY_DUE_INDEX,
    BY_PARENT_INDEX,
    BY_STATUS_INDEX,
    BY_WORKFLOW_INDEX,
    EXPIRES_AT,
)
from sdk.values import ValueStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_NOT_EXISTS = "attribute_not_exists(pk)"
_EXISTS = "attribute_exists(pk)"


def client_config() -> Config:
    """The botocore settings for a journal's DynamoDB client.

    The journal builds every request from typed records, so botocore's parameter
    validation (a noticeable share of each call's CPU) can catch nothing here.
    Retries use botocore's standard mode, which backs off on throttling.
    """
    return Config(parameter_validation=False, retries={"mode": "standard", "max_attempts": 5})


def _conditional_failure(exc: ClientError) -> bool:
    """A refused condition, of a single write or of one write of a transaction."""
    error = exc.response.get("Error", {})
    if error.get("Code") == "TransactionCanceledException":
        return "ConditionalCheckFailed" in str(error.get("Message", ""))
    return error.get("Code") == "ConditionalCheckFailedException"


class DynamoJournal:
    """A ``Journal`` in one DynamoDB table (see ``sdk.journal.schema``).

    ``values`` stores values past DynamoDB's item limit (none: they are refused);
    ``retention`` sets when items expire.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        values: ValueStore | None = None,
        retention: Retention = DEFAULT_RETENTION,
    ) -> None:
        self._client = client
        self._table = table_name
        self.values = values
        self.retention = retention

    @property
    def max_value_bytes(self) -> int:
        return max_value_bytes(self.values)

    @property
    def client(self) -> DynamoDBClient:
        return self._client

    @property
    def table(self) -> str:
        return self._table

    def load_values(self, record: ExecutionRecord) -> ExecutionRecord:
        changes: dict[str, str | None] = {}
        if record.input is None and record.input_bytes is not None:
            changes["input"] = self._value(record.execution_id, INPUT_SK)
        if record.output is None and record.output_bytes is not None:
            changes["output"] = self._value(record.execution_id, OUTPUT_SK)
        return record.evolve(**changes) if changes else record

    def _value(self, execution_id: str, sk: str) -> str:
        item = self._get_item(execution_id, sk)
        if item is None:  # cannot happen: written in one transaction with the execution
            raise ExecutionNotFoundError(f"execution {execution_id!r} has no {sk} item")
        return str(resolve(item, VALUE_ATTR, self.values)[VALUE_ATTR]["S"])

    def _key(self, execution_id: str, sk: str = EXECUTION_SK) -> Item:
        return {"pk": {"S": execution_id}, "sk": {"S": sk}}

    def _get_item(self, execution_id: str, sk: str) -> Item | None:
        response = self._client.get_item(
            TableName=self._table, Key=self._key(execution_id, sk), ConsistentRead=True
        )
        return response.get("Item")

    def create_execution(self, record: ExecutionRecord) -> ExecutionRecord:
        record = record.evolve(expires_at=self.retention.open_expiry(record.created_at))
        item, extra = execution_items(record, self.values)
        try:
            if extra:  # the execution and its long input, all or nothing
                self._client.transact_write_items(
                    TransactItems=[
                        {"Put": {"TableName": self._table, "Item": one,
                                 "ConditionExpression": _NOT_EXISTS}}
                        for one in [*extra, item]
                    ]
                )  # fmt: skip
            else:
                self._client.put_item(
                    TableName=self._table, Item=item, ConditionExpression=_NOT_EXISTS
                )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            existing = self.load_values(self.get_execution(record.execution_id))
            check_creatable(existing, record)
            return existing
        return record

    def get_execution(self, execution_id: str) -> ExecutionRecord:
        item = self._get_item(execution_id, EXECUTION_SK)
        if item is None:
            raise ExecutionNotFoundError(f"no execution {execution_id!r}")
        return ExecutionRecord.from_item(item)

    def list_executions(
        self,
        *,
        workflow_id: str | None = None,
        status: ExecutionStatus | None = None,
        limit: int = 100,
        before: tuple[datetime, str] | None = None,
    ) -> list[ExecutionRecord]:
        if workflow_id is not None:
            found = self._query_index(
                BY_WORKFLOW_INDEX, "workflow_id", workflow_id, status, limit, before
            )
        else:
            statuses = [status] if status is not None else list(ExecutionStatus)
            found = []
            for one in statuses:
                found += self._query_index(
                    BY_STATUS_INDEX, "status", one.value, None, limit, before
                )
        if before is not None:
            found = [r for r in found if (r.created_at, r.execution_id) < before]
        found.sort(key=lambda r: (r.created_at, r.execution_id), reverse=True)
        return found[:limit]

    def _query_index(
        self,
        index: str,
        attribute: str,
        value: str,
        status: ExecutionStatus | None,
        limit: int,
        before: tuple[datetime, str] | None = None,
    ) -> list[ExecutionRecord]:
        """Up to ``limit`` executions, newest first, and every one created at the same time
        as the last of them (the index orders those arbitrarily; the caller sorts by id)."""
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": "#a = :v",
            "ExpressionAttributeNames": {"#a": attribute},
            "ExpressionAttributeValues": {":v": {"S": value}},
            "ScanIndexForward": False,
            # a page at a time: the loop below asks for more while a filter leaves too few
            "Limit": limit + 1,
        }
        if before is not None:
            request["KeyConditionExpression"] += " AND created_at <= :before"
            request["ExpressionAttributeValues"][":before"] = {"S": iso(before[0])}
        if status is not None:
            request["FilterExpression"] = "#st = :st"
            request["ExpressionAttributeNames"]["#st"] = "status"
            request["ExpressionAttributeValues"][":st"] = {"S": status.value}
        found: list[ExecutionRecord] = []
        while len(found) <= limit or found[-1].created_at == found[limit - 1].created_at:
            response = self._client.query(**request)
            found += [ExecutionRecord.from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found

    def acquire_lease(
        self, execution_id: str, *, owner: str, now: datetime, expires_at: datetime
    ) -> ExecutionRecord:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(execution_id),
                UpdateExpression=(
                    "SET #st = :running, started_at = if_not_exists(started_at, :now), "
                    "resumed_at = if_not_exists(resumed_at, :now), "
                    "attempt = attempt + :one, version = version + :one, "
                    "prev_owner = if_not_exists(lease_owner, :nobody), "
                    "lease_owner = :owner, lease_expires = :expires, "
                    "sweep = :due, due_at = :expires_iso"
                ),
                ConditionExpression=(
                    "attribute_exists(pk) AND #st IN (:pending, :running, :suspended) AND "
                    "(attribute_not_exists(lease_owner) OR lease_expires < :now_ms "
                    "OR lease_owner = :owner)"
                ),
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={
                    ":running": {"S": ExecutionStatus.RUNNING.value},
                    ":pending": {"S": ExecutionStatus.PENDING.value},
                    ":suspended": {"S": ExecutionStatus.SUSPENDED.value},
                    ":now": {"S": iso(now)},
                    ":now_ms": {"N": str(epoch_ms(now))},
                    ":one": {"N": "1"},
                    ":owner": {"S": owner},
                    ":nobody": {"S": ""},
                    ":expires": {"N": str(epoch_ms(expires_at))},
                    ":due": {"S": DUE},
                    ":expires_iso": {"S": iso(expires_at + LEASE_SWEEP_SLACK)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            item = self._get_item(execution_id, EXECUTION_SK)
            current = None if item is None else ExecutionRecord.from_item(item)
            check_runnable(execution_id, current, now, owner)
            raise LeaseBusyError(
                f"execution {execution_id!r} was taken by another invocation"
            ) from exc
        return ExecutionRecord.from_item(response["Attributes"])

    def note_dead_invocations(self, execution_id: str, *, owner: str, count: int) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(execution_id),
                UpdateExpression="SET dead = :count",
                ConditionExpression="lease_owner = :owner",
                ExpressionAttributeValues={":count": {"N": str(count)}, ":owner": {"S": owner}},
            )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            raise LeaseLost(lease_lost_message(execution_id, owner)) from exc

    def load_steps(self, execution_id: str) -> dict[str, StepRecord]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :id AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":id": {"S": execution_id},
                ":prefix": {"S": STEP_PREFIX},
            },
            "ConsistentRead": True,
        }
        steps: dict[str, StepRecord] = {}
        while True:
            response = self._client.query(**request)
            for item in response.get("Items", []):
                record = StepRecord.from_item(resolve(item, "out", self.values))
                steps[record.key] = record
            if "LastEvaluatedKey" not in response:
                return steps
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def record_step(self, execution_id: str, step: StepRecord, *, now: datetime) -> StepRecord:
        step = replace(step, expires_at=self.retention.open_expiry(now))
        item = step_item(execution_id, step.to_item(execution_id), self.values)
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression=_NOT_EXISTS)
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            existing = self._get_item(execution_id, STEP_PREFIX + step.key)
            if existing is None:  # cannot happen: the condition failed because it exists
                raise
            return StepRecord.from_item(resolve(existing, "out", self.values))
        return step

    def wake(self, execution_id: str) -> ExecutionRecord:
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(execution_id),
                UpdateExpression="ADD wakeups :one",
                ConditionExpression=_EXISTS,
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            raise ExecutionNotFoundError(f"no execution {execution_id!r}") from exc
        return ExecutionRecord.from_item(response["Attributes"])

    def finish_execution(
        self,
        execution_id: str,
        *,
        owner: str,
        status: ExecutionStatus,
        now: datetime,
        output: str | None = None,
        output_tag: str | None = None,
        error: ErrorInfo | None = None,
        due_at: datetime | None = None,
    ) -> None:
        long_output = not inline_value(output)
        values: dict[str, Any] = {
            "status": {"S": status.value},
            "finished_at": {"S": iso(now)},
            "output": None if output is None or long_output else {"S": output},
            "output_bytes": {"N": str(len((output or "").encode()))} if long_output else None,
            "output_tag": None if output_tag is None else {"S": output_tag},
            "error": None if error is None else {"M": error_to_item(error)},
            EXPIRES_AT: {"N": str(self.retention.finished_expiry(now))},
        }
        check_item(
            {k: v for k, v in values.items() if v is not None},
            f"the outcome of execution {execution_id!r}",
            reserve=EXECUTION_RESERVE,
        )
        extra = []
        if long_output:
            expires = self.retention.open_expiry(now)
            extra.append(output_item(execution_id, output or "", self.values, expires_at=expires))
        self._update_leased(execution_id, owner, values, due_at=due_at, puts=extra)

    def suspend_execution(
        self,
        execution_id: str,
        *,
        owner: str,
        seen_wakeups: int,
        wake_need: int,
        due_at: datetime | None,
        suspension: Suspension | None = None,
    ) -> None:
        values = {
            "status": {"S": ExecutionStatus.SUSPENDED.value},
            "wake_need": {"N": str(wake_need)},
        }
        if suspension is None:
            self._update_leased(execution_id, owner, values, due_at=due_at, seen=seen_wakeups)
            return
        values.update(suspension_values(suspension))
        self._update_leased(
            execution_id, owner, values, due_at=due_at, seen=seen_wakeups, remove=("resumed_at",)
        )

    def _update_leased(
        self,
        execution_id: str,
        owner: str,
        values: dict[str, Any],
        *,
        due_at: datetime | None,
        seen: int | None = None,
        puts: list[Item] | None = None,
        remove: tuple[str, ...] = (),
    ) -> None:
        """Set the attributes in ``values`` (``None`` skips one) and drop the lease.

        With ``puts`` (items beside the execution's, such as a long output) all is written
        in one transaction.

        Only if ``owner`` still holds the lease; otherwise ``LeaseLost``. With ``seen``
        (a suspension), a requested cancellation refuses it with ``Cancelled`` and a
        wake-up counted since with ``WokenUp``. The write names ``owner`` in
        ``closed_by``, so a retry whose first attempt was applied is told apart from a
        lost lease. Every name goes through a placeholder, since several (``status``,
        ``output``) are reserved.
        """
        if due_at is not None:
            values = {**values, "due_at": {"S": iso(due_at)}}
        present = [name for name, value in values.items() if value is not None]
        sets = [f"#{name} = :{name}" for name in present]
        names = {f"#{name}": name for name in present}
        condition = "lease_owner = :owner"
        extra: dict[str, Any] = {}
        if seen is not None:
            # (an item written before wake-ups were counted has no counter: none arrived)
            woken = "wakeups = :seen"
            if not seen:
                woken = f"(attribute_not_exists(wakeups) OR {woken})"
            condition += f" AND attribute_not_exists(#cancel) AND {woken}"
            names["#cancel"] = "cancel"
            extra[":seen"] = {"N": str(seen)}
        # ``sweep`` stays: without ``due_at`` the item is out of the sparse by-due index.
        removed = ", ".join(
            ["lease_owner", "lease_expires", *([] if due_at is not None else ["due_at"]), *remove]
        )
        update: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key(execution_id),
            "UpdateExpression": (
                "SET "
                + ", ".join([*sets, "version = version + :one", "closed_by = :owner"])
                + " REMOVE "
                + removed
            ),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {
                **{f":{name}": values[name] for name in present},
                ":owner": {"S": owner},
                ":one": {"N": "1"},
                **extra,
            },
        }
        try:
            if puts:
                writes: list[Any] = [{"Put": {"TableName": self._table, "Item": i}} for i in puts]
                writes.append({"Update": update})
                self._client.transact_write_items(TransactItems=writes)
            else:
                self._client.update_item(**update)
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            self._explain_refusal(execution_id, owner, values["status"]["S"], seen, exc)

    def _explain_refusal(
        self, execution_id: str, owner: str, status: str, seen: int | None, exc: ClientError
    ) -> None:
        """Why a leased write was refused: return if it was our own, already applied."""
        current = self.get_execution(execution_id)
        if current.closed_by == owner and current.status.value == status:
            return  # a retried request whose first attempt was applied
        if current.lease_owner != owner:
            raise LeaseLost(lease_lost_message(execution_id, owner)) from exc
        if current.cancel_requested:
            raise Cancelled(f"execution {execution_id!r} was cancelled") from exc
        if seen is not None and current.wakeups != seen:
            raise WokenUp(woken_message(execution_id), current.wakeups) from exc
        raise exc  # nothing explains it: fail the invocation rather than guess

    def park_execution(
        self, execution_id: str, *, owner: str, error: ErrorInfo, now: datetime
    ) -> None:
        values = {
            "status": {"S": ExecutionStatus.PARKED.value},
            "error": {"M": error_to_item(error)},
        }
        self._update_leased(execution_id, owner, values, due_at=None)

    def resume_execution(self, execution_id: str, *, now: datetime) -> ExecutionRecord:
        token = f"resume/{new_token()}"  # names this request, so a retry knows its own write
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(execution_id),
                UpdateExpression=(
                    "SET #st = :suspended, wake_need = if_not_exists(wakeups, :zero), "
                    "sweep = :due, due_at = :due_at, version = version + :one, "
                    "closed_by = :token REMOVE #error"
                ),
                ConditionExpression="#st = :parked",
                ExpressionAttributeNames={"#st": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":suspended": {"S": ExecutionStatus.SUSPENDED.value},
                    ":parked": {"S": ExecutionStatus.PARKED.value},
                    ":zero": {"N": "0"},
                    ":due": {"S": DUE},
                    ":due_at": {"S": iso(now + RESUME_GRACE)},
                    ":one": {"N": "1"},
                    ":token": {"S": token},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            current = self.get_execution(execution_id)  # raises ExecutionNotFoundError
            if current.closed_by == token:
                return current  # a retried request whose first attempt was applied
            raise ExecutionNotRunnableError(not_parked_message(current)) from exc
        return ExecutionRecord.from_item(response["Attributes"])

    def fail_execution(
        self, execution_id: str, *, error: ErrorInfo, now: datetime
    ) -> ExecutionRecord | None:
        check_item({"error": {"M": error_to_item(error)}}, f"the error of {execution_id!r}",
                   reserve=EXECUTION_RESERVE)  # fmt: skip
        try:
            response = self._client.update_item(
                TableName=self._table,
                Key=self._key(execution_id),
                UpdateExpression=(
                    "SET #status = :failed, #error = :error, finished_at = :now, "
                    "version = version + :one, sweep = :due, due_at = :now, "
                    "expires_at = :expires "
                    "REMOVE lease_owner, lease_expires"
                ),
                ConditionExpression=(
                    "#status IN (:pending, :running, :suspended) AND "
                    "(attribute_not_exists(lease_owner) OR lease_expires < :now_ms)"
                ),
                ExpressionAttributeNames={"#status": "status", "#error": "error"},
                ExpressionAttributeValues={
                    ":failed": {"S": ExecutionStatus.FAILED.value},
                    ":pending": {"S": ExecutionStatus.PENDING.value},
                    ":running": {"S": ExecutionStatus.RUNNING.value},
                    ":suspended": {"S": ExecutionStatus.SUSPENDED.value},
                    ":error": {"M": error_to_item(error)},
                    ":now": {"S": iso(now)},
                    ":now_ms": {"N": str(epoch_ms(now))},
                    ":due": {"S": DUE},
                    ":one": {"N": "1"},
                    ":expires": {"N": str(self.retention.finished_expiry(now))},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if _conditional_failure(exc):
                return None
            raise
        return ExecutionRecord.from_item(response["Attributes"])

    def request_cancel(self, execution_id: str, *, now: datetime) -> ExecutionRecord:
        attempts = (
            # pending, suspended or parked: cancelled at once
            ("SET #st = :cancelled, finished_at = :now, #cancel = :true, version = version + :one,"
             " sweep = :due, due_at = :now, expires_at = :expires",
             "#st IN (:pending, :suspended, :parked)"),
            # running: flagged; the invocation stops at its next step boundary
            ("SET #cancel = :true, version = version + :one", "#st = :running"),
        )  # fmt: skip
        values: dict[str, Any] = {
            ":cancelled": {"S": ExecutionStatus.CANCELLED.value},
            ":pending": {"S": ExecutionStatus.PENDING.value},
            ":suspended": {"S": ExecutionStatus.SUSPENDED.value},
            ":parked": {"S": ExecutionStatus.PARKED.value},
            ":running": {"S": ExecutionStatus.RUNNING.value},
            ":now": {"S": iso(now)},
            ":true": {"BOOL": True},
            ":one": {"N": "1"},
            ":due": {"S": DUE},
            ":expires": {"N": str(self.retention.finished_expiry(now))},
        }
        for _ in range(3):  # the status may change between our two conditions
            for update, condition in attempts:
                used = {
                    k: v for k, v in values.items() if re.search(f"{k}\\b", update + condition)
                }
                try:
                    response = self._client.update_item(
                        TableName=self._table,
                        Key=self._key(execution_id),
                        UpdateExpression=update,
                        ConditionExpression=f"attribute_exists(pk) AND {condition}",
                        ExpressionAttributeNames={"#st": "status", "#cancel": "cancel"},
                        ExpressionAttributeValues=used,
                        ReturnValues="ALL_NEW",
                    )
                except ClientError as exc:
                    if not _conditional_failure(exc):
                        raise
                    continue
                return ExecutionRecord.from_item(response["Attributes"])
            current = self.get_execution(execution_id)  # raises ExecutionNotFoundError
            if current.status.finished:
                return current
        return self.get_execution(execution_id)

    def list_children(self, execution_id: str) -> list[ExecutionRecord]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_PARENT_INDEX,
            "KeyConditionExpression": "parent_id = :id",
            "ExpressionAttributeValues": {":id": {"S": execution_id}},
        }
        found: list[ExecutionRecord] = []
        while True:
            response = self._client.query(**request)
            found += [ExecutionRecord.from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def list_due(self, now: datetime, *, limit: int = 100) -> list[ExecutionRecord]:
        request: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": BY_DUE_INDEX,
            "KeyConditionExpression": "sweep = :due AND due_at <= :now",
            "ExpressionAttributeValues": {":due": {"S": DUE}, ":now": {"S": iso(now)}},
            "Limit": limit,
        }
        found: list[ExecutionRecord] = []
        while len(found) < limit:
            response = self._client.query(**request)
            found += [ExecutionRecord.from_item(item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return found[:limit]

    def set_due(
        self, execution_id: str, *, due_at: datetime | None, expected: datetime | None
    ) -> bool:
        values: dict[str, Any] = {}
        if expected is None:
            condition = "attribute_exists(pk) AND attribute_not_exists(due_at)"
        else:
            condition = "due_at = :expected"
            values[":expected"] = {"S": iso(expected)}
        if due_at is None:
            update = "REMOVE due_at"
        else:
            update = "SET sweep = :due, due_at = :due_at"
            values.update({":due": {"S": DUE}, ":due_at": {"S": iso(due_at)}})
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(execution_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),  # type: ignore[arg-type]
            )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
            return False
        return True

    def release_lease(self, execution_id: str, *, owner: str) -> None:
        try:
            self._client.update_item(
                TableName=self._table,
                Key=self._key(execution_id),
                UpdateExpression="REMOVE lease_owner, lease_expires SET version = version + :one",
                ConditionExpression="lease_owner = :owner",
                ExpressionAttributeValues={":owner": {"S": owner}, ":one": {"N": "1"}},
            )
        except ClientError as exc:
            if not _conditional_failure(exc):
                raise
