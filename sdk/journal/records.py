"""The records of the journal: one execution item and one item per step.

Both are frozen dataclasses with ``to_item``/``from_item`` producing DynamoDB's
typed attribute maps. Step items live under the ``step#`` sort-key prefix; the
execution item and any other bookkeeping live under ``#``-prefixed keys, so no
user step key can ever collide with them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sdk.failures import ErrorInfo
from sdk.journal.schema import EXPIRES_AT
from sdk.sizes import EXECUTION_INLINE_VALUE, utf8_len

EXECUTION_SK = "#execution"
# A long input or output lives in an item of its own, beside the execution item.
INPUT_SK = "#input"
OUTPUT_SK = "#output"
VALUE_ATTR = "v"
STEP_PREFIX = "step#"
DUE = "due"  # the one partition of the sparse by-due index
# A leased execution is due for the sweeper this long after its lease expires.
LEASE_SWEEP_SLACK = timedelta(seconds=1)
# A resumed execution is due for the sweeper this long after, should its invocation be lost.
RESUME_GRACE = timedelta(minutes=2)
MAX_KEY_BYTES = 900

Item = dict[str, Any]


class ExecutionStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUSPENDED = "suspended"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    # Stopped by a deployment change (workflow missing, non-deterministic replay): not
    # finished, not run again until resumed after a fix.
    PARKED = "parked"

    @property
    def finished(self) -> bool:
        return self in _FINISHED


_FINISHED = frozenset(
    {ExecutionStatus.COMPLETED, ExecutionStatus.FAILED, ExecutionStatus.CANCELLED}
)
RUNNABLE = (ExecutionStatus.PENDING, ExecutionStatus.RUNNING, ExecutionStatus.SUSPENDED)


# Records the engine writes for itself: "the child of this invoke_and_wait was started".
# "running": a step's body started (``key\x1frunning``, written when steps stream live);
# "suspension": one suspension of the execution and its resumption (``SUSPENSION_PREFIX``).
BOOKKEEPING_STEP_TYPES = frozenset(
    {"invoke_and_wait_started", "wait_for_event_waiting", "running", "suspension"}
)
RUNNING = "running"  # the marker's suffix: ``key\x1frunning``
EMIT = "emit"  # the step type of ``ctx.step.emit``'s messages
# The key of the record of the suspension by lease ``attempt`` n: ``\x1fsuspension<n>``
# (an empty user key before the separator: no user key can take it).
SUSPENSION_PREFIX = "\x1fsuspension"
MAX_TRIES_KEPT = 20  # failed attempts of a step kept on its final record (the latest ones)
TRY_MESSAGE_CHARS = 500


class StepStatus(enum.StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    WAITING = "waiting"  # a wait, until the time in its output


def iso(moment: datetime) -> str:
    """A fixed-width UTC timestamp, so stored times sort as strings."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _s(value: str | None) -> dict[str, Any] | None:
    return None if value is None else {"S": value}


def _get_s(item: Item, name: str) -> str | None:
    attr = item.get(name)
    return None if attr is None else str(attr["S"])


def _n(value: int | None) -> dict[str, Any] | None:
    return None if value is None else {"N": str(value)}


def _get_n(item: Item, name: str) -> int | None:
    attr = item.get(name)
    return None if attr is None else int(attr["N"])


def _compact(item: dict[str, Any]) -> Item:
    return {name: attr for name, attr in item.items() if attr is not None}


def inline_value(text: str | None) -> bool:
    """Does ``text`` (an input or output) stay on the execution item itself?"""
    return text is None or utf8_len(text) <= EXECUTION_INLINE_VALUE


def value_item(execution_id: str, sk: str, text: str, *, expires_at: int | None) -> Item:
    """The item of an input or output too long for the execution item (``INPUT_SK``...)."""
    return _compact(
        {
            "pk": {"S": execution_id},
            "sk": {"S": sk},
            VALUE_ATTR: {"S": text},
            EXPIRES_AT: _n(expires_at),
        }
    )


