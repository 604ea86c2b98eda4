"""The app's HTTP API on localhost: each request becomes the event a Function URL sends.

The function behind the URL runs in an execution environment like any other; its
response (``statusCode``, ``headers``, ``body``) becomes the HTTP response.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_emulator.lambda_service import ACCOUNT, LambdaService
from sdk.clock import SystemClock
from sdk.ids import new_execution_id as new_request_id


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


class _Handler(BaseHTTPRequestHandler):
    server: HttpApiServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        return None

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
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

    def _send(self, status: int, headers: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle


class HttpApiServer(ThreadingHTTPServer):
    """Serves one function's URL on a loopback port, on a thread."""

    daemon_threads = True

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
