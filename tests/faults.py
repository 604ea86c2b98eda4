"""Fault injection for the AWS calls a boto3 client makes, for failure-path tests and campaigns.

``FaultInjector(rng, rate)`` hooks a client's ``before-send`` event, the last point before a
request leaves botocore, once per attempt. For a seeded fraction ``rate`` of the attempts
(optionally only some operations) it injects one fault instead of the service's answer:

- ``THROTTLE``: the service's throttling error (DynamoDB: HTTP 400
  ``ProvisionedThroughputExceededException`` or ``ThrottlingException``; Lambda: 429
  ``TooManyRequestsException``). Not applied.
- ``SERVER_ERROR``: HTTP 500 (DynamoDB ``InternalServerError``, Lambda ``ServiceException``).
  Not applied.
- ``CONNECTION_ERROR``: botocore's ``EndpointConnectionError``; the request never left.
- ``LOST_RESPONSE``: the request reaches the backend and is applied, then the client sees
  ``ConnectionClosedError`` or ``ReadTimeoutError``, so botocore sends it again. The retry of
  a conditional write then fails its condition: the case the engine must recognise.

botocore retries all four in standard mode (``botocore/retries/standard.py``): throttling
codes, including ``TooManyRequestsException``, by error code; 500/502/503/504 by status;
``ConnectionError`` and ``HTTPClientError`` subclasses as transient. Three more facts:

- ``Config(retries={"max_attempts": 5})`` counts *retries*, so ``client_config()`` makes up
  to 6 attempts per call (the ``amz-sdk-request`` header says ``max=6``).
- Each client has a retry quota of 500. A retry after a throttle costs 5, after any other
  error 14; a call that succeeds first time gives 1 back; one that succeeds after retries
  gives back what its last retry cost. Nothing comes back when the call ends in an error,
  so a lost response whose retry fails its condition costs 14 for good. Once the quota is
  empty, retryable errors surface at once: no retry, no sleep. ``FaultedCall`` records
  when that happened (``retry_quota_exhausted``). Keep rates moderate (about 5-10%),
  use ``faults_per_call``, or build fresh clients when a campaign must never hit it.
- Between attempts botocore really sleeps (``botocore.endpoint`` calls ``time.sleep``):
  up to 1 s, 2 s, 4 s... after a throttle, from 25 ms after other DynamoDB errors.
  ``skip_backoff()`` records those delays instead of sleeping them.

Where requests are answered. botocore calls *every* ``before-send`` handler, even after one
returned a response, and moto answers requests from a ``before-send`` handler of its own: an
injected throttle returned before moto's handler would not stop moto from applying the
write. ``attach`` therefore takes moto's handler off the client and forwards requests itself:
to the ``backend`` given (e.g. ``AsyncLambda.lambda_api``), else to moto while a mock is
active (one request at a time, so that conditional writes are atomic as on AWS, which moto
alone does not guarantee), else botocore sends them over HTTP as usual (an endpoint such as
the emulator; a lost response is then sent with botocore's ``URLLib3Session`` and its answer
dropped).

Crashes. ``KillSwitch`` (armed by ``tests.lambda_model``) kills one invocation attempt at its
n-th AWS request: that request is applied or not, it raises ``InvocationKilled``, and so does
every later request of the attempt, since a dead process sends nothing.

Determinism: decisions are drawn from ``rng`` in request order, so a seed replays the same
faults whenever the requests come in the same order (one thread at a time).
"""

from __future__ import annotations

import collections
import contextvars
import json
import random
import threading
import weakref
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from io import BytesIO
from typing import Any, Literal
from xml.sax.saxutils import escape

import botocore.endpoint
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError
from botocore.httpsession import URLLib3Session

Backend = Callable[[str, AWSPreparedRequest], AWSResponse | None]
"""Answers one request: ``(operation name, prepared request) -> response``, or ``None``."""


class FaultKind(StrEnum):
    THROTTLE = "throttle"
    SERVER_ERROR = "server_error"
    CONNECTION_ERROR = "connection_error"
    LOST_RESPONSE = "lost_response"
    CRASH = "crash"  # only from a KillSwitch, never drawn by rate


INJECTABLE: tuple[FaultKind, ...] = (
    FaultKind.THROTTLE,
    FaultKind.SERVER_ERROR,
    FaultKind.CONNECTION_ERROR,
    FaultKind.LOST_RESPONSE,
)
DYNAMODB_WRITES = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)


