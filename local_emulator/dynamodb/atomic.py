"""Atomic conditional writes on moto: every DynamoDB request runs under one lock.

On AWS a conditional write checks its condition and writes the item as one atomic
step, so of eight racing ``PutItem(attribute_not_exists(pk))`` exactly one
succeeds. moto reads the item, evaluates the condition and writes in separate
Python steps, with nothing holding other threads off in between: under concurrent
requests (the emulator's server threads, or test threads on ``mock_aws``) two
writers can both pass the condition. A lease or a first-writer-wins journal built
on such writes would look correct on moto while being broken, or be broken on
moto while correct on AWS.

``serialize_writes()`` makes moto's DynamoDB request handler take one
process-wide lock around each request. The lock spans the whole request, not only
the backend's ``put_item``/``update_item``/``delete_item``/
``transact_write_items`` calls, because moto does part of the work outside them:
``UpdateItem`` and ``PutItem`` read the old item for ``ReturnValues`` before the
backend call, ``BatchWriteItem`` lives entirely in the handler, and every response
serializes live items that a concurrent ``UpdateItem`` mutates in place. Reads
take the lock as well, so a ``Query`` never sees half of an update (AWS's reads
are item-atomic). moto's handler runs both in-process under ``mock_aws`` and
behind its server, so one call covers both; it is idempotent and lasts for the
life of the process.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_REQUEST_LOCK = threading.RLock()  # held by one DynamoDB request at a time
_INSTALL_LOCK = threading.Lock()
_MARK = "__stepline_serialized__"


def serialize_writes() -> None:
    """Run every DynamoDB request moto handles in this process one at a time. Idempotent.

    Transactions then cost what the items they touch cost (``transactions``) and honour
    their client token (``tokens``), and queries cost what their partition holds
    (``queries``)."""
    from moto.dynamodb.responses import DynamoHandler

    from local_emulator.dynamodb.queries import partition_queries
    from local_emulator.dynamodb.tokens import request_tokens
    from local_emulator.dynamodb.transactions import item_transactions

    item_transactions()
    partition_queries()
    request_tokens()

    with _INSTALL_LOCK:
        handle = DynamoHandler.call_action
        if getattr(handle, _MARK, False):
            return

        @functools.wraps(handle)
        def call_action(self: Any) -> Any:
            with _REQUEST_LOCK:
                return handle(self)

        setattr(call_action, _MARK, True)
        DynamoHandler.call_action = call_action  # type: ignore[method-assign]


def writes_are_serialized() -> bool:
    """Whether ``serialize_writes()`` has taken effect in this process."""
    from moto.dynamodb.responses import DynamoHandler

    return bool(getattr(DynamoHandler.call_action, _MARK, False))
