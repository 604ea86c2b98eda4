"""The replay decision, with no I/O: replay a recorded step, run it, or refuse.

``decide`` is a pure function of the call, the journal's record at its key and
the keys already used in this invocation, so it is tested from plain values.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass

from sdk.errors import DuplicateStepKeyError, NonDeterministicError
from sdk.journal.records import MAX_KEY_BYTES, StepRecord

SLOT = "\x1f"  # joins a step key and Stepline's own suffix; never in a user key


@dataclass(frozen=True, slots=True)
class StepCall:
    """What the workflow code asks for at one step: its key, kind and callable."""

    key: str
    step_type: str
    callable_name: str = ""


def check_key(key: object) -> str:
    """A step key is a non-empty string of at most 900 bytes, with no control characters.

    Control characters are kept for Stepline's own keys (``key\x1fi`` for the slots of a
    batch), so no user key can collide with them.
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"a step key must be a non-empty string, got {key!r}")
    if any(ord(char) < 32 for char in key):
        raise ValueError(f"step key {key!r} contains a control character")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise ValueError(f"step key {key[:40]!r}... is longer than {MAX_KEY_BYTES} bytes")
    return key


def decide(call: StepCall, record: StepRecord | None, used_keys: Set[str]) -> StepRecord | None:
    """Return the record to replay, or ``None`` when the step must run.

    Raises:
        DuplicateStepKeyError: the key was already used in this execution.
        NonDeterministicError: the record at this key is of another type or callable.
    """
    if call.key in used_keys:
        raise DuplicateStepKeyError(
            f"step key {call.key!r} is used twice in one execution; each step needs its own key"
        )
    if record is None:
        return None
    if record.step_type != call.step_type or record.callable_name != call.callable_name:
        raise NonDeterministicError(
            f"step {call.key!r} was recorded as "
            f"{_describe(record.step_type, record.callable_name)} but the workflow now calls "
            f"{_describe(call.step_type, call.callable_name)}"
        )
    return record


def _describe(step_type: str, callable_name: str) -> str:
    return f"{step_type}({callable_name})" if callable_name else step_type
