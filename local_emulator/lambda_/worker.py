"""One Lambda execution environment: a process that imports a handler once and serves it.

Started by ``local_emulator.lambda_.environments`` with the function's environment: in dev mode as
``python -m local_emulator.lambda_.worker`` with the working directory's code; for a built function
as ``python3.11 -I -S -B .../worker.py`` with ``sys.path`` the built code
(``LAMBDA_TASK_ROOT``) and the runtime's boto3 (``LAMBDA_RUNTIME_DIR``) only, as on
Lambda. So this module imports nothing but the standard library. It reads one JSON
request a line on stdin and writes one JSON reply a line on its original stdout; anything
the handler prints goes to stderr, so logs never corrupt the protocol. It dies with its
parent.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import Any, TextIO


@dataclass
class WorkerContext:
    """The Lambda context object handlers receive."""

    aws_request_id: str
    deadline_ms: int
    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    function_version: str = "$LATEST"
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def _die_with_parent() -> None:
    """End this process when the emulator is gone, even mid-invocation.

    (``PR_SET_PDEATHSIG`` would follow the parent *thread* that started us, which in
    the emulator is often a short-lived request thread.)
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _set_path() -> None:
    """The function's code first: the built code and the runtime's boto3 when
    ``LAMBDA_TASK_ROOT`` is set, else the working directory; never this file's directory."""
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == here:
        del sys.path[0]
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root is not None:
        sys.path[:0] = [task_root, os.environ["LAMBDA_RUNTIME_DIR"]]
    elif os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())


def _load_handler(path: str) -> Any:
    module_name, _, attribute = path.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


def _serve(handler: Any, requests: TextIO, replies: TextIO) -> None:
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    memory = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
    default_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    for line in requests:
        request = json.loads(line)
        arn = request.get("invoked_function_arn") or default_arn
        context = WorkerContext(request["request_id"], request["deadline_ms"], name, memory, arn)
        try:
            reply: dict[str, Any] = {"ok": True, "result": handler(request["payload"], context)}
        except Exception as exc:
            reply = {
                "ok": False,
                "errorType": type(exc).__name__,
                "errorMessage": str(exc),
                "stackTrace": traceback.format_exception(exc),
            }
        replies.write(json.dumps(reply, default=str) + "\n")
        replies.flush()


def main() -> None:
    _die_with_parent()
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the handler's prints and logs go to stderr
    sys.stdout = sys.stderr
    _set_path()
    handler = _load_handler(os.environ["_HANDLER"])
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    _serve(handler, sys.stdin, replies)


if __name__ == "__main__":
    main()
