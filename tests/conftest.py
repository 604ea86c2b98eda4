"""Fixtures shared by all tests: the two journals, a virtual clock, and a harness.

The journal is never mocked: ``journal`` is parametrized over the in-memory
journal and DynamoDB on moto, the table built from ``sdk.journal.schema``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sdk import VirtualClock, Workflow
from sdk.journal import Journal, MemoryJournal
from sdk.journal.dynamodb import DynamoJournal
from sdk.journal.schema import table_definition
from tests.support import CALLS, TABLE, Harness

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}.items():
    os.environ[_name] = _value


_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: Any) -> bool:
    if host in ("localhost", None):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _loopback_only(sock: socket.socket, address: Any) -> None:
    """Tests never leave the machine: a connection anywhere but loopback is an error."""
    if isinstance(address, tuple) and not _is_loopback(address[0]):
        raise OSError(f"tests may not reach the network (tried {address!r})")
    _real_connect(sock, address)


def _resolve_loopback_only(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _is_loopback(host.decode() if isinstance(host, bytes) else host):
        raise OSError(f"tests may not reach the network (tried to resolve {host!r})")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _loopback_only  # type: ignore[method-assign]
socket.getaddrinfo = _resolve_loopback_only


@pytest.fixture(autouse=True)
def reset_calls() -> Iterator[None]:
    """Every test starts with an empty side-effect log (``tests.support.CALLS``)."""
    CALLS.clear()
    yield


@pytest.fixture
def dynamodb_client() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**table_definition(TABLE))
        yield client


@pytest.fixture(params=["memory", "dynamodb"])
def journal(request: pytest.FixtureRequest) -> Journal:
    if request.param == "memory":
        return MemoryJournal()
    return DynamoJournal(request.getfixturevalue("dynamodb_client"), TABLE)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def harness(journal: Journal, clock: VirtualClock) -> Callable[..., Harness]:
    """``harness(*workflows, always_replay=False)`` -> a ``Harness`` on this test's journal."""

    def build(*workflows: Workflow[Any], always_replay: bool = False) -> Harness:
        return Harness.build(journal, clock, workflows, always_replay=always_replay)

    return build
