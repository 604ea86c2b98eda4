"""A small client of the HTTP API, for the CLI (stdlib only)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from sdk.errors import ResultTimeoutError, SteplineError

DEFAULT_ENDPOINT = "http://127.0.0.1:8765"
FINISHED = ("completed", "failed", "cancelled")


class ApiError(SteplineError):
    """The API answered with an error status."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.kind = kind


class EndpointUnreachableError(SteplineError):
    """Nothing answers at the endpoint."""


class ApiClient:
    def __init__(self, endpoint: str, timeout: float = 30.0) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.endpoint + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                detail = json.loads(raw)
            except json.JSONDecodeError:
                detail = {"message": raw.decode(errors="replace")}
            raise ApiError(
                exc.code, str(detail.get("error", "")), str(detail.get("message", ""))
            ) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise EndpointUnreachableError(
                f"cannot reach the Stepline API at {self.endpoint} ({exc}); is `stepline dev` "
                "running? Set --endpoint or STEPLINE_ENDPOINT."
            ) from None

    def workflows(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/workflows")["workflows"]
        return result

    def invoke(
        self, workflow_id: str, payload: Any, *, execution_id: str | None = None
    ) -> dict[str, Any]:
        path = f"/workflows/{urllib.parse.quote(workflow_id, safe='')}/invoke"
        body = {"payload": payload}
        if execution_id is not None:
            body["execution_id"] = execution_id
        result: dict[str, Any] = self._call("POST", path, body)
        return result

    def execution(self, execution_id: str, *, steps: bool = True) -> dict[str, Any]:
        path = f"/executions/{urllib.parse.quote(execution_id, safe='')}"
        result: dict[str, Any] = self._call("GET", path if steps else path + "?steps=false")
        return result

    def cancel(self, execution_id: str) -> dict[str, Any]:
        return self._act(execution_id, "cancel")

    def resume(self, execution_id: str) -> dict[str, Any]:
        return self._act(execution_id, "resume")

    def _act(self, execution_id: str, action: str) -> dict[str, Any]:
        path = f"/executions/{urllib.parse.quote(execution_id, safe='')}/{action}"
        result: dict[str, Any] = self._call("POST", path, {})
        return result

    def executions(
        self, workflow_id: str | None, status: str | None, limit: int
    ) -> list[dict[str, Any]]:
        query = {"workflow_id": workflow_id, "status": status, "limit": str(limit)}
        encoded = urllib.parse.urlencode({k: v for k, v in query.items() if v})
        result: list[dict[str, Any]] = self._call("GET", f"/executions?{encoded}")["executions"]
        return result

    def wait(
        self, execution_id: str, timeout: float, *, poll_interval: float = 0.005
    ) -> dict[str, Any]:
        """Poll the status until the execution is finished; then return it with its steps."""
        give_up = time.monotonic() + timeout
        interval = poll_interval
        while True:
            execution = self.execution(execution_id, steps=False)
            if execution["status"] in FINISHED:
                return self.execution(execution_id)
            if time.monotonic() >= give_up:
                raise ResultTimeoutError(
                    f"execution {execution_id} is still {execution['status']} after {timeout}s"
                )
            time.sleep(interval)
            interval = min(interval * 2, 0.2)
