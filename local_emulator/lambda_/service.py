"""The Lambda service moto does not run: invocations of the stack's functions.

Synchronous invocations run in a warm environment and return the result.
Asynchronous ones are queued; a failed attempt is retried with the same request
id, up to the function's ``MaximumRetryAttempts`` (2, like Lambda), and when
all attempts failed the on-failure destination receives Lambda's destination
record.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from local_emulator.lambda_.environments import EnvironmentPool, InvokeResult
from local_emulator.lambda_.runtime import LambdaRuntime
from local_emulator.stack import FunctionConfig
from sdk.clock import SystemClock
from sdk.errors import SteplineError
from sdk.ids import new_execution_id as new_request_id

ACCOUNT = "123456789012"
REGION = "us-east-1"


class FunctionNotFoundError(SteplineError):
    """No function of that name in the stack."""


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def function_name(name_or_arn: str) -> str:
    """``my-fn``, ``arn:aws:lambda:...:function:my-fn[:qualifier]`` -> ``my-fn``."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn
    return name_or_arn.split(":")[0]


class LambdaService:
    """Runs the stack's functions in environment pools."""

    def __init__(
        self,
        functions: dict[str, FunctionConfig],
        base_env: dict[str, str],
        *,
        environments_per_function: int = 4,
        retry_delay: Callable[[int], float] = lambda attempt: 0.05 * attempt,
        runtime: LambdaRuntime | None = None,
    ) -> None:
        """``runtime`` runs the functions that have built code (``FunctionConfig.code_dir``)."""
        self.functions = functions
        self._pools = {
            name: EnvironmentPool(config, base_env, environments_per_function, runtime)
            for name, config in functions.items()
        }
        self._async = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lambda-async")
        self._retry_delay = retry_delay
        self._stopping = threading.Event()
        self.pending: set[Future[None]] = set()
        self._lock = threading.Lock()

    def pool(self, name_or_arn: str) -> EnvironmentPool:
        name = function_name(name_or_arn)
        try:
            return self._pools[name]
        except KeyError:
            raise FunctionNotFoundError(f"Function not found: {name}") from None

    def invoke(self, name_or_arn: str, payload: Any, request_id: str | None = None) -> InvokeResult:
        """A synchronous (``RequestResponse``) invocation."""
        return self.pool(name_or_arn).invoke(request_id or new_request_id(), payload)

    def invoke_async(self, name_or_arn: str, payload: Any) -> str:
        """An asynchronous (``Event``) invocation; returns its request id."""
        pool = self.pool(name_or_arn)
        request_id = new_request_id()
        future = self._async.submit(self._run_async, pool, request_id, payload)
        with self._lock:
            self.pending.add(future)
        future.add_done_callback(self._forget)
        return request_id

    def _forget(self, future: Future[None]) -> None:
        with self._lock:
            self.pending.discard(future)

    def _run_async(self, pool: EnvironmentPool, request_id: str, payload: Any) -> None:
        function = pool.function
        attempts = 1 + function.max_retry_attempts
        result = InvokeResult(False)
        for attempt in range(1, attempts + 1):
            if self._stopping.is_set():
                return
            result = pool.invoke(request_id, payload)
            if result.ok:
                return
            if attempt < attempts and self._stopping.wait(self._retry_delay(attempt)):
                return
        if function.on_failure is not None:
            self.invoke_async(function.on_failure, self._destination_record(
                function, request_id, payload, result, attempts))  # fmt: skip

    @staticmethod
    def _destination_record(
        function: FunctionConfig,
        request_id: str,
        payload: Any,
        result: InvokeResult,
        attempts: int,
    ) -> dict[str, Any]:
        """What Lambda sends an on-failure destination."""
        return {
            "version": "1.0",
            "timestamp": SystemClock().now().isoformat(),
            "requestContext": {
                "requestId": request_id,
                "functionArn": f"{function.arn or function_arn(function.name)}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": attempts,
            },
            "requestPayload": payload,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                "functionError": "Unhandled"},
            "responsePayload": json.loads(json.dumps(result.error_payload())),
        }  # fmt: skip

    def shutdown(self) -> None:
        self._stopping.set()
        self._async.shutdown(wait=False, cancel_futures=True)
        for pool in self._pools.values():
            pool.shutdown()