@dataclass(frozen=True)
class ErrorReply:
    """An error response a service sends."""

    code: str
    status: int
    message: str


_THROTTLES: dict[str, tuple[ErrorReply, ...]] = {
    "dynamodb": (
        ErrorReply(
            "ProvisionedThroughputExceededException",
            400,
            "The level of configured provisioned throughput for the table was exceeded.",
        ),
        ErrorReply(
            "ThrottlingException",
            400,
            "Throughput exceeds the current capacity of your table or index.",
        ),
    ),
    "lambda": (ErrorReply("TooManyRequestsException", 429, "Rate Exceeded."),),
}
_DEFAULT_THROTTLES = (ErrorReply("ThrottlingException", 400, "Rate exceeded"),)
_SERVER_ERRORS = {
    "dynamodb": ErrorReply("InternalServerError", 500, "Internal server error"),
    "lambda": ErrorReply("ServiceException", 500, "Internal error, please retry."),
}
_DEFAULT_SERVER_ERROR = ErrorReply("InternalFailure", 500, "Internal failure, please retry.")


_PROTOCOLS = frozenset({"json", "rest-json", "query", "ec2", "rest-xml"})
# The injector of each hooked client (a second one would forward every request again).
_ATTACHED: weakref.WeakKeyDictionary[Any, FaultInjector] = weakref.WeakKeyDictionary()


class _Body(BytesIO):
    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.read()


def make_response(url: str, status: int, headers: dict[str, str], body: bytes) -> AWSResponse:
    """An ``AWSResponse`` as if it came off the wire."""
    wire_headers = HTTPHeaders()
    for name, value in headers.items():
        wire_headers[name] = value
    return AWSResponse(url, status, wire_headers, _Body(body))


def request_body(request: AWSPreparedRequest) -> bytes:
    """The body of a prepared request, as bytes."""
    body = request.body
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    return body.encode() if isinstance(body, str) else b""


def error_response(protocol: str, service: str, url: str, reply: ErrorReply) -> AWSResponse:
    """``reply`` in the wire format of ``protocol``, as the service would send it."""
    headers = {"x-amzn-RequestId": "stepline-fault-injected"}
    if protocol not in _PROTOCOLS:
        raise NotImplementedError(f"no error responses for the {protocol!r} protocol")
    if protocol == "json":
        prefix = "com.amazonaws.dynamodb.v20120810#" if service == "dynamodb" else ""
        headers["Content-Type"] = "application/x-amz-json-1.0"
        body = {"__type": prefix + reply.code, "message": reply.message}
    elif protocol == "rest-json":
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = reply.code
        body = {"Type": "User" if reply.status < 500 else "Service", "message": reply.message}
    else:
        xml = (
            f"<ErrorResponse><Error><Code>{escape(reply.code)}</Code>"
            f"<Message>{escape(reply.message)}</Message></Error></ErrorResponse>"
        )
        return make_response(url, reply.status, {"Content-Type": "text/xml"}, xml.encode())
    return make_response(url, reply.status, headers, json.dumps(body).encode())


@dataclass(frozen=True)
class InjectedFault:
    """One fault, in the order injected."""

    service: str
    operation: str
    kind: FaultKind
    attempt: int
    detail: str  # the error code or exception raised


@dataclass(frozen=True)
class FaultedCall:
    """How an API call that met at least one fault ended, as its caller saw it."""

    service: str
    operation: str
    faults: tuple[FaultKind, ...]
    attempts: int
    outcome: str  # "ok", an error code, or an exception type
    surfaced: bool  # the caller got the injected fault itself (botocore gave up)
    retry_quota_exhausted: bool


class InvocationKilled(BaseException):
    """The simulated process of a Lambda invocation died (see ``KillSwitch``).

    A ``BaseException``, so that ``except Exception`` in the code under test does not
    swallow it; every later AWS request of the dead attempt raises it again.
    """


@dataclass
class KillSwitch:
    """Where one invocation attempt dies: at its ``die_at``-th AWS request (1-based).

    ``apply_fatal`` says whether that request still reached the service. ``die_at=None``
    never kills. Only requests through a client with a ``FaultInjector`` attached count.
    """

    die_at: int | None
    apply_fatal: bool = False
    requests: int = 0
    dead: bool = False
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def on_request(self) -> Literal["live", "dies", "dead"]:
        with self._lock:
            if self.dead:
                return "dead"
            self.requests += 1
            if self.die_at is not None and self.requests >= self.die_at:
                self.dead = True
                return "dies"
            return "live"


