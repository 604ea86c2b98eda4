"""A model of Lambda's asynchronous invocations, for tests that drive handlers as Lambda would.

``AsyncLambda(handler, rng=...)`` is an ``Invoker``: ``invoke_async(execution_id)`` queues the
runner event ``{"execution_id": ...}``; nothing runs until ``drain()``, which delivers queued
events, and the events handlers queue meanwhile, until the queue is empty. Each event may be
delivered the ways Lambda delivers an ``Event`` invocation:

- **Duplicates**: with probability ``duplicate_rate`` an event's first attempt is delivered
  twice with the same ``aws_request_id``; the copies run at once on two threads
  (``duplicate_timing="concurrent"``) or the copy is queued behind everything pending
  (``"late"``), or either (``"mixed"``). Each copy is then retried on its own, as two
  deliveries by Lambda's internal queue would be.
- **Retries**: an attempt that fails (the handler raised, or was killed) is queued again with
  the same request id, behind what is pending (Lambda waits a minute or two), up to
  ``max_retries`` times.
- **Destination**: when all ``1 + max_retries`` attempts failed, the on-failure destination
  gets Lambda's record (``destination_record``); it is itself an async invocation of the
  ``destination`` handler, with the same duplicates and retries and no destination of its
  own. Without a destination the record is kept in ``undelivered``.
- **Deadlines**: each attempt's context reports the time left, from ``remaining_ms`` at
  the start and ``clock`` after (pass a virtual clock's ``now`` to follow it).
- **Crashes**: with probability ``kill_rate`` an attempt's process dies at its k-th AWS request
  (k uniform in 1..``kill_window``), a request that reaches the service or not (even odds):
  that request and every later one of the attempt raise ``InvocationKilled``, and the attempt
  fails as Lambda reports a killed runtime (``Runtime.ExitError``), even if the handler caught
  the exception. Requests are counted only through clients with a ``FaultInjector`` attached;
  an attempt making fewer than k requests dies after its handler returned (its writes are
  done, its result lost, as with a timeout at the very end). A killed thread cannot be
  stopped in Python, so code after the kill keeps running, but none of its AWS requests get
  out. Requests from threads the handler starts itself (not asyncio tasks or ``to_thread``,
  which inherit the context) are not counted.

Every decision of the model comes from ``rng`` in the draining thread, so a seed replays the
same deliveries as long as handlers enqueue in the same order (true without concurrent
duplicates). ``lambda_api`` answers ``Invoke`` requests of a boto3 Lambda client when passed
as ``FaultInjector.attach(client, backend=model.lambda_api)``, so that the production
``LambdaInvoker`` can be used, with faults on its ``Invoke`` calls.
"""

from __future__ import annotations

import collections
import json
import random
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import unquote

from botocore.awsrequest import AWSPreparedRequest, AWSResponse

from tests.faults import InvocationKilled, KillSwitch, armed, make_response, request_body

Handler = Callable[[Any, Any], Any]
Outcome = Literal["ok", "error", "killed"]
ACCOUNT = "123456789012"
REGION = "us-east-1"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


class QuiescenceError(AssertionError):
    """``drain`` delivered more than ``max_deliveries`` events: something loops."""


@dataclass(frozen=True)
class InvocationContext:
    """The Lambda context a handler gets (the parts Stepline and Powertools read)."""

    aws_request_id: str
    function_name: str
    deadline: datetime
    clock: Callable[[], datetime] = field(repr=False)
    memory_limit_in_mb: int = 512

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock()).total_seconds() * 1000))


@dataclass(frozen=True)
class Delivery:
    """One run of a handler: one attempt, or one copy of a duplicated attempt."""

    function: str
    request_id: str
    payload: Any
    attempt: int
    duplicate: bool  # the second copy of a doubled delivery
    outcome: Outcome
    result: Any  # the handler's return value, or Lambda's error payload


@dataclass
class LambdaStats:
    """Counts for one function."""

    events: int = 0  # events accepted for asynchronous invocation
    deliveries: int = 0  # handler runs
    duplicates: int = 0  # events whose first attempt was delivered twice
    retries: int = 0  # attempts queued again after a failure
    failed_attempts: int = 0  # handler runs that raised or were killed
    killed_attempts: int = 0
    exhausted: int = 0  # events (or copies) whose every attempt failed
    destination_records: int = 0  # records sent to the on-failure destination


