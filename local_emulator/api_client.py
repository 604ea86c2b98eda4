"""A small client of the HTTP API, for the CLI (stdlib only).

Requests go out unsigned unless the client is given a ``Signer``
(``local_emulator.remote`` signs them with SigV4 for a deployed function URL).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

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


class EndpointSetupError(SteplineError):
    """The API cannot be addressed as asked: no such stack or output, no region or credentials."""


class Signer(Protocol):
    """Adds authentication headers to a request about to be sent."""

    def sign(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]
    ) -> dict[str, str]:
        """The headers to send: ``headers`` plus the signature's."""
        ...


class ApiClient:
    def __init__(
        self, endpoint: str, timeout: float = 30.0, *, signer: Signer | None = None
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.signer = signer

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        url = self.endpoint + path
        data = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if self.signer is not None:
            headers = self.signer.sign(method, url, data, headers)
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise self._refusal(exc.code, exc.read()) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise EndpointUnreachableError(
                f"cannot reach the Stepline API at {self.endpoint} ({exc}); is `stepline dev` "
                "running? Set --endpoint or STEPLINE_ENDPOINT."
            ) from None

    def _refusal(self, status: int, raw: bytes) -> ApiError:
        try:
            detail = json.loads(raw)
        except json.JSONDecodeError:
            detail = {"message": raw.decode(errors="replace")}
        if not isinstance(detail, dict):
            detail = {"message": str(detail)}
        # Lambda's own refusals (a function URL's 403) spell it "Message".
        message = str(detail.get("message") or detail.get("Message") or "")
        if status == 403 and self.signer is None:
            message += " (sent unsigned: a function URL with IAM auth needs --sign)"
        elif status == 403:
            message += " (signed: may these credentials lambda:InvokeFunctionUrl on the API?)"
        return ApiError(status, str(detail.get("error", "")), message)

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

    def publish(
        self, topic: str, data: Any, event_type: str | None = None, event_id: str | None = None
    ) -> dict[str, Any]:
        event: dict[str, Any] = {"data": data}
        if event_type is not None:
            event["event_type"] = event_type
        if event_id is not None:
            event["id"] = event_id
        result: dict[str, Any] = self._call(
            "POST", "/events/publish", {"topic": topic, "events": [event]}
        )["events"][0]
        return result

    def topics(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/topics")["topics"]
        return result

    def schedules(self, workflow_id: str | None = None) -> list[dict[str, Any]]:
        query = ""
        if workflow_id is not None:
            query = "?" + urllib.parse.urlencode({"workflow_id": workflow_id})
        result: list[dict[str, Any]] = self._call("GET", f"/schedules{query}")["schedules"]
        return result

    def create_schedule(
        self, workflow_id: str, cron: str, timezone: str, key: str, overlap: str
    ) -> dict[str, Any]:
        body = {"workflow_id": workflow_id, "cron": cron, "timezone": timezone, "key": key,
                "overlap": overlap}  # fmt: skip
        result: dict[str, Any] = self._call("POST", "/schedules", body)
        return result

    def _schedule_path(self, workflow_id: str, key: str) -> str:
        quoted = (urllib.parse.quote(part, safe="") for part in (workflow_id, key))
        return "/schedules/" + "/".join(quoted)

    def delete_schedule(self, workflow_id: str, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", self._schedule_path(workflow_id, key))
        return result

    def pause_schedule(self, workflow_id: str, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", self._schedule_path(workflow_id, key) + "/pause", {}
        )
        return result

    def resume_schedule(self, workflow_id: str, key: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", self._schedule_path(workflow_id, key) + "/resume", {}
        )
        return result

    def executions(
        self, workflow_id: str | None, status: str | None, limit: int
    ) -> list[dict[str, Any]]:
        query = {"workflow_id": workflow_id, "status": status, "limit": str(limit)}
        encoded = urllib.parse.urlencode({k: v for k, v in query.items() if v})
        result: list[dict[str, Any]] = self._call("GET", f"/executions?{encoded}")["executions"]
        return result

    def events(self, execution_id: str, after: int | None, wait: float) -> dict[str, Any]:
        """One long poll of the lifecycle stream: events after ``after``, waiting up to
        ``wait`` seconds for some; ``{"events", "last_sequence_id", "done"}``."""
        query = {"wait": str(wait)} | ({} if after is None else {"after": str(after)})
        path = f"/executions/{urllib.parse.quote(execution_id, safe='')}/events"
        result: dict[str, Any] = self._call("GET", f"{path}?{urllib.parse.urlencode(query)}")
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
