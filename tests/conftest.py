"""Fixtures shared by all tests: the two journals, a virtual clock, and a harness.

The journal is never mocked: ``journal`` is parametrized over the in-memory
journal and DynamoDB on moto, the table built from ``sdk.journal.schema``.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_emulator.dynamodb import serialize_writes
from sdk import VirtualClock, Workflow
from sdk.journal import Journal, MemoryJournal
from sdk.journal.dynamodb import DynamoJournal
from sdk.journal.schema import table_definition
from tests.support import CALLS, TABLE, Harness

_FAKE_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
# What the environment held before the fakes: the `real_aws` fixture gives it back.
_REAL_AWS_ENV = {name: os.environ.get(name) for name in _FAKE_AWS_ENV}
os.environ.update(_FAKE_AWS_ENV)
AWS_TESTS = os.environ.get("STEPLINE_AWS_TESTS") == "1"


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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``aws`` run only with STEPLINE_AWS_TESTS=1 (they deploy to a real account)."""
    if AWS_TESTS:
        return
    skip = pytest.mark.skip(reason="deploys to a real AWS account: set STEPLINE_AWS_TESTS=1")
    for item in items:
        if item.get_closest_marker("aws") is not None:
            item.add_marker(skip)


@pytest.fixture
def real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """For ``aws`` tests: the credentials and region pytest started with, and the network."""
    assert AWS_TESTS, "real_aws is for tests marked aws"
    for name, value in _REAL_AWS_ENV.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(socket.socket, "connect", _real_connect)
    monkeypatch.setattr(socket, "getaddrinfo", _real_getaddrinfo)


@pytest.fixture(autouse=True)
def reset_calls() -> Iterator[None]:
    """Every test starts with an empty side-effect log (``tests.support.CALLS``)."""
    CALLS.clear()
    yield


@pytest.fixture
def dynamodb_client() -> Iterator[Any]:
    """DynamoDB on moto in this process, conditional writes atomic as on AWS."""
    serialize_writes()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**table_definition(TABLE))
        yield client


@pytest.fixture
def moto_race_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make racing DynamoDB requests on moto interleave at their worst point, every time.

    moto reads an item, checks the condition and writes it in separate Python steps,
    and the GIL seldom switches threads in between, so a race that breaks a
    non-atomic conditional write shows up once in fifty tries. Here moto yields the
    GIL (``sleep(0)``, a yield, not a wait) right after it reads an item and right
    before it applies an update: racing requests all read before any of them writes,
    unless the requests are serialized (``local_emulator.dynamodb``).
    """
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.parsing.validators import UpdateExpressionValidator

    read = Table.get_item
    validate = UpdateExpressionValidator.validate

    def read_then_yield(self: Any, *args: Any, **kwargs: Any) -> Any:
        item = read(self, *args, **kwargs)
        time.sleep(0)
        return item

    def yield_then_validate(self: Any, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0)
        return validate(self, *args, **kwargs)

    monkeypatch.setattr(Table, "get_item", read_then_yield)
    monkeypatch.setattr(UpdateExpressionValidator, "validate", yield_then_validate)


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
    """``harness(*workflows, always_replay=False, live_steps=False)`` -> a ``Harness`` on
    this test's journal."""

    def build(
        *workflows: Workflow[Any], always_replay: bool = False, live_steps: bool = False
    ) -> Harness:
        return Harness.build(
            journal, clock, workflows, always_replay=always_replay, live_steps=live_steps
        )

    return build
