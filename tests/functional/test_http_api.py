"""The emulator's HTTP API server under hostile input: broken framing, HEAD and OPTIONS,
refusals that reach the handler, and 64 clients at once. Loopback only."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from infra.template import synth
from local_emulator.api_client import ApiClient, ApiError
from local_emulator.emulator import Emulator
from local_emulator.http_api import READ_SECONDS

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
ORDER = {"order_id": "o-1", "amount": 42}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(synth(["examples"]), workdir=str(ROOT)) as running:
        yield running


@pytest.fixture
def address(emulator: Emulator) -> tuple[str, int]:
    assert emulator.endpoints is not None
    url = urlsplit(emulator.endpoints.api)
    assert url.hostname is not None and url.port is not None
    return url.hostname, url.port


@pytest.fixture
def api(emulator: Emulator) -> ApiClient:
    assert emulator.endpoints is not None
    return ApiClient(emulator.endpoints.api)


def exchange(address: tuple[str, int], request: bytes, *, close_send: bool = False) -> bytes:
    """Send ``request`` on a fresh connection; everything the server sends until it closes."""
    with socket.create_connection(address, timeout=READ_SECONDS + 10) as sock:
        sock.sendall(request)
        if close_send:
            sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def parse(raw: bytes) -> tuple[int, dict[str, str], Any]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), headers, json.loads(body) if body else None


def post(length: str, body: bytes = b"") -> bytes:
    return (
        b"POST /workflows/process-order/invoke HTTP/1.1\r\nHost: localhost\r\n"
        b"Content-Length: " + length.encode() + b"\r\n\r\n" + body
    )


@pytest.mark.parametrize(
    ("length", "message"),
    [
        ("abc", "Content-Length must be a whole number of bytes, got 'abc'"),
        ("-5", "Content-Length must be a whole number of bytes, got '-5'"),
        ("0x10", "got '0x10'"),
        ("1 2", "got '1 2'"),
    ],
)
def test_a_malformed_content_length_is_a_400_and_the_connection_closes(
    address: tuple[str, int], length: str, message: str
) -> None:
    status, headers, body = parse(exchange(address, post(length, b"{}")))
    assert status == 400 and headers["Connection"] == "close"
    assert message in body["message"]


def test_conflicting_content_lengths_are_a_400(address: tuple[str, int]) -> None:
    request = post("2", b"{}").replace(b"\r\n\r\n", b"\r\nContent-Length: 3\r\n\r\n", 1)
    status, _, body = parse(exchange(address, request))
    assert status == 400 and "conflicting Content-Length headers" in body["message"]


def test_a_body_over_six_megabytes_is_a_413_before_it_is_sent(address: tuple[str, int]) -> None:
    status, _, body = parse(exchange(address, post(str(7 * 1024 * 1024))))
    assert status == 413 and "at most 6291456 are taken" in body["message"]


def test_a_body_shorter_than_announced_is_a_400_after_the_read_timeout(
    address: tuple[str, int],
) -> None:
    status, _, body = parse(exchange(address, post("100", b'{"payload": 1')))
    assert status == 400
    assert body["message"] == (
        "the body ended after 13 of the 100 bytes its Content-Length announced "
        f"(waited {READ_SECONDS:g}s)"
    )


def test_a_body_cut_short_by_the_client_is_a_400_at_once(address: tuple[str, int]) -> None:
    status, _, body = parse(exchange(address, post("100", b'{"payload": 1'), close_send=True))
    assert status == 400 and "ended after 13 of the 100 bytes" in body["message"]


def test_head_is_get_without_a_body_and_the_connection_stays_usable(
    address: tuple[str, int],
) -> None:
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        connection.request("HEAD", "/workflows")
        head = connection.getresponse()
        assert (head.status, head.read()) == (200, b"")
        assert head.getheader("Content-Type") == "application/json"
        connection.request("GET", "/workflows")
        got = connection.getresponse()
        assert got.status == 200 and json.loads(got.read())["workflows"]
    finally:
        connection.close()


def test_options_is_answered_with_allow(address: tuple[str, int]) -> None:
    connection = http.client.HTTPConnection(*address, timeout=30)
    try:
        connection.request("OPTIONS", "/executions/abc/cancel")
        response = connection.getresponse()
        assert (response.status, response.read()) == (204, b"")
        assert response.getheader("Allow") == "POST, OPTIONS"
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 10_000 + b"]" * 10_000, "nests deeper than 100 arrays or objects"),
        (b'{"payload": {"amount": ' + b"7" * 5_000 + b"}}", "a number of 5000 digits"),
        (b'{"payload": "\xff\xfe"}', "not UTF-8: byte 0xff at offset 13"),
        (
            json.dumps({"payload": ORDER, "execution_id": "x" * 3_000}).encode(),
            "is 3000 characters long; the limit is 200",
        ),
        (json.dumps({"payload": ORDER, "execution_id": "order 1"}).encode(), "contains ' '"),
    ],
)
def test_a_refused_invoke_is_a_400_and_creates_no_execution(
    address: tuple[str, int], api: ApiClient, body: bytes, message: str
) -> None:
    before = len(api.executions(None, None, 1000))
    raw = post(str(len(body)), body).replace(b"HTTP/1.1\r\n", b"HTTP/1.1\r\nConnection: close\r\n")
    status, _, answer = parse(exchange(address, raw))
    assert status == 400 and message in answer["message"]
    assert len(api.executions(None, None, 1000)) == before


def test_a_chosen_execution_id_round_trips_through_the_url(api: ApiClient) -> None:
    started = api.invoke("process-order", ORDER, execution_id="order:7.a_b-c")
    assert started["execution_id"] == "order:7.a_b-c"  # ':' travels as %3A
    assert api.execution("order:7.a_b-c", steps=False)["execution_id"] == "order:7.a_b-c"
    assert api.cancel("order:7.a_b-c")["execution_id"] == "order:7.a_b-c"


def test_reading_an_id_breaking_the_rule_is_a_400_naming_it(api: ApiClient) -> None:
    with pytest.raises(ApiError, match=r"'order 7' contains ' '.*\(HTTP 400\)"):
        api.execution("order 7")


def test_64_clients_with_keep_alive_connections_are_all_answered(
    address: tuple[str, int],
) -> None:
    targets = ["/workflows", "/executions?limit=1", "/executions/nope"] * 2

    def client(_: int) -> list[int]:
        connection = http.client.HTTPConnection(*address, timeout=60)
        statuses, ports = [], set()
        try:
            for target in targets:
                connection.request("GET", target)
                assert connection.sock is not None
                ports.add(connection.sock.getsockname()[1])
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
        finally:
            connection.close()
        assert len(ports) == 1  # one connection for all six requests
        return statuses

    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(client, range(64)))
    assert results == [[200, 200, 404] * 2] * 64