def _inline_s(text: str | None) -> dict[str, Any] | None:
    return _s(text) if inline_value(text) else None


def _size_n(text: str | None) -> dict[str, Any] | None:
    return None if inline_value(text) else _n(utf8_len(text or ""))


@dataclass(frozen=True, slots=True)
class Try:
    """A failed attempt of a step retried within one invocation: when, and why."""

    at: datetime
    error_type: str
    message: str

    def to_item(self) -> Item:
        return {
            "M": {
                "at": {"S": iso(self.at)},
                "type": {"S": self.error_type},
                "message": {"S": self.message[:TRY_MESSAGE_CHARS]},
            }
        }

    @classmethod
    def from_item(cls, attr: Item) -> Try:
        m = attr["M"]
        return cls(parse_iso(m["at"]["S"]), m["type"]["S"], m["message"]["S"])


@dataclass(frozen=True, slots=True)
class StepRecord:
    """The outcome of one step, stored once, never overwritten."""

    key: str
    step_type: str
    callable_name: str
    status: StepStatus
    output: str | None = None
    output_tag: str | None = None
    error: ErrorInfo | None = None
    attempts: int = 1
    started_at: datetime | None = None
    finished_at: datetime | None = None
    position: int = 0  # the order in which the workflow called its steps
    # failed attempts retried within the invocation that recorded this (attempt order)
    tries: tuple[Try, ...] = ()
    # DynamoDB's time to live (epoch seconds), set by the journal when it writes the record
    expires_at: int | None = field(default=None, compare=False)

    @property
    def bookkeeping(self) -> bool:
        """A record the engine keeps for itself (not a step the workflow called)."""
        return self.step_type in BOOKKEEPING_STEP_TYPES

    def to_item(self, execution_id: str) -> Item:
        return _compact(
            {
                "pk": {"S": execution_id},
                "sk": {"S": STEP_PREFIX + self.key},
                "step_type": {"S": self.step_type},
                "fn": {"S": self.callable_name},
                "step_status": {"S": self.status.value},
                "out": _s(self.output),
                "tag": _s(self.output_tag),
                "err": None if self.error is None else {"M": error_to_item(self.error)},
                "attempts": {"N": str(self.attempts)},
                "pos": {"N": str(self.position)},
                "t0": _s(None if self.started_at is None else iso(self.started_at)),
                "t1": _s(None if self.finished_at is None else iso(self.finished_at)),
                "tries": {"L": [t.to_item() for t in self.tries]} if self.tries else None,
                EXPIRES_AT: _n(self.expires_at),
            }
        )

    @classmethod
    def from_item(cls, item: Item) -> StepRecord:
        err = item.get("err")
        t0, t1 = _get_s(item, "t0"), _get_s(item, "t1")
        return cls(
            key=str(item["sk"]["S"])[len(STEP_PREFIX) :],
            step_type=str(item["step_type"]["S"]),
            callable_name=str(item["fn"]["S"]),
            status=StepStatus(item["step_status"]["S"]),
            output=_get_s(item, "out"),
            output_tag=_get_s(item, "tag"),
            error=None if err is None else _error_from_item(err["M"]),
            attempts=int(item["attempts"]["N"]),
            started_at=None if t0 is None else parse_iso(t0),
            finished_at=None if t1 is None else parse_iso(t1),
            position=int(item.get("pos", {"N": "0"})["N"]),
            tries=tuple(Try.from_item(t) for t in item.get("tries", {}).get("L", [])),
            expires_at=_get_n(item, EXPIRES_AT),
        )


def error_to_item(error: ErrorInfo) -> Item:
    """A recorded error as a DynamoDB map attribute's value."""
    return {name: {"S": value} for name, value in error.to_dict().items()}


def _error_from_item(attrs: Item) -> ErrorInfo:
    return ErrorInfo.from_dict({name: attr["S"] for name, attr in attrs.items()})


