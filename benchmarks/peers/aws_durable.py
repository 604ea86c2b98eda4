"""AWS's durable-execution SDK on its local test runner (checkpoints in-process)."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

from aws_durable_execution_sdk_python import DurableContext, StepContext, durable_step
from aws_durable_execution_sdk_python.execution import InvocationStatus, durable_execution
from aws_durable_execution_sdk_python_testing.runner import DurableFunctionTestRunner


@durable_step
def trivial(step_context: StepContext, i: int) -> int:
    return i


@durable_execution
def sequential(event: Any, context: DurableContext) -> int:
    n = int(event["n"])
    for i in range(n):
        context.step(trivial(i))
    return n


@durable_execution
def fan_out(event: Any, context: DurableContext) -> int:
    n = int(event["n"])
    context.map(list(range(n)), lambda ctx, item, index, items: ctx.step(trivial(item)))
    return n


class Peer:
    name = "aws-durable-testing"

    def __init__(self, workdir: Path) -> None:
        warnings.filterwarnings("ignore", category=DeprecationWarning)

    def run(self, kind: str, n: int) -> float:
        """Seconds for one whole workflow of ``n`` steps (the runner's setup excluded)."""
        handler = sequential if kind == "sequential" else fan_out
        with DurableFunctionTestRunner(handler=handler) as runner:
            start = time.perf_counter()
            result = runner.run(input={"n": n}, timeout=600)
            elapsed = time.perf_counter() - start
        assert result.status is InvocationStatus.SUCCEEDED, result
        return elapsed

    def close(self) -> None:
        return None
