"""Identifiers: random ids for new executions, derived ids for idempotent ones, and the
rule every execution id a caller chooses must follow."""

from __future__ import annotations

import re
import uuid

from sdk.errors import InvalidExecutionIdError

_NAMESPACE = uuid.UUID("6f1c3a52-6d1e-4c53-9a8e-5b0c7e2f9d41")

# A chosen execution id is 1 to 200 ASCII letters, digits and ``- _ . :``. It is a
# DynamoDB partition key (at most 2048 bytes) and one segment of the API's URLs, so
# it must need no escaping there; the ids Stepline makes itself (UUIDs) fit the rule.
EXECUTION_ID_MAX_LENGTH = 200
EXECUTION_ID_CHARACTERS = "ASCII letters, digits, '-', '_', '.' and ':'"
_EXECUTION_ID = re.compile(r"[A-Za-z0-9_.:-]+")
_EXECUTION_ID_CHARACTER = re.compile(r"[A-Za-z0-9_.:-]")


def new_execution_id() -> str:
    """A fresh, random execution id."""
    return str(uuid.uuid4())


def check_execution_id(value: object) -> str:
    """``value`` if it is a valid execution id.

    The rule: 1 to ``EXECUTION_ID_MAX_LENGTH`` (200) characters, each an ASCII letter,
    a digit, ``-``, ``_``, ``.`` or ``:``. Such an id is a valid DynamoDB key and a URL
    path segment as it is, so every execution that can be started can be read,
    cancelled and shown by its id.

    Raises:
        InvalidExecutionIdError: (a ``ValueError``) naming the id and the rule it breaks.
    """
    if not isinstance(value, str):
        raise InvalidExecutionIdError(
            f"an execution id must be a string, got {type(value).__name__}"
        )
    if not value:
        raise InvalidExecutionIdError("an execution id must not be empty")
    if len(value) > EXECUTION_ID_MAX_LENGTH:
        raise InvalidExecutionIdError(
            f"execution id {_shown(value)} is {len(value)} characters long; "
            f"the limit is {EXECUTION_ID_MAX_LENGTH}"
        )
    if not _EXECUTION_ID.fullmatch(value):
        bad = next(c for c in value if not _EXECUTION_ID_CHARACTER.fullmatch(c))
        raise InvalidExecutionIdError(
            f"execution id {_shown(value)} contains {bad!r}; "
            f"an execution id may contain only {EXECUTION_ID_CHARACTERS}"
        )
    return value


def _shown(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:40] + "...")


def derived_id(*parts: str) -> str:
    """A stable id from its parts: the same parts always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def new_token() -> str:
    """A random token naming one invocation (a lease owner)."""
    return uuid.uuid4().hex
