"""The schedule routes of the HTTP API and the ``stepline schedules`` commands over them:
create, list with the next three times, show, pause, resume, delete; bad input refused with
the status and a message naming the problem, nothing written."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner

from handlers.api import make_resolver
from local_emulator.cli import main
from local_emulator.http_api import function_url_event
from sdk import App, Client, Engine, InlineInvoker, MemoryJournal, VirtualClock
from sdk.schedules.records import ScheduleRecord
from tests.apps.schedules import no_input, takes_orders, ticked, weekday_report
from tests.support import FakeLambdaContext


class RecordingBackend:
    """Stands in for EventBridge Scheduler: remembers what each schedule was made to be."""

    def __init__(self) -> None:
        self.schedules: dict[str, ScheduleRecord] = {}

    def put(self, record: ScheduleRecord) -> None:
        self.schedules[record.schedule_id] = record

    def remove(self, record: ScheduleRecord) -> None:
        self.schedules.pop(record.schedule_id, None)  # a missing one is already removed


class Api:
    def __init__(self) -> None:
        app, journal = App([weekday_report, ticked, no_input, takes_orders]), MemoryJournal()
        clock = VirtualClock()  # 2030-01-01, a Tuesday
        self.backend = RecordingBackend()
        client = Client(
            app, journal, InlineInvoker(Engine(app, journal, clock)), clock=clock,
            schedule_backend=self.backend,
        )  # fmt: skip
        self.client = client
        self.resolver = make_resolver(client)

    def __call__(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        raw = b"" if body is None else json.dumps(body).encode()
        event = function_url_event(method, path, {"content-type": "application/json"}, raw)
        response = self.resolver.resolve(event, FakeLambdaContext())
        text = response.get("body") or "null"
        return response["statusCode"], json.loads(text) if text else None


@pytest.fixture
def api() -> Api:
    return Api()


def test_a_schedule_is_created_listed_paused_resumed_and_deleted(api: Api) -> None:
    body = {"workflow_id": "ticked", "cron": "0 9 * * 1-5", "timezone": "Europe/Paris",
            "key": "weekday"}  # fmt: skip
    status, created = api("POST", "/schedules", body)
    assert status == 201
    assert created["expression"] == "cron(0 9 ? * MON-FRI *)"
    assert created["next"] == [
        "2030-01-01T09:00:00+01:00", "2030-01-02T09:00:00+01:00", "2030-01-03T09:00:00+01:00",
    ]  # fmt: skip
    assert api.backend.schedules["ticked:weekday"].cron == "0 9 * * 1-5"
    status, listed = api("GET", "/schedules")
    assert [s["schedule_id"] for s in listed["schedules"]] == [
        "ticked:weekday", "weekday-report:default",
    ]  # fmt: skip
    assert api("GET", "/schedules?workflow_id=ticked")[1]["schedules"] == [created]
    assert api("GET", "/schedules/ticked/weekday") == (200, created)
    paused = api("POST", "/schedules/ticked/weekday/pause", {})[1]
    assert (paused["state"], paused["next"]) == ("paused", [])
    assert api.backend.schedules["ticked:weekday"].state.value == "paused"
    assert api("POST", "/schedules/ticked/weekday/resume")[1]["state"] == "enabled"
    assert api("DELETE", "/schedules/ticked/weekday") == (200, {"deleted": "ticked:weekday"})
    assert api.backend.schedules == {}
    assert api("GET", "/schedules/ticked/weekday")[0] == 404


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "message"),
    [
        ("POST", "/schedules", {"workflow_id": "nope", "cron": "0 9 * * *"}, 404,
         "unknown workflow 'nope'"),
        ("POST", "/schedules", {"workflow_id": "ticked", "cron": "0 9 * *"}, 400,
         "not a valid 5-field cron expression"),
        ("POST", "/schedules", {"workflow_id": "ticked", "cron": "0 9 * * *",
                                "timezone": "Moon/Base"}, 400, "unknown timezone 'Moon/Base'"),
        ("POST", "/schedules", {"workflow_id": "weekday-report", "cron": "0 9 * * *"}, 409,
         "declares a schedule with key 'default'"),
        ("POST", "/schedules", {"workflow_id": "takes-orders", "cron": "0 9 * * *"}, 400,
         "not a SchedulePayload"),
        ("POST", "/schedules", {"workflow_id": "ticked"}, 400, "cron is required"),
        ("POST", "/schedules", {"workflow_id": "ticked", "cron": "0 9 * * *", "every": 1}, 400,
         "unknown fields: every"),
        ("POST", "/schedules", {"workflow_id": "ticked", "cron": 9}, 400, "cron must be a string"),
        ("POST", "/schedules", [1], 400, "the request body must be an object"),
        ("DELETE", "/schedules/weekday-report/default", None, 409, "declared in the code"),
        ("DELETE", "/schedules/ticked/none", None, 404, "no schedule with key 'none'"),
        ("POST", "/schedules/ticked/none/pause", None, 404, "no schedule with key 'none'"),
        ("POST", "/schedules/ticked/default/pause", {"now": True}, 400, "unknown fields: now"),
        ("GET", "/schedules?colour=red", None, 400, "unknown query parameters: colour"),
        ("PUT", "/schedules", None, 405, "PUT is not allowed on /schedules"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_naming_the_problem(
    api: Api, method: str, path: str, body: Any, status: int, message: str
) -> None:
    answer = api(method, path, body)
    assert answer[0] == status and message in answer[1]["message"], answer
    assert api.backend.schedules == {}


def test_every_schedule_route_answers_options(api: Api) -> None:
    event = function_url_event("OPTIONS", "/schedules/ticked/k", {}, b"")
    response = api.resolver.resolve(event, FakeLambdaContext())
    allow = response["headers"]["Allow"]
    assert (response["statusCode"], allow) == (204, "GET, HEAD, DELETE, OPTIONS")


@pytest.fixture
def endpoint(api: Api) -> Iterator[str]:
    """The API on loopback, served by its resolver in this process (no emulator)."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            event = function_url_event(self.command, self.path, dict(self.headers), raw)
            response = api.resolver.resolve(event, FakeLambdaContext())
            body = (response.get("body") or "").encode()
            self.send_response(response["statusCode"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _serve

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def run(endpoint: str, *args: str) -> Any:
    return CliRunner().invoke(main, [*args, "--endpoint", endpoint], env={"COLUMNS": "250"})


def test_the_cli_creates_lists_pauses_resumes_and_deletes_schedules(endpoint: str) -> None:
    created = run(endpoint, "schedules", "create", "ticked", "*/15 * * * *", "--timezone",
                  "Europe/Paris", "--key", "quarter", "--overlap", "allow")  # fmt: skip
    assert created.exit_code == 0, created.output
    assert created.output.startswith("ticked:quarter enabled cron(0/15 * * * ? *) Europe/Paris")
    assert "next: 2030-01-01T01:15:00+01:00, 2030-01-01T01:30:00+01:00," in created.output
    listed = run(endpoint, "schedules", "--json")
    assert [s["schedule_id"] for s in json.loads(listed.output)] == [
        "ticked:quarter", "weekday-report:default",
    ]  # fmt: skip
    table = run(endpoint, "schedules")
    assert "weekday-report:default (declared)" in table.output and "quarter" in table.output
    assert "2030-01-01T09:00:00+01:00" in table.output  # the report's next three times
    paused = run(endpoint, "schedules", "pause", "ticked", "--key", "quarter")
    assert paused.output.startswith("ticked:quarter paused")
    resumed = run(endpoint, "schedules", "resume", "ticked", "--key", "quarter")
    assert resumed.output.startswith("ticked:quarter enabled")
    deleted = run(endpoint, "schedules", "delete", "ticked", "--key", "quarter")
    assert deleted.output == "deleted ticked:quarter\n"


def test_the_cli_names_a_bad_cron_and_exits_1(endpoint: str) -> None:
    result = run(endpoint, "schedules", "create", "ticked", "0 9 1 * 1")
    assert result.exit_code == 1
    assert "restricts both the day of the month (1) and the day of the week (1)" in result.output
