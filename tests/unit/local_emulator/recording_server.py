"""A small HTTP server on loopback that records every request and answers canned JSON.

It stands in for a deployed function URL: tests point the client at it and then check what
arrived on the wire (``verify_sigv4`` recomputes the signature from the recorded request).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # as sent: path and query string
    headers: dict[str, str]  # names in lower case
    body: bytes


@dataclass
class Answers:
    """``(method, path without query) -> (status, JSON body)``; anything else is a 404."""

    routes: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)


def _handler(answers: Answers) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            answers.requests.append(Recorded(self.command, self.path, headers, body))
            key = (self.command, self.path.partition("?")[0])
            status, value = answers.routes.get(key, (404, {"message": "no such route"}))
            raw = json.dumps(value).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def recording_server(answers: Answers) -> Iterator[str]:
    """Serve ``answers`` on 127.0.0.1 (any port) and yield the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answers))
    # A short poll interval: shutdown() returns within it instead of within half a second.
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _authorization(header: str) -> dict[str, str]:
    algorithm, _, fields = header.partition(" ")
    assert algorithm == "AWS4-HMAC-SHA256", header
    return dict(item.strip().split("=", 1) for item in fields.split(","))


def verify_sigv4(
    recorded: Recorded, credentials: ReadOnlyCredentials, region: str, service: str = "lambda"
) -> list[str]:
    """Assert ``recorded`` carries a valid SigV4 signature; return the signed header names.

    The signature is recomputed with botocore from what the server received (method, path and
    query as sent, the signed headers' values, the body) and the same credentials, so a header
    the HTTP client changed, a path it re-encoded or a body other than the one signed fails.
    """
    auth = _authorization(recorded.headers["authorization"])
    signed = auth["SignedHeaders"].split(";")
    timestamp = recorded.headers["x-amz-date"]
    scope = f"{credentials.access_key}/{timestamp[:8]}/{region}/{service}/aws4_request"
    assert auth["Credential"] == scope
    assert recorded.headers["x-amz-content-sha256"] == hashlib.sha256(recorded.body).hexdigest()
    request = AWSRequest(
        method=recorded.method,
        url=f"http://{recorded.headers['host']}{recorded.path}",
        data=recorded.body,
        headers={name: recorded.headers[name] for name in signed},
    )
    request.context["timestamp"] = timestamp
    signer = SigV4Auth(credentials, service, region)
    expected = signer.signature(
        signer.string_to_sign(request, signer.canonical_request(request)), request
    )
    assert auth["Signature"] == expected, "the signature does not match the request received"
    return signed
