"""A client leaving mid request (a browser leaving the web page during a long poll) costs the
emulator's HTTP API nothing: no traceback in ``stepline dev``'s output, the next request served."""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.template import synth
from local_emulator.api_client import ApiClient
from local_emulator.emulator import Emulator
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(synth(["examples"]), workdir=str(ROOT)) as running:
        yield running


def test_a_client_gone_before_its_long_poll_ends_leaves_no_traceback(
    emulator: Emulator, capfd: Any
) -> None:
    assert emulator.endpoints is not None
    api = ApiClient(emulator.endpoints.api)
    started = api.invoke("approval-workflow", {"request_id": "gone-1", "action": "a"})
    execution_id = started["execution_id"]
    eventually(lambda: api.execution(execution_id, steps=False)["status"],
               lambda s: s == "suspended")  # fmt: skip
    after = api.events(execution_id, None, 0)["last_sequence_id"]
    url = urlsplit(emulator.endpoints.api)
    leaving = socket.create_connection((url.hostname, url.port))
    request = f"GET /executions/{execution_id}/events?after={after}&wait=1 HTTP/1.1\r\n"
    leaving.sendall(f"{request}Host: {url.netloc}\r\n\r\n".encode())
    leaving.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    leaving.close()  # a reset, before the answer comes
    # a longer poll sent after it ends after it: by then the first answer met a closed socket
    assert api.events(execution_id, after, 2)["events"] == []
    assert "Traceback" not in capfd.readouterr().err
