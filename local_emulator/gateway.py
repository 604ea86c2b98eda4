"""The emulator's AWS endpoint: moto's server, with Lambda's Invoke answered by the emulator.

One WSGI application on loopback. ``POST /2015-03-31/functions/{name}/invocations``
runs the function in an execution environment (moto would try Docker); every
other request goes to moto's own application, so boto3 and the AWS CLI see one
endpoint for DynamoDB, EventBridge, S3, CloudFormation and Lambda alike.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from werkzeug.serving import BaseWSGIServer, make_server

from local_emulator.lambda_service import FunctionNotFoundError, LambdaService

INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")

StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class Gateway:
    """Routes Lambda invocations to the emulator and the rest to moto."""

    def __init__(self) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        self._moto: WSGIApp = DomainDispatcherApplication(create_backend_app)
        self.lambdas: LambdaService | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if match and environ["REQUEST_METHOD"] == "POST" and self.lambdas is not None:
            return self._invoke(unquote(match["name"]), environ, start_response)
        return self._moto(environ, start_response)

    def _invoke(
        self, name: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        assert self.lambdas is not None
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            return _respond(
                start_response,
                "400 Bad Request",
                _error("InvalidRequestContentException", "Could not parse request body into json"),
            )  # noqa: E501
        kind = environ.get("HTTP_X_AMZ_INVOCATION_TYPE", "RequestResponse")
        try:
            if kind == "Event":
                self.lambdas.invoke_async(name, payload)
                return _respond(start_response, "202 Accepted", b"")
            if kind == "DryRun":
                self.lambdas.pool(name)
                return _respond(start_response, "204 No Content", b"")
            result = self.lambdas.invoke(name, payload)
        except FunctionNotFoundError as exc:
            return _respond(
                start_response, "404 Not Found", _error("ResourceNotFoundException", str(exc))
            )  # noqa: E501
        headers = [("X-Amz-Executed-Version", "$LATEST")]
        if not result.ok:
            headers.append(("X-Amz-Function-Error", "Unhandled"))
            body = json.dumps(result.payload or result.error_payload()).encode()
        else:
            body = json.dumps(result.payload).encode()
        return _respond(start_response, "200 OK", body, headers)


def _error(code: str, message: str) -> tuple[bytes, list[tuple[str, str]]]:
    return json.dumps({"Type": "User", "Message": message}).encode(), [("x-amzn-ErrorType", code)]


def _respond(
    start_response: StartResponse,
    status: str,
    body: bytes | tuple[bytes, list[tuple[str, str]]],
    headers: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    extra = list(headers or [])
    if isinstance(body, tuple):
        body, more = body
        extra += more
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *extra],
    )
    return [body]


class GatewayServer:
    """The gateway served on a loopback port, on a thread."""

    def __init__(self, host: str, port: int) -> None:
        from moto.moto_server.werkzeug_app import MotoRequestHandler

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per AWS request
        self.gateway = Gateway()
        self._server: BaseWSGIServer = make_server(
            host, port, self.gateway, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="stepline-aws-endpoint", daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
