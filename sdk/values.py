"""Where values past DynamoDB's item limit live: a ``ValueStore``.

A journal given a store keeps a value that would not fit its item (an input, a step
result, an output) in the store, up to the store's ``max_bytes`` (10 MB by default),
and records a small ``ValueRef`` (location, size, SHA-256) in its place; a load
fetches the value back and checks it. Keys are deterministic (execution id and step
key), so a retried write puts the same object again. Without a store, values past the
item limit are refused with a ``SerializationError`` naming them.

``S3ValueStore`` keeps them in an S3 bucket (the stack's ``ValuesBucket``);
``MemoryValueStore`` in a dictionary, for tests and benchmarks.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from sdk.errors import SerializationError
from sdk.sizes import DEFAULT_MAX_VALUE

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True, slots=True)
class ValueRef:
    """Where a stored value is: ``location`` (``bucket/key`` on S3), its size and hash."""

    location: str
    size: int
    sha256: str

    def to_item(self) -> dict[str, Any]:
        """The reference as a DynamoDB map attribute's value."""
        return {
            "loc": {"S": self.location},
            "size": {"N": str(self.size)},
            "sha256": {"S": self.sha256},
        }

    @classmethod
    def from_item(cls, attrs: dict[str, Any]) -> ValueRef:
        return cls(str(attrs["loc"]["S"]), int(attrs["size"]["N"]), str(attrs["sha256"]["S"]))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def value_key(execution_id: str, name: str) -> str:
    """The store key of one value of one execution (``name``: a step key, ``#input``...)."""
    return f"executions/{execution_id}/{name}"


def check_value(ref: ValueRef, data: bytes) -> bytes:
    """``data`` if it is the value ``ref`` names; a ``SerializationError`` if not."""
    if len(data) != ref.size or digest(data) != ref.sha256:
        raise SerializationError(
            f"the stored value at {ref.location} does not match its reference "
            f"({len(data)} bytes, expected {ref.size} with SHA-256 {ref.sha256[:12]}...)"
        )
    return data


class ValueStore(Protocol):
    """Stores values too large for a journal item."""

    @property
    def max_bytes(self) -> int:
        """The largest value it takes."""
        ...

    def put(self, key: str, data: bytes) -> ValueRef:
        """Store ``data`` at ``key`` (overwriting the same value on a retry)."""
        ...

    def get(self, ref: ValueRef) -> bytes:
        """The value ``ref`` names, checked against its size and hash."""
        ...


class MemoryValueStore:
    """A ``ValueStore`` in a dictionary."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_VALUE) -> None:
        self._max_bytes = max_bytes
        self._lock = threading.Lock()
        self.objects: dict[str, bytes] = {}

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    def put(self, key: str, data: bytes) -> ValueRef:
        with self._lock:
            self.objects[key] = data
        return ValueRef(f"memory/{key}", len(data), digest(data))

    def get(self, ref: ValueRef) -> bytes:
        with self._lock:
            data = self.objects.get(ref.location.removeprefix("memory/"))
        if data is None:
            raise SerializationError(f"no stored value at {ref.location}")
        return check_value(ref, data)


class S3ValueStore:
    """A ``ValueStore`` in an S3 bucket, under ``prefix``."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        *,
        prefix: str = "",
        max_bytes: int = DEFAULT_MAX_VALUE,
    ) -> None:
        self._client = client
        self.bucket = bucket
        self._prefix = prefix
        self._max_bytes = max_bytes

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    def put(self, key: str, data: bytes) -> ValueRef:
        full_key = self._prefix + key
        self._client.put_object(
            Bucket=self.bucket, Key=full_key, Body=data, ContentType="application/json"
        )
        return ValueRef(f"{self.bucket}/{full_key}", len(data), digest(data))

    def get(self, ref: ValueRef) -> bytes:
        bucket, _, key = ref.location.partition("/")
        data = self._client.get_object(Bucket=bucket, Key=key)["Body"].read()
        return check_value(ref, data)
