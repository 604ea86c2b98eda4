"""Warm execution environments for one function, as worker processes.

An environment starts cold on first use (process start and handler import) and
is reused after. A crash or a timeout ends only that environment; the next
invocation gets a fresh one. A function with built code (``FunctionConfig.code_dir``)
runs in the emulated Lambda runtime (``local_emulator.lambda_.runtime``): isolated, its code
and the runtime's boto3 only; others run the working directory's code.
"""

from __future__ import annotations

import json
import logging
import os
import select
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from local_emulator.lambda_.runtime import LambdaRuntime
from local_emulator.stack import FunctionConfig
from sdk.clock import SystemClock
from sdk.errors import SteplineError

COLD_START_TIMEOUT_SECONDS = 60.0
WORKER_SCRIPT = Path(__file__).with_name("worker.py")
logger = logging.getLogger("stepline.emulator")


@dataclass(frozen=True)
class InvokeResult:
    """What one invocation returned: a result, or a function error."""

    ok: bool
    payload: Any = None
    error_type: str = ""
    error_message: str = ""

    def error_payload(self) -> dict[str, Any]:
        return {"errorType": self.error_type, "errorMessage": self.error_message}


class Environment:
    """One worker process running one function's handler."""

    def __init__(
        self,
        function: FunctionConfig,
        base_env: dict[str, str],
        runtime: LambdaRuntime | None = None,
    ) -> None:
        self.function = function
        env = {**os.environ, **base_env, **function.environment}
        env.update(
            _HANDLER=function.handler,
            AWS_LAMBDA_FUNCTION_NAME=function.name,
            AWS_LAMBDA_FUNCTION_MEMORY_SIZE=str(function.memory_mb),
            AWS_LAMBDA_FUNCTION_TIMEOUT=str(function.timeout_seconds),
        )
        command = [sys.executable, "-m", "local_emulator.lambda_.worker"]
        cwd = None
        if function.code_dir is not None:
            if runtime is None:
                raise SteplineError(f"{function.name} has built code but no runtime to run it")
            command, cwd = runtime.command(str(WORKER_SCRIPT)), function.code_dir
            env.update(runtime.environment(Path(function.code_dir)))
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, cwd=cwd, text=True
        )
        self.invocations = 0
        self.current: Any = None  # the payload of the invocation in flight, if any
        self._ready = False

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def _read_line(self, deadline: float) -> str | None:
        """One line from the worker, or None if it did not answer by ``deadline``."""
        stdout: IO[str] = self.process.stdout  # type: ignore[assignment]
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([stdout], [], [], remaining)[0]:
            return None
        return stdout.readline()

    def invoke(self, request_id: str, payload: Any) -> InvokeResult:
        started = time.monotonic()
        if not self._ready:
            line = self._read_line(started + COLD_START_TIMEOUT_SECONDS)
            if not line:
                return self._crashed("Runtime.InitError", "the handler failed to load")
            self._ready = True
            started = time.monotonic()
        timeout = self.function.timeout_seconds
        request = {
            "request_id": request_id,
            "payload": payload,
            "deadline_ms": int((SystemClock().now().timestamp() + timeout) * 1000),
            "invoked_function_arn": self.function.arn,
        }
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            return self._crashed("Runtime.ExitError", "the environment was gone")
        self.invocations += 1
        self.current = payload
        try:
            line = self._read_line(started + timeout)
        finally:
            self.current = None
        if line is None:
            self.kill()
            message = f"Task timed out after {timeout} s"
            return InvokeResult(False, None, "Sandbox.Timedout", message)
        if not line:
            return self._crashed("Runtime.ExitError", "the runtime exited")
        reply = json.loads(line)
        if reply["ok"]:
            return InvokeResult(True, reply["result"])
        return InvokeResult(False, reply, reply["errorType"], reply["errorMessage"])

    def _crashed(self, error_type: str, what: str) -> InvokeResult:
        code = self.process.wait()
        return InvokeResult(False, None, error_type, f"{what}: exit status {code}")

    def kill(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait()


class EnvironmentPool:
    """The environments of one function: reuse an idle one, start one when none is."""

    def __init__(
        self,
        function: FunctionConfig,
        base_env: dict[str, str],
        limit: int,
        runtime: LambdaRuntime | None = None,
    ) -> None:
        self.function = function
        self._base_env = base_env
        self._runtime = runtime
        self._limit = limit
        self._idle: list[Environment] = []
        self._all: list[Environment] = []
        self._available = threading.Condition()
        self.cold_starts = 0

    def acquire(self) -> Environment:
        with self._available:
            while True:
                self._all = [env for env in self._all if env.alive]
                self._idle = [env for env in self._idle if env.alive]
                if self._idle:
                    return self._idle.pop()
                if len(self._all) < self._limit:
                    env = Environment(self.function, self._base_env, self._runtime)
                    self._all.append(env)
                    self.cold_starts += 1
                    return env
                self._available.wait()

    def busy(self) -> list[Environment]:
        """The live environments running an invocation right now."""
        with self._available:
            return [env for env in self._all if env.alive and env.current is not None]

    def release(self, env: Environment) -> None:
        with self._available:
            if env.alive:
                self._idle.append(env)
            self._available.notify()

    def invoke(self, request_id: str, payload: Any) -> InvokeResult:
        env = self.acquire()
        try:
            result = env.invoke(request_id, payload)
        finally:
            self.release(env)
        if not result.ok:
            trace = "".join((result.payload or {}).get("stackTrace", []))
            logger.warning(
                "%s request %s failed: %s: %s\n%s",
                self.function.name, request_id, result.error_type, result.error_message, trace,
            )  # fmt: skip
        return result

    def shutdown(self) -> None:
        with self._available:
            for env in self._all:
                env.kill()
            self._all, self._idle = [], []