@dataclass(frozen=True, slots=True)
class Suspension:
    """The latest time an execution suspended on a wait, kept on its item until the next.

    ``attempt`` is the lease attempt that suspended (one suspension per invocation at
    most), ``kind`` what it waited for: ``"children"`` (only child outcomes) or
    ``"wait"``. A hand-over to a fresh invocation (time limit) is not a suspension."""

    at: datetime
    kind: str
    attempt: int

    @property
    def record_key(self) -> str:
        """The key of the record that keeps this suspension once it is resumed."""
        return f"{SUSPENSION_PREFIX}{self.attempt}"


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One run of one workflow: its input, status, outcome, lineage and lease.

    An input or output longer than ``EXECUTION_INLINE_VALUE`` lives in an item of its
    own (``INPUT_SK``, ``OUTPUT_SK``); a record read from the execution item alone then
    has ``input`` (``output``) ``None`` and its size in ``input_bytes`` (``output_bytes``)
    until ``Journal.load_values`` fills it in (``loaded``).
    """

    execution_id: str
    workflow_id: str
    status: ExecutionStatus
    created_at: datetime
    input: str | None = None
    output: str | None = None
    output_tag: str | None = None
    error: ErrorInfo | None = None
    parent_execution_id: str | None = None
    root_execution_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    parent_step_key: str | None = None  # where to report the outcome in the parent's journal
    started_at: datetime | None = None
    finished_at: datetime | None = None
    attempt: int = 0
    lease_owner: str | None = None
    lease_expires_ms: int | None = None
    version: int = 0
    cancel_requested: bool = False
    parent_step_position: int | None = None  # the call position of that step
    # Wake-ups: every waker bumps ``wakeups``; a suspended execution needs an invocation
    # once ``wakeups`` reaches ``wake_need`` (set when it suspended).
    wakeups: int = 0
    wake_need: int = 1
    # When the sweeper must look at this execution (None: never); indexed sparsely.
    due_at: datetime | None = None
    dead_invocations: int = 0  # invocations that died holding the lease
    closed_by: str | None = None  # the invocation whose write last dropped the lease
    previous_owner: str | None = None  # the holder the last lease replaced without release
    suspension: Suspension | None = None  # the latest suspension on a wait
    # the first lease taken since ``suspension`` (set by every first lease; only the one
    # after a suspension counts)
    resumed_at: datetime | None = None
    input_bytes: int | None = field(default=None, compare=False)
    output_bytes: int | None = field(default=None, compare=False)
    # DynamoDB's time to live (epoch seconds), set by the journal (``sdk.journal.retention``)
    expires_at: int | None = field(default=None, compare=False)

    @property
    def loaded(self) -> bool:
        """Are the input and output here (not only their sizes)?"""
        return (self.input is not None or self.input_bytes is None) and (
            self.output is not None or self.output_bytes is None
        )

    @property
    def root_id(self) -> str:
        return self.root_execution_id or self.execution_id

    @property
    def needs_invocation(self) -> bool:
        """Suspended, and enough wake-ups arrived since to be worth running it."""
        return self.status is ExecutionStatus.SUSPENDED and self.wakeups >= self.wake_need

    def evolve(self, **changes: Any) -> ExecutionRecord:
        return replace(self, **changes)

    def to_item(self) -> Item:
        return _compact(
            {
                "pk": {"S": self.execution_id},
                "sk": {"S": EXECUTION_SK},
                "workflow_id": {"S": self.workflow_id},
                "status": {"S": self.status.value},
                "created_at": {"S": iso(self.created_at)},
                "input": _inline_s(self.input),
                "input_bytes": _size_n(self.input),
                "output": _inline_s(self.output),
                "output_bytes": _size_n(self.output),
                "output_tag": _s(self.output_tag),
                "error": None if self.error is None else {"M": error_to_item(self.error)},
                "parent_id": _s(self.parent_execution_id),
                "root_id": _s(self.root_execution_id),
                "parent_key": _s(self.parent_step_key),
                "user_id": _s(self.user_id),
                "session_id": _s(self.session_id),
                "started_at": _s(None if self.started_at is None else iso(self.started_at)),
                "finished_at": _s(None if self.finished_at is None else iso(self.finished_at)),
                "attempt": {"N": str(self.attempt)},
                "lease_owner": _s(self.lease_owner),
                "lease_expires": (
                    None if self.lease_expires_ms is None else {"N": str(self.lease_expires_ms)}
                ),
                "version": {"N": str(self.version)},
                "cancel": {"BOOL": True} if self.cancel_requested else None,
                "parent_pos": _n(self.parent_step_position),
                "wakeups": {"N": str(self.wakeups)},
                "wake_need": {"N": str(self.wake_need)},
                "sweep": {"S": DUE},  # in the by-due index whenever due_at is set
                "due_at": _s(None if self.due_at is None else iso(self.due_at)),
                "dead": _n(self.dead_invocations or None),
                "closed_by": _s(self.closed_by),
                "prev_owner": _s(self.previous_owner),
                **_suspension_attrs(self.suspension),
                "resumed_at": _s(None if self.resumed_at is None else iso(self.resumed_at)),
                EXPIRES_AT: _n(self.expires_at),
            }
        )

    @classmethod
    def from_item(cls, item: Item) -> ExecutionRecord:
        err = item.get("error")
        started, finished = _get_s(item, "started_at"), _get_s(item, "finished_at")
        lease = item.get("lease_expires")
        due = _get_s(item, "due_at")
        resumed = _get_s(item, "resumed_at")
        return cls(
            execution_id=str(item["pk"]["S"]),
            workflow_id=str(item["workflow_id"]["S"]),
            status=ExecutionStatus(item["status"]["S"]),
            created_at=parse_iso(str(item["created_at"]["S"])),
            input=_get_s(item, "input"),
            output=_get_s(item, "output"),
            output_tag=_get_s(item, "output_tag"),
            error=None if err is None else _error_from_item(err["M"]),
            parent_execution_id=_get_s(item, "parent_id"),
            root_execution_id=_get_s(item, "root_id"),
            parent_step_key=_get_s(item, "parent_key"),
            user_id=_get_s(item, "user_id"),
            session_id=_get_s(item, "session_id"),
            started_at=None if started is None else parse_iso(started),
            finished_at=None if finished is None else parse_iso(finished),
            attempt=int(item["attempt"]["N"]),
            lease_owner=_get_s(item, "lease_owner"),
            lease_expires_ms=None if lease is None else int(lease["N"]),
            version=int(item["version"]["N"]),
            cancel_requested=bool(item.get("cancel", {}).get("BOOL", False)),
            parent_step_position=_get_n(item, "parent_pos"),
            wakeups=_get_n(item, "wakeups") or 0,
            wake_need=_get_n(item, "wake_need") or 1,
            due_at=None if due is None else parse_iso(due),
            dead_invocations=_get_n(item, "dead") or 0,
            closed_by=_get_s(item, "closed_by"),
            previous_owner=_get_s(item, "prev_owner") or None,
            suspension=_suspension(item),
            resumed_at=None if resumed is None else parse_iso(resumed),
            input_bytes=_get_n(item, "input_bytes"),
            output_bytes=_get_n(item, "output_bytes"),
            expires_at=_get_n(item, EXPIRES_AT),
        )


def _suspension_attrs(suspension: Suspension | None) -> dict[str, Any]:
    """The execution item's attributes of its latest suspension."""
    if suspension is None:
        return {}
    return suspension_values(suspension)


def suspension_values(suspension: Suspension) -> dict[str, Any]:
    """``susp_at``, ``susp_kind`` and ``susp_attempt`` as DynamoDB values."""
    return {
        "susp_at": {"S": iso(suspension.at)},
        "susp_kind": {"S": suspension.kind},
        "susp_attempt": {"N": str(suspension.attempt)},
    }


def _suspension(item: Item) -> Suspension | None:
    at, kind = _get_s(item, "susp_at"), _get_s(item, "susp_kind")
    attempt = _get_n(item, "susp_attempt")
    if at is None or kind is None or attempt is None:
        return None
    return Suspension(parse_iso(at), kind, attempt)
