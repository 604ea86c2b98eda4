"""One moto account per harness, so emulators and in-process fixtures never share state.

moto keeps every service's state in process-wide dictionaries keyed by account id,
and ``mock_aws()`` clears all of them when it starts and stops. Two emulators in
one process would therefore deploy into the same account (the second finds the
stack already there), and an in-process fixture would wipe, or read, the tables of
an emulator serving in the same process.

Each harness here takes an account of its own (``new_account_id``), sends every
request with it (moto honours the ``x-moto-account-id`` header: the gateway adds
it to every request it serves, ``pin_account`` to one boto3 client's requests),
and on leaving removes that account's state and nothing else (``drop_account``)
instead of resetting moto. Limits: a ``MOTO_ACCOUNT_ID`` environment variable
overrides the header in moto, which would put every harness back in one account;
and a plain ``mock_aws()`` started elsewhere in the process still resets all
accounts, a live emulator's included.
"""

from __future__ import annotations

import itertools
import sys
import threading
from typing import Any

ACCOUNT_HEADER = "x-moto-account-id"
# Harness accounts count up from here, away from moto's default (123456789012) that
# plain ``mock_aws`` users get.
_FIRST_ACCOUNT = 100000000001
_next = itertools.count(_FIRST_ACCOUNT)
_next_lock = threading.Lock()


def new_account_id() -> str:
    """A 12-digit account id no other harness in this process has had."""
    with _next_lock:
        return str(next(_next))


def pin_account(client: Any, account_id: str) -> Any:
    """Send every request of a boto3 ``client`` to moto's ``account_id``; returns the client."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers[ACCOUNT_HEADER] = account_id

    client.meta.events.register("before-sign", add_header)
    return client


def drop_account(account_id: str) -> None:
    """Forget everything moto holds for ``account_id``, in every service; other accounts stay.

    The account's backends are let go, not ``reset()``: moto's S3 reset closes the
    stored objects of every account, not only its own.
    """
    from moto.core.base_backend import BackendDict, backend_lock

    with backend_lock:
        for service in list(BackendDict._instances):  # type: ignore[misc]
            service.pop(account_id, None)
    s3 = sys.modules.get("moto.s3.models")
    if s3 is not None:  # bucket names are global: release this account's
        owners = s3.s3_backends.bucket_accounts
        for bucket, (_, owner) in list(owners.items()):
            if owner == account_id:
                owners.pop(bucket, None)
