"""Which AWS errors are transient: worth retrying the invocation, never the workflow's fault.

The codes are botocore's own (what its standard retry mode retries), so the engine and
botocore agree; connection errors and timeouts count too.
"""

from __future__ import annotations

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError
from botocore.retries.standard import ThrottledRetryableChecker, TransientRetryableChecker

_THROTTLED: list[str] = getattr(ThrottledRetryableChecker, "_THROTTLED_ERROR_CODES", [])
_TRANSIENT: list[str] = getattr(TransientRetryableChecker, "_TRANSIENT_ERROR_CODES", [])
THROTTLING_CODES = frozenset(_THROTTLED) | {"TooManyRequestsException", "ThrottlingException"}
TRANSIENT_CODES = THROTTLING_CODES | frozenset(_TRANSIENT) | {"InternalServerError"}
TRANSIENT_NAMES = frozenset({"TransientInfrastructureError", *TRANSIENT_CODES})


def is_transient(exc: BaseException) -> bool:
    """Throttling, a 5xx, a dropped connection or a timeout, here or in the cause chain."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ConnectionError | HTTPClientError):
            return True
        if isinstance(seen, ClientError):
            error = seen.response.get("Error", {})
            status = seen.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if error.get("Code") in TRANSIENT_CODES or status >= 500:
                return True
        seen = seen.__cause__
    return False


def names_transient_error(error_type: str, message: str) -> bool:
    """Does a Lambda error record (``errorType``, ``errorMessage``) name a transient error?"""
    return error_type in TRANSIENT_NAMES or any(f"({code})" in message for code in TRANSIENT_CODES)