_KILL_SWITCH: contextvars.ContextVar[KillSwitch | None] = contextvars.ContextVar(
    "stepline_kill_switch", default=None
)


@contextmanager
def armed(switch: KillSwitch) -> Iterator[KillSwitch]:
    """Requests made in this context (and its tasks and ``to_thread`` calls) obey ``switch``."""
    token = _KILL_SWITCH.set(switch)
    try:
        yield switch
    finally:
        _KILL_SWITCH.reset(token)


class BackoffRecorder:
    """Stands in for ``time`` in ``botocore.endpoint``: records retry delays, never sleeps."""

    def __init__(self) -> None:
        self.delays: list[float] = []
        self._lock = threading.Lock()

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.delays.append(seconds)

    def __getattr__(self, name: str) -> Any:
        import time

        return getattr(time, name)


@contextmanager
def skip_backoff() -> Iterator[BackoffRecorder]:
    """botocore's retry backoff is recorded instead of slept, in every thread, until exit."""
    recorder = BackoffRecorder()
    previous = getattr(botocore.endpoint, "time")  # noqa: B009  (untyped module attribute)
    setattr(botocore.endpoint, "time", recorder)  # noqa: B010
    try:
        yield recorder
    finally:
        setattr(botocore.endpoint, "time", previous)  # noqa: B010


# moto's conditional writes are not atomic under concurrent requests (DESIGN.md, section 4);
# DynamoDB's are. One request at a time through moto restores that.
_MOTO_LOCK = threading.Lock()


def _moto_stubber() -> Any:
    try:
        from moto.core.models import botocore_stubber
    except ImportError:  # moto not installed: requests go over HTTP
        return None
    return botocore_stubber


def _retry_header(request: AWSPreparedRequest) -> tuple[str, int]:
    """``(invocation id, attempt)`` from the headers botocore adds to every attempt."""

    def text(name: str) -> str:
        value = request.headers.get(name, b"")
        return value.decode() if isinstance(value, bytes) else str(value)

    fields: dict[str, str] = {}
    for part in text("amz-sdk-request").split(";"):
        key, _, value = part.strip().partition("=")
        fields[key] = value
    return text("amz-sdk-invocation-id"), int(fields.get("attempt") or 1)


@dataclass
class _OpenCall:
    service: str
    operation: str
    faults: list[FaultKind]
    last_faulted_attempt: int


class _Attachment:
    """The hooks of one injector on one client."""

    def __init__(self, injector: FaultInjector, client: Any, backend: Backend | None) -> None:
        model = client.meta.service_model
        self.injector = injector
        self.client = client
        self.service: str = model.service_id.hyphenize()
        self.protocol: str = model.resolved_protocol
        self.backend = backend
        self.moto = _moto_stubber()
        self._http: URLLib3Session | None = None

    def forward(self, event_name: str, request: AWSPreparedRequest) -> AWSResponse | None:
        """The backend's answer, or ``None`` to let botocore send the request over HTTP."""
        if self.backend is not None:
            return self.backend(event_name.rsplit(".", 1)[-1], request)
        if self.moto is not None:
            with _MOTO_LOCK:
                response: AWSResponse | None = self.moto(event_name, request)
            return response
        return None

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def apply(self, event_name: str, request: AWSPreparedRequest) -> None:
        """Have the request applied by whoever would answer it; drop the answer."""
        response = self.forward(event_name, request)
        if response is None:
            if self._http is None:
                self._http = URLLib3Session()
            response = self._http.send(request)
        _ = response.content  # read it all, as a client would before the line drops

    def before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> Any:
        operation = event_name.rsplit(".", 1)[-1]
        invocation, attempt = _retry_header(request)
        self._obey_kill_switch(event_name, request, operation, attempt, invocation)
        fault = self.injector._draw(self.service, operation, attempt, invocation)
        if fault is None:
            return self.forward(event_name, request)
        kind, detail = fault
        if kind in (FaultKind.THROTTLE, FaultKind.SERVER_ERROR):
            reply = self.injector._reply(self.service, kind, detail)
            return error_response(self.protocol, self.service, request.url, reply)
        if kind is FaultKind.CONNECTION_ERROR:
            raise EndpointConnectionError(endpoint_url=request.url)
        self.apply(event_name, request)
        if detail == "ReadTimeoutError":
            raise ReadTimeoutError(endpoint_url=request.url)
        raise ConnectionClosedError(endpoint_url=request.url, request=request)

    def _obey_kill_switch(
        self,
        event_name: str,
        request: AWSPreparedRequest,
        operation: str,
        attempt: int,
        invocation: str,
    ) -> None:
        switch = _KILL_SWITCH.get()
        if switch is None:
            return
        state = switch.on_request()
        if state == "live":
            return
        if state == "dies":
            applied = "applied" if switch.apply_fatal else "not applied"
            self.injector._note(self.service, operation, FaultKind.CRASH, attempt, applied, "")
            if switch.apply_fatal:
                self.apply(event_name, request)
        raise InvocationKilled(f"the invocation died at {self.service}.{operation}")

    def after_call(
        self, http_response: Any, parsed: dict[str, Any], context: Any, **_: Any
    ) -> None:
        metadata = parsed.get("ResponseMetadata", {})
        outcome = "ok" if http_response.status_code < 300 else parsed.get("Error", {}).get("Code")
        quota = bool(metadata.get("RetryQuotaReached"))
        self.injector._close(context, str(outcome), quota_known=quota)

    def after_call_error(self, exception: BaseException, context: Any, **_: Any) -> None:
        self.injector._close(context, type(exception).__name__, quota_known=None)


