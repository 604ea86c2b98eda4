"""The emulator's AWS endpoint: moto's server, with Lambda's Invoke answered by the emulator.

One WSGI application on loopback. ``POST /2015-03-31/functions/{name}/invocations``
runs the function in an execution environment (moto would try Docker); every
other request goes to moto's own application, so boto3 and the AWS CLI see one
endpoint for DynamoDB, EventBridge, S3, CloudFormation and Lambda alike.

moto runs in this process, behind the server's threads: its DynamoDB requests are
serialized (``local_emulator.dynamodb``) so conditional writes are atomic, and every
request is sent to the gateway's own moto account (``local_emulator.accounts``), so
another emulator or an in-process fixture in the same process never sees its state.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

from local_emulator.accounts import ACCOUNT_HEADER
from local_emulator.dynamodb import serialize_writes
from local_emulator.events import EventDispatcher
from local_emulator.lambda_.service import FunctionNotFoundError, LambdaService

PUT_EVENTS = "AWSEvents.PutEvents"
INVOKE_PATH = re.compile(r"^/2015-03-31/functions/(?P<name>[^/]+)/invocations$")
# Services whose moto application depends on the signing service alone. moto works it
# out anew for every request, scanning its package directory as it does; we ask once.
CACHED_SERVICES = frozenset({"dynamodb", "events", "lambda", "scheduler", "sqs"})
STREAMS_TARGET = "DynamoDBStreams_"
ACCOUNT_ENVIRON_KEY = "HTTP_" + ACCOUNT_HEADER.upper().replace("-", "_")
STOP_SECONDS = 0.5  # how long stop() waits for in-flight requests, twice at most

StartResponse = Callable[..., Any]
logger = logging.getLogger("stepline.emulator")


class Gateway:
    """Routes Lambda invocations to the emulator and the rest to moto."""

    def __init__(self, account_id: str) -> None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        serialize_writes()
        self.account_id = account_id
        self._moto = DomainDispatcherApplication(create_backend_app)
        self._apps: dict[str, Any] = {}  # signing service -> moto's Flask app
        self.lambdas: LambdaService | None = None
        self.events: EventDispatcher | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        match = INVOKE_PATH.match(environ.get("PATH_INFO", ""))
        if match and environ["REQUEST_METHOD"] == "POST" and self.lambdas is not None:
            return self._invoke(unquote(match["name"]), environ, start_response)
        environ[ACCOUNT_ENVIRON_KEY] = self.account_id
        if environ.get("HTTP_X_AMZ_TARGET") == PUT_EVENTS and self.events is not None:
            return self._put_events(self.events, environ, start_response)
        result: Iterable[bytes] = self._moto_app(environ)(environ, start_response)
        return result

    def _put_events(
        self, events: EventDispatcher, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        """moto answers; then the accepted entries go to the rules' targets."""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(raw)
        answer: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            answer["ok"] = status.startswith("200")
            return start_response(status, headers, *rest)

        body = b"".join(self._moto_app(environ)(environ, capture))
        if answer.get("ok"):
            try:
                events.put_events(json.loads(raw), json.loads(body))
            except Exception:  # the caller's request succeeded; a dispatch bug is logged
                logger.exception("delivering put events failed")
        return [body]

    def _moto_app(self, environ: dict[str, Any]) -> Any:
        """moto's Flask application for this request."""
        service = signing_service(environ.get("HTTP_AUTHORIZATION", ""))
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(STREAMS_TARGET):
            service = "dynamodbstreams"  # signed as dynamodb, served by moto's streams
        if service not in CACHED_SERVICES:
            return self._moto.get_application(environ)
        app = self._apps.get(service) or self._moto.get_application(environ)
        self._apps[service] = app
        return app

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


def signing_service(authorization: str) -> str | None:
    """The service named in a SigV4 credential scope (``.../us-east-1/dynamodb/aws4_request``)."""
    try:
        scope = authorization.split(",")[0].split()[1]
        return scope.split("/")[3].lower()
    except IndexError:
        return None


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
    """The gateway served on a loopback port by waitress (threaded, with keep-alive).

    Werkzeug's development server closes the connection after every response, which
    costs each AWS request a new connection and a new thread.
    """

    def __init__(self, host: str, port: int, account_id: str) -> None:
        from waitress.server import create_server

        self.gateway = Gateway(account_id)
        self._server = create_server(
            self.gateway, host=host, port=port, threads=16, ident="stepline"
        )
        self._thread = threading.Thread(
            target=self._server.run, name="stepline-aws-endpoint", daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://{self._server.effective_host}:{self._server.effective_port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Close the listening socket and every open connection, then end the threads.

        Connections are closed on the server's own thread (waitress's trigger), which
        then finds nothing left to serve and returns; a client holding a keep-alive
        connection cannot keep it waiting.
        """
        from waitress import wasyncore

        server = self._server
        if self._thread.is_alive():
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
            self._thread.join(timeout=STOP_SECONDS)
        else:
            wasyncore.close_all(server._map)
        server.task_dispatcher.shutdown(timeout=STOP_SECONDS)
