"""The app's HTTP API on localhost: each request becomes the event a Function URL sends.

The function behind the URL runs in an execution environment like any other; its
response (``statusCode``, ``headers``, ``body``) becomes the HTTP response. HTTP/1.1 with
keep-alive; every method the function may answer (HEAD and OPTIONS included) reaches it.
A request whose framing is broken never does: a malformed, negative or conflicting
``Content-Length`` is a 400, a chunked body a 411, a body over 6 MB a 413, and a body
shorter than announced a 400 once ``read_timeout`` has passed; each closes the connection.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_emulator.lambda_.service import ACCOUNT, LambdaService
from sdk.clock import SystemClock
from sdk.ids import new_execution_id as new_request_id

MAX_REQUEST_BYTES = 6 * 1024 * 1024  # a Function URL's request limit, 6 MB
READ_SECONDS = 2.0  # a request's body must arrive within this once its headers have
IDLE_SECONDS = 60.0  # a keep-alive connection may wait this long for its next request
_LENGTH = re.compile(r"[0-9]{1,12}")


def function_url_event(
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes,
    host: str = "localhost",
    account: str = ACCOUNT,
) -> dict[str, Any]:
    """The Lambda event (payload format 2.0) a Function URL sends for one request."""
    url = urlsplit(target)
    now = SystemClock().now()
    try:
        text, encoded = body.decode(), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": url.path or "/",
        "rawQueryString": url.query,
        "headers": {name.lower(): value for name, value in headers.items()},
        "requestContext": {
            "accountId": account,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": url.path or "/",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": new_request_id(),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if url.query:
        params: dict[str, str] = {}
        for name, value in parse_qsl(url.query, keep_blank_values=True):
            params[name] = f"{params[name]},{value}" if name in params else value
        event["queryStringParameters"] = params
    if body:
        event["body"] = text
    return event


class RefusedRequest(Exception):
    """The request's framing is broken: answered with ``status`` and the connection closed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class _Handler(BaseHTTPRequestHandler):
    server: HttpApiServer
    protocol_version = "HTTP/1.1"  # keep-alive: a client reuses its connection
    timeout = IDLE_SECONDS  # an idle keep-alive connection is closed after this

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        return None

    def _handle(self) -> None:
        try:
            body = self._read_body(self._content_length())
        except RefusedRequest as refused:
            self.close_connection = True  # the next request's start is unknown
            error = {"error": HTTPStatus(refused.status).phrase, "message": str(refused)}
            headers = {"Content-Type": "application/json", "Connection": "close"}
            self._send(refused.status, headers, json.dumps(error).encode())
            return
        event = function_url_event(
            self.command, self.path, dict(self.headers.items()), body, account=self.server.account
        )
        result = self.server.lambdas.invoke(self.server.function, event)
        if not result.ok:
            payload = json.dumps({"message": "Internal Server Error"}).encode()
            self._send(502, {"Content-Type": "application/json"}, payload)
            return
        response = result.payload if isinstance(result.payload, dict) else {"body": result.payload}
        raw = response.get("body") or ""
        data = base64.b64decode(raw) if response.get("isBase64Encoded") else str(raw).encode()
        self._send(int(response.get("statusCode", 200)), response.get("headers") or {}, data)

    def _content_length(self) -> int:
        """The announced body length: digits only, one value, within the limit."""
        if "Transfer-Encoding" in self.headers:
            raise RefusedRequest(411, "send the body with a Content-Length, not chunked")
        values = {value.strip() for value in self.headers.get_all("Content-Length") or []}
        if not values:
            return 0
        if len(values) > 1:
            raise RefusedRequest(400, f"conflicting Content-Length headers: {sorted(values)}")
        [value] = values
        if not _LENGTH.fullmatch(value):
            raise RefusedRequest(
                400, f"Content-Length must be a whole number of bytes, got {value[:40]!r}"
            )
        length = int(value)
        if length > self.server.max_body_bytes:
            raise RefusedRequest(
                413, f"the body is {length} bytes; at most {self.server.max_body_bytes} are taken"
            )
        return length

    def _read_body(self, length: int) -> bytes:
        """``length`` bytes of body, all within the server's read timeout."""
        deadline = time.monotonic() + self.server.read_timeout
        chunks: list[bytes] = []
        received = 0
        try:
            while received < length:
                self.connection.settimeout(max(deadline - time.monotonic(), 0.001))
                chunk = self.rfile.read1(length - received)
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
        except TimeoutError:
            pass
        finally:
            self.connection.settimeout(self.timeout)
        if received < length:
            raise RefusedRequest(
                400,
                f"the body ended after {received} of the {length} bytes its Content-Length "
                f"announced (waited {self.server.read_timeout:g}s)",
            )
        return b"".join(chunks)

    def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
        try:
            self._write(status, headers, data)
        except (BrokenPipeError, ConnectionResetError):
            # the client went away before its answer (a browser leaving a page mid long
            # poll): nothing to answer, and nothing worth a traceback
            self.close_connection = True

    def _write(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        if self.command != "HEAD":  # a HEAD response has no body, whatever it says
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_HEAD = do_OPTIONS = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class HttpApiServer(ThreadingHTTPServer):
    """Serves one function's URL on a loopback port, on a thread.

    A thread per connection, keep-alive, and a listen backlog deep enough for a burst of
    clients connecting at once (the stdlib's default of 5 drops them). Requests wait
    for a free execution environment of the function, as on Lambda up to its limit.
    """

    daemon_threads = True
    request_queue_size = 256  # the listen backlog
    read_timeout = READ_SECONDS  # the whole body must arrive within this
    max_body_bytes = MAX_REQUEST_BYTES

    def __init__(self, host: str, port: int, lambdas: LambdaService, function: str) -> None:
        super().__init__((host, port), _Handler)
        self.lambdas = lambdas
        self.function = function
        arn = lambdas.pool(function).function.arn  # arn:aws:lambda:region:account:function:name
        self.account = arn.split(":")[4] if arn else ACCOUNT
        self._thread = threading.Thread(
            target=self.serve_forever, name="stepline-http-api", daemon=True
        )
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, and end open connections so no handler thread outlives the server."""
        self.shutdown()
        self.server_close()
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:  # the client was gone already
                pass
        self._thread.join(timeout=10)