@dataclass(frozen=True)
class _Function:
    name: str
    handler: Handler
    on_failure: _Function | None = None


@dataclass(frozen=True)
class _Event:
    function: _Function
    request_id: str
    payload: Any
    attempt: int = 1
    duplicate: bool = False


@dataclass(frozen=True)
class _Run:
    event: _Event
    context: InvocationContext
    switch: KillSwitch


def destination_record(
    function: str,
    request_id: str,
    payload: Any,
    error: dict[str, Any],
    attempts: int,
    now: datetime,
) -> dict[str, Any]:
    """What Lambda sends an on-failure destination when an event's attempts are exhausted."""
    return {
        "version": "1.0",
        "timestamp": now.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{function_arn(function)}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": payload,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": error,
    }


def _error_payload(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The Python runtime's answer for a handler that raised."""
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _killed_payload(request_id: str) -> dict[str, Any]:
    return {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
    }


class AsyncLambda:
    """One function invoked asynchronously, and its on-failure destination (see module doc)."""

    def __init__(
        self,
        handler: Handler,
        *,
        rng: random.Random,
        destination: Handler | None = None,
        duplicate_rate: float = 1.0,
        duplicate_timing: Literal["concurrent", "late", "mixed"] = "concurrent",
        max_retries: int = 2,
        shuffle: bool = False,
        remaining_ms: int | Callable[[random.Random], int] = 60_000,
        kill_rate: float = 0.0,
        kill_window: int = 20,
        clock: Callable[[], datetime] | None = None,
        function_name: str = "stepline-runner",
        destination_name: str = "stepline-failures",
        max_deliveries: int = 10_000,
    ) -> None:
        """``shuffle`` delivers pending events in random order (Lambda keeps none)."""
        failures = None if destination is None else _Function(destination_name, destination)
        self._function = _Function(function_name, handler, failures)
        self._rng = rng
        self._ids = random.Random(rng.getrandbits(64))
        self.duplicate_rate = duplicate_rate
        self.duplicate_timing = duplicate_timing
        self.max_retries = max_retries
        self.shuffle = shuffle
        self.remaining_ms = remaining_ms
        self.kill_rate = kill_rate
        self.kill_window = kill_window
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self.max_deliveries = max_deliveries
        self.stats: dict[str, LambdaStats] = collections.defaultdict(LambdaStats)
        self.deliveries: list[Delivery] = []
        self.undelivered: list[dict[str, Any]] = []
        self._queue: collections.deque[_Event] = collections.deque()
        self._lock = threading.Lock()

    @property
    def function_name(self) -> str:
        return self._function.name

    # -- accepting events ----------------------------------------------------------------

    def invoke_async(self, execution_id: str) -> None:
        """The ``Invoker`` protocol: queue the runner event for ``execution_id``."""
        self.invoke({"execution_id": execution_id})

    def invoke(self, payload: Any) -> str:
        """Queue any event for the function; returns its request id."""
        return self._accept(self._function, payload)

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def lambda_api(self, operation: str, request: AWSPreparedRequest) -> AWSResponse:
        """Answers a boto3 Lambda client's ``Invoke`` (``Event`` only) for this function."""

        def error(status: int, code: str, message: str) -> AWSResponse:
            body = json.dumps({"Type": "User", "message": message}).encode()
            return make_response(request.url, status, {"x-amzn-ErrorType": code}, body)

        if operation != "Invoke":
            return error(400, "InvalidRequestContentException", f"{operation} is not modelled")
        name = unquote(request.url.split("/functions/", 1)[-1].split("/", 1)[0])
        if name.startswith("arn:"):
            name = name.split(":")[6]
        if name.split(":")[0] != self._function.name:
            return error(404, "ResourceNotFoundException", f"Function not found: {name}")
        kind = request.headers.get("X-Amz-Invocation-Type", b"RequestResponse")
        if (kind.decode() if isinstance(kind, bytes) else kind) != "Event":
            return error(400, "InvalidParameterValueException", "only Event invocations")
        payload = json.loads(request_body(request) or b"{}")
        request_id = self.invoke(payload)
        return make_response(request.url, 202, {"x-amzn-RequestId": request_id}, b"")

    def _accept(self, function: _Function, payload: Any) -> str:
        with self._lock:
            request_id = str(uuid.UUID(int=self._ids.getrandbits(128), version=4))
            self._queue.append(_Event(function, request_id, payload))
            self.stats[function.name].events += 1
        return request_id

    # -- delivering them -----------------------------------------------------------------

    def drain(self) -> int:
        """Deliver until nothing is pending; returns the number of handler runs."""
        runs = 0
        while (event := self._next()) is not None:
            batch = [event]
            if self._doubled(event):
                twin = replace(event, duplicate=True)
                if self._concurrent():
                    batch.append(twin)
                else:
                    with self._lock:
                        self._queue.append(twin)
            runs += len(batch)
            if runs > self.max_deliveries:
                raise QuiescenceError(f"still busy after {self.max_deliveries} deliveries")
            prepared = [self._prepare(one) for one in batch]
            for run, (outcome, result) in zip(prepared, self._execute(prepared), strict=True):
                self._settle(run, outcome, result)
        return runs

    def _next(self) -> _Event | None:
        with self._lock:
            if not self._queue:
                return None
            if self.shuffle:
                self._queue.rotate(-self._rng.randrange(len(self._queue)))
            return self._queue.popleft()

    def _doubled(self, event: _Event) -> bool:
        if event.attempt > 1 or event.duplicate or self._rng.random() >= self.duplicate_rate:
            return False
        self.stats[event.function.name].duplicates += 1
        return True

    def _concurrent(self) -> bool:
        if self.duplicate_timing == "mixed":
            return self._rng.random() < 0.5
        return self.duplicate_timing == "concurrent"

    def _prepare(self, event: _Event) -> _Run:
        budget = self.remaining_ms
        remaining = budget if isinstance(budget, int) else budget(self._rng)
        context = InvocationContext(
            aws_request_id=event.request_id,
            function_name=event.function.name,
            deadline=self.clock() + timedelta(milliseconds=remaining),
            clock=self.clock,
        )
        switch = KillSwitch(None)
        if self._rng.random() < self.kill_rate:
            switch = KillSwitch(self._rng.randint(1, self.kill_window), self._rng.random() < 0.5)
        return _Run(event, context, switch)

    def _execute(self, runs: list[_Run]) -> list[tuple[Outcome, Any]]:
        """Each run on a thread of its own (a process of its own, on Lambda); together."""
        results: list[tuple[Outcome, Any]] = [("error", None)] * len(runs)
        start = threading.Barrier(len(runs))

        def target(index: int, run: _Run) -> None:
            start.wait()
            results[index] = self._run(run)

        threads = [
            threading.Thread(target=target, args=(i, run), name=f"lambda-{run.event.request_id}")
            for i, run in enumerate(runs)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    def _run(self, run: _Run) -> tuple[Outcome, Any]:
        event, request_id = run.event, run.event.request_id
        try:
            with armed(run.switch):
                result = event.function.handler(event.payload, run.context)
        except InvocationKilled:
            return "killed", _killed_payload(request_id)
        except BaseException as exc:  # the runtime reports whatever escaped the handler
            if run.switch.dead:
                return "killed", _killed_payload(request_id)
            return "error", _error_payload(exc, request_id)
        if run.switch.die_at is not None:  # dead before or after its last request
            run.switch.dead = True
            return "killed", _killed_payload(request_id)
        return "ok", result

    def _settle(self, run: _Run, outcome: Outcome, result: Any) -> None:
        event = run.event
        stats = self.stats[event.function.name]
        with self._lock:
            stats.deliveries += 1
            self.deliveries.append(
                Delivery(
                    event.function.name,
                    event.request_id,
                    event.payload,
                    event.attempt,
                    event.duplicate,
                    outcome,
                    result,
                )
            )
            if outcome == "ok":
                return
            stats.failed_attempts += 1
            stats.killed_attempts += outcome == "killed"
            if event.attempt <= self.max_retries:
                stats.retries += 1
                self._queue.append(replace(event, attempt=event.attempt + 1))
                return
            stats.exhausted += 1
            record = destination_record(
                event.function.name,
                event.request_id,
                event.payload,
                result,
                event.attempt,
                self.clock(),
            )
            if event.function.on_failure is None:
                self.undelivered.append(record)
                return
            stats.destination_records += 1
        self._accept(event.function.on_failure, record)
