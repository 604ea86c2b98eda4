"""Identifiers: random ids for new executions, derived ids for idempotent ones."""

from __future__ import annotations

import uuid

_NAMESPACE = uuid.UUID("6f1c3a52-6d1e-4c53-9a8e-5b0c7e2f9d41")


def new_execution_id() -> str:
    """A fresh, random execution id."""
    return str(uuid.uuid4())


def derived_id(*parts: str) -> str:
    """A stable id from its parts: the same parts always give the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join(parts)))


def new_token() -> str:
    """A random token naming one invocation (a lease owner)."""
    return uuid.uuid4().hex