class FaultInjector:
    """Injects faults into the requests of the boto3 clients it is attached to.

    Args:
        rng: the source of every decision (which request, which fault).
        rate: the fraction of eligible attempts that get a fault, 0 to 1.
        kinds: the faults to choose from, uniformly (repeat one to weight it).
        operations: only these operations are eligible (``"PutItem"`` or
            ``"dynamodb.PutItem"``); ``None`` for all.
        faults_per_call: only attempts up to this number are eligible, so that with fewer
            faults per call than botocore's attempts every call eventually gets through.
    """

    def __init__(
        self,
        rng: random.Random,
        rate: float,
        kinds: Sequence[FaultKind] = INJECTABLE,
        *,
        operations: Collection[str] | None = None,
        faults_per_call: int | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"rate must be within 0..1, got {rate}")
        if not kinds or any(kind not in INJECTABLE for kind in kinds):
            raise ValueError(f"kinds must be among {[k.value for k in INJECTABLE]}, got {kinds}")
        self.rate = rate
        self.kinds = tuple(kinds)
        self.operations = None if operations is None else frozenset(operations)
        self.faults_per_call = faults_per_call
        self.log: list[InjectedFault] = []
        self.calls: list[FaultedCall] = []
        self.requests: collections.Counter[str] = collections.Counter()
        self._rng = rng
        self._lock = threading.Lock()
        self._open: dict[str, _OpenCall] = {}
        self._attachments: dict[int, _Attachment] = {}
        self._paused: contextvars.ContextVar[bool] = contextvars.ContextVar(
            f"stepline_faults_paused_{id(self)}", default=False
        )

    def attach(self, client: Any, *, backend: Backend | None = None) -> Any:
        """Hook ``client``; returns it. ``backend`` answers its requests instead of moto/HTTP.

        Raises:
            ValueError: ``client`` already has an injector (both would forward each request).
            NotImplementedError: no error responses for the client's protocol.
        """
        if client in _ATTACHED:
            raise ValueError("this client already has a fault injector attached")
        attachment = _Attachment(self, client, backend)
        if attachment.protocol not in _PROTOCOLS:
            raise NotImplementedError(f"no error responses for {attachment.protocol!r}")
        _ATTACHED[client] = self
        service, events = attachment.service, client.meta.events
        uid = f"stepline-faults-{id(self)}"  # unique ids are per emitter, not per event
        if attachment.moto is not None:
            events.unregister("before-send", attachment.moto)
        events.register_first(
            f"before-send.{service}", attachment.before_send, unique_id=f"{uid}-before-send"
        )
        events.register(
            f"after-call.{service}", attachment.after_call, unique_id=f"{uid}-after-call"
        )
        events.register(
            f"after-call-error.{service}",
            attachment.after_call_error,
            unique_id=f"{uid}-after-call-error",
        )
        self._attachments[id(client)] = attachment
        return client

    def detach(self, client: Any) -> None:
        """Unhook ``client``; moto's handler, if any, answers it again."""
        attachment = self._attachments.pop(id(client))
        del _ATTACHED[client]
        attachment.close()
        service, events = attachment.service, client.meta.events
        uid = f"stepline-faults-{id(self)}"
        for event in ("before-send", "after-call", "after-call-error"):
            events.unregister(f"{event}.{service}", unique_id=f"{uid}-{event}")
        if attachment.moto is not None:
            events.register("before-send", attachment.moto)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No faults (crashes still apply) for requests made in this context."""
        token = self._paused.set(True)
        try:
            yield
        finally:
            self._paused.reset(token)

    def counts(self) -> collections.Counter[tuple[FaultKind, str]]:
        """Injected faults by ``(kind, operation)``."""
        return collections.Counter((fault.kind, fault.operation) for fault in self.log)

    def by_kind(self) -> collections.Counter[FaultKind]:
        return collections.Counter(fault.kind for fault in self.log)

    def summary(self) -> str:
        """Lines a campaign can print: what was injected, where, and how the calls ended."""
        lines = [f"requests seen: {sum(self.requests.values())}, faults: {len(self.log)}"]
        for (kind, operation), count in sorted(self.counts().items()):
            lines.append(f"  {kind.value:<17} {operation:<20} {count}")
        outcomes = collections.Counter(
            (call.outcome, call.surfaced, call.retry_quota_exhausted) for call in self.calls
        )
        for (outcome, surfaced, quota), count in sorted(outcomes.items()):
            how = "surfaced" if surfaced else "after retries"
            quota_note = ", retry quota exhausted" if quota else ""
            lines.append(f"  faulted calls ending {outcome} ({how}{quota_note}): {count}")
        return "\n".join(lines)

    # -- called by the hooks -------------------------------------------------------------

    def _eligible(self, service: str, operation: str, attempt: int) -> bool:
        if self._paused.get():
            return False
        if self.faults_per_call is not None and attempt > self.faults_per_call:
            return False
        ops = self.operations
        return ops is None or operation in ops or f"{service}.{operation}" in ops

    def _draw(
        self, service: str, operation: str, attempt: int, invocation: str
    ) -> tuple[FaultKind, str] | None:
        with self._lock:
            self.requests[f"{service}.{operation}"] += 1
            if not self._eligible(service, operation, attempt) or self._rng.random() >= self.rate:
                if invocation in self._open:
                    self._open[invocation].last_faulted_attempt = 0
                return None
            kind: FaultKind = self._rng.choice(self.kinds)
            if kind is FaultKind.THROTTLE:
                detail = self._rng.choice(_THROTTLES.get(service, _DEFAULT_THROTTLES)).code
            elif kind is FaultKind.SERVER_ERROR:
                detail = _SERVER_ERRORS.get(service, _DEFAULT_SERVER_ERROR).code
            elif kind is FaultKind.CONNECTION_ERROR:
                detail = "EndpointConnectionError"
            else:
                detail = self._rng.choice(("ConnectionClosedError", "ReadTimeoutError"))
            self._note_locked(service, operation, kind, attempt, detail, invocation)
            return kind, detail

    def _reply(self, service: str, kind: FaultKind, code: str) -> ErrorReply:
        if kind is FaultKind.THROTTLE:
            return next(r for r in _THROTTLES.get(service, _DEFAULT_THROTTLES) if r.code == code)
        return _SERVER_ERRORS.get(service, _DEFAULT_SERVER_ERROR)

    def _note(
        self,
        service: str,
        operation: str,
        kind: FaultKind,
        attempt: int,
        detail: str,
        invocation: str,
    ) -> None:
        with self._lock:
            self._note_locked(service, operation, kind, attempt, detail, invocation)

    def _note_locked(
        self,
        service: str,
        operation: str,
        kind: FaultKind,
        attempt: int,
        detail: str,
        invocation: str,
    ) -> None:
        self.log.append(InjectedFault(service, operation, kind, attempt, detail))
        if invocation:
            call = self._open.setdefault(invocation, _OpenCall(service, operation, [], 0))
            call.faults.append(kind)
            call.last_faulted_attempt = attempt

    def _close(self, context: Any, outcome: str, *, quota_known: bool | None) -> None:
        retries = context.get("retries", {}) if isinstance(context, dict) else {}
        with self._lock:
            call = self._open.pop(retries.get("invocation-id", ""), None)
        if call is None:
            return
        attempts = int(retries.get("attempt", 1))
        surfaced = call.last_faulted_attempt == attempts
        quota = quota_known
        if quota is None:  # an exception: botocore stopped early only for want of quota
            quota = surfaced and attempts < int(retries.get("max", attempts))
        faulted = FaultedCall(
            call.service, call.operation, tuple(call.faults), attempts, outcome, surfaced, quota
        )
        with self._lock:
            self.calls.append(faulted)
