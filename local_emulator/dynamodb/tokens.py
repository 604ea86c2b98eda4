"""``ClientRequestToken`` on moto's ``TransactWriteItems``, as DynamoDB honours it.

moto ignores the token. DynamoDB remembers the token of a successful transaction for ten
minutes: the same request sent again with it succeeds without writing anything (so a
retry of an applied transaction whose answer was lost is a success), and another request
with the same token fails with ``IdempotentParameterMismatchException``. A harness that
ignored the token would hide code that reuses one token for two different requests (two
deliveries of one thing racing, each stamping its own time).
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from typing import Any

_INSTALL_LOCK = threading.Lock()
_MARK = "__stepline_request_tokens__"
WINDOW_SECONDS = 600.0
_tokens: dict[str, tuple[str, float, Any]] = {}  # token -> (request digest, until, answer)
_lock = threading.Lock()


def request_tokens() -> None:
    """Make moto's ``TransactWriteItems`` honour its token (idempotent, process-wide)."""
    from moto.dynamodb.responses import DynamoHandler

    with _INSTALL_LOCK:
        original = DynamoHandler.transact_write_items
        if getattr(original, _MARK, False):
            return

        @functools.wraps(original)
        def transact_write_items(self: Any) -> Any:
            token = self.body.get("ClientRequestToken")
            if not token:
                return original(self)
            digest = hashlib.sha256(
                json.dumps(self.body.get("TransactItems"), sort_keys=True).encode()
            ).hexdigest()
            now = time.monotonic()
            with _lock:
                seen = _tokens.get(token)
            if seen is not None and seen[1] > now:
                if seen[0] != digest:
                    raise _mismatch()
                return seen[2]  # applied before: a success, nothing written again
            answer = original(self)
            with _lock:
                _tokens[token] = (digest, now + WINDOW_SECONDS, answer)
                for old in [t for t, (_, until, _) in _tokens.items() if until <= now]:
                    del _tokens[old]
            return answer

        setattr(transact_write_items, _MARK, True)
        DynamoHandler.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _mismatch() -> Exception:
    from moto.dynamodb.exceptions import DynamodbException

    return DynamodbException(
        "IdempotentParameterMismatchException",
        "The request uses the same client token as a previous, but non-identical request.",
    )
