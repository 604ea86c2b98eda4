"""Each deployed function's policy allows what its code calls, and for the journal and the
values bucket nothing more.

The template goes into moto's CloudFormation; then every function runs in this process
through its Lambda entry point, with the environment moto gave it, on the workflows of
``tests.apps.permissions``: large inputs and outputs, a short and a long wait, children, a
cancellation that finds its execution running, a child whose invocations are exhausted,
the sweeper repairing a lost start and an outcome delivered only halfway, events, and
schedules (a declared one's ticks: first, again, over a running execution; a runtime one
created, paused, resumed, ticked and deleted through the API). Every AWS
operation each function made is then checked against the policies moto attached to that
function's role (``tests.deployed``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from local_emulator.http_api import function_url_event
from local_emulator.sqs import event_source_mappings
from local_emulator.sqs.models import sqs_event
from sdk.clock import SystemClock
from sdk.events import NewEvent
from sdk.events.dynamodb_log import DynamoTopicLog
from sdk.events.log import Waiter
from sdk.journal.dynamodb import DynamoJournal
from tests.apps.permissions import LARGE
from tests.deployed import Deployment, allowed, permissions

API = "handlers.api.handler"
RUNNER = "handlers.runner.handler"
FAILURES = "handlers.failures.handler"
SWEEPER = "handlers.sweeper.handler"
WAKEUPS = "handlers.wakeups.handler"
ROUTER = "handlers.events.handler"
SCHEDULES = "handlers.schedules.handler"
HANDLERS = (API, RUNNER, FAILURES, SWEEPER, WAKEUPS, ROUTER, SCHEDULES)
EXACT = ("dynamodb", "s3")  # services whose grants must match the calls both ways


class Scenario:
    """Drives the deployment the way AWS and an API user would."""

    def __init__(self, deployment: Deployment) -> None:
        self.d = deployment
        # The test's own view of the journal, through a client that is not recorded.
        self.journal = DynamoJournal(deployment.client("dynamodb"), deployment.stack.table_name)
        self.topics = DynamoTopicLog(self.journal.client, self.journal.table)

    def api(self, method: str, target: str, body: Any = None) -> Any:
        raw = b"" if body is None else json.dumps(body).encode()
        event = function_url_event(method, target, {"Content-Type": "application/json"}, raw)
        response = self.d.run(API, event)
        assert response["statusCode"] < 300, response
        return json.loads(response["body"])

    def invoke(self, workflow: str, payload: Any = None) -> str:
        started = self.api("POST", f"/workflows/{workflow}/invoke", {"payload": payload})
        return str(started["execution_id"])

    def status(self, execution_id: str) -> str:
        return self.journal.get_execution(execution_id).status.value

    def deliver_wake_up(self) -> None:
        """Lambda's SQS poller: the timer queue's next message to the wake-ups function."""
        [mapping] = event_source_mappings(self.d.stack)
        url = self.d.client("sqs").get_queue_url(QueueName=mapping.queue_name)["QueueUrl"]
        received = self.d.client("sqs").receive_message(
            QueueUrl=url, WaitTimeSeconds=5, MessageSystemAttributeNames=["All"]
        )
        messages = received["Messages"]
        assert self.d.run(WAKEUPS, sqs_event(messages, mapping)) == {"batchItemFailures": []}

    def fire_schedules(self) -> None:
        """EventBridge Scheduler: each wake-up schedule of the stack's group invokes the runner."""
        scheduler = self.d.client("scheduler")
        group = self.d.stack.name
        for entry in scheduler.list_schedules(GroupName=group)["Schedules"]:
            schedule = scheduler.get_schedule(Name=entry["Name"], GroupName=group)
            if schedule["ScheduleExpression"].startswith("at("):
                self.d.run(RUNNER, json.loads(schedule["Target"]["Input"]))

    def tick(self, schedule_input: str, scheduled_time: str) -> Any:
        """EventBridge Scheduler: a recurring schedule's tick to the schedules function."""
        text = schedule_input.replace("<aws.scheduler.scheduled-time>", scheduled_time)
        return self.d.run(SCHEDULES, json.loads(text))

    def exhausted(self, execution_id: str, error_type: str) -> dict[str, Any]:
        """Lambda's on-failure destination record after the runner's last attempt failed."""
        return {
            "requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3},
            "requestPayload": {"execution_id": execution_id},
            "responsePayload": {"errorType": error_type, "errorMessage": "it died"},
        }

    def make_due(self, execution_id: str) -> None:
        """Put an execution back on the sweeper's list, due now (as a crash would leave it)."""
        record = self.journal.get_execution(execution_id)
        past = SystemClock().now() - timedelta(minutes=5)
        assert self.journal.set_due(execution_id, due_at=past, expected=record.due_at)


def _large_values(s: Scenario) -> None:
    large = s.invoke("large", "x" * LARGE)
    s.d.drain()
    assert s.status(large) == "completed"
    s.api("GET", "/workflows")
    s.api("GET", f"/executions/{large}")
    s.api("GET", f"/executions/{large}/input")
    s.api("GET", f"/executions/{large}/output")
    s.api("GET", f"/executions/{large}/steps/grow/output")
    s.api("GET", "/executions?workflow_id=large")
    s.api("GET", "/executions?status=completed")
    s.api("GET", "/executions")


def _waits_and_a_cancellation_that_finds_the_execution_running(s: Scenario) -> None:
    naps = s.invoke("naps")
    s.d.drain()
    s.deliver_wake_up()  # the short wait, through the timer queue
    s.d.drain()
    assert s.status(naps) == "suspended"  # now on the long wait: a schedule
    now = SystemClock().now()
    s.journal.acquire_lease(naps, owner="other", now=now, expires_at=now + timedelta(minutes=1))
    s.api("POST", f"/executions/{naps}/cancel", {})  # running: flagged only
    s.journal.release_lease(naps, owner="other")
    s.fire_schedules()  # the runner finds the flag when it suspends, and cancels
    s.d.drain()
    assert s.status(naps) == "cancelled"


def _children(s: Scenario) -> str:
    family = s.invoke("family", 4)
    s.d.drain()
    assert s.status(family) == "completed"
    return family


def _a_child_whose_invocations_are_exhausted(s: Scenario) -> None:
    parent = s.invoke("doomed-parent")
    s.d.drain(keep=lambda target, payload: payload["execution_id"] != parent)
    [(_, payload)] = s.d.invocations  # the child's first invocation: it never runs
    s.d.invocations.clear()
    child = payload["execution_id"]
    s.d.run(FAILURES, s.exhausted(child, "ThrottlingException"))  # transient: re-driven
    s.d.invocations.clear()
    s.d.run(FAILURES, s.exhausted(child, "RuntimeError"))  # fails the child, tells the parent
    s.d.drain()
    assert (s.status(child), s.status(parent)) == ("failed", "failed")


def _the_sweeper_repairs(s: Scenario, family: str) -> None:
    lost = s.invoke("doubler", 1)
    s.d.invocations.clear()  # its start is lost
    s.make_due(lost)
    [big] = [c.execution_id for c in s.journal.list_children(family) if c.workflow_id == "large"]
    s.make_due(big)  # its outcome reached the parent, but it stayed on the list
    s.d.run(SWEEPER, {})
    s.d.drain()
    assert s.status(lost) == "completed"
    assert s.journal.get_execution(big).due_at is None


def _stale_waiter(s: Scenario, topic: str, finished: str) -> None:
    """A waiter left behind by an execution that finished (its removal was lost)."""
    s.topics.add_waiter(topic, Waiter(finished, "reply"))


def _bus_event(topic: str, detail: Any) -> dict[str, Any]:
    return {"id": "eb-1", "detail-type": topic, "source": "partner", "detail": detail}


def _events(s: Scenario) -> None:
    waiting = s.invoke("awaits-reply", "perm/reply")
    s.d.drain()
    assert s.status(waiting) == "suspended"  # registered as a waiter
    signup = {"topic": "perm/signup", "events": [{"id": "s-1", "data": {"blob": "b" * LARGE}}]}
    s.api("POST", "/events/publish", signup)  # large data: S3; starts on-signup
    s.d.drain()  # on-signup publishes to perm/reply from a step, which ends the wait
    assert s.status(waiting) == "completed"
    s.api("POST", "/events/publish", signup)  # the same id again: a duplicate
    _stale_waiter(s, "perm/reply", waiting)
    s.api("POST", "/events/publish", {"topic": "perm/reply", "events": [{"data": {}}]})
    _stale_waiter(s, "perm/reply", waiting)
    for _ in range(2):  # EventBridge delivers twice
        s.d.run(ROUTER, _bus_event("perm/reply", {"from": "partner"}))
    s.api("GET", "/topics")


def _the_sweeper_wakes_waiters_a_dead_publisher_left(s: Scenario) -> None:
    waiting = s.invoke("awaits-reply", "perm/late")
    s.d.drain()
    s.topics.append("perm/late", NewEvent.of({"late": True}, max_bytes=1000))  # then it died
    _stale_waiter(s, "perm/late", "finished-long-ago")
    [pending] = s.topics.list_pending(SystemClock().now() + timedelta(minutes=1))
    s.d.client("dynamodb").update_item(
        TableName=s.d.stack.table_name,
        Key={"pk": {"S": "topic#perm/late"}, "sk": {"S": f"id#{pending.event_id}"}},
        UpdateExpression="SET due_at = :past",
        ExpressionAttributeValues={":past": {"S": "2000-01-01T00:00:00.000000Z"}},
    )
    s.d.run(SWEEPER, {})
    s.d.drain()
    assert s.status(waiting) == "completed"


def _declared_schedule_ticks(s: Scenario) -> None:
    [declared] = [
        resource["Properties"]["Target"]["Input"]
        for resource in s.d.stack.emulated.values()
        if resource["Type"] == "AWS::Scheduler::Schedule"
        and "perm-tick" in resource["Properties"]["Target"].get("Input", "")
    ]
    first = s.tick(declared, "2030-01-01T09:00:00Z")  # the schedule's item is made
    assert first["outcome"] == "started"
    s.d.drain()
    assert s.status(first["execution_id"]) == "suspended"  # waiting 7 minutes
    assert s.tick(declared, "2030-01-01T09:00:00Z")["outcome"] == "duplicate"
    assert s.tick(declared, "2030-01-01T09:05:00Z")["outcome"] == "skipped"
    s.d.invocations.clear()


def _runtime_schedules(s: Scenario) -> None:
    weekday = {"workflow_id": "perm-ticked", "cron": "0 9 * * 1-5", "key": "weekday"}
    s.api("POST", "/schedules", {**weekday, "timezone": "Europe/Paris"})
    s.api("POST", "/schedules", {**weekday, "timezone": "Europe/Paris"})  # a retry: the same
    s.api("GET", "/schedules")
    s.api("GET", "/schedules/perm-ticked/weekday")
    s.api("POST", "/schedules/perm-ticked/weekday/pause", {})
    s.api("POST", "/schedules/perm-ticked/weekday/resume", {})
    scheduler = s.d.client("scheduler")
    [entry] = [
        e
        for e in scheduler.list_schedules(GroupName=s.d.stack.name)["Schedules"]
        if not scheduler.get_schedule(Name=e["Name"], GroupName=s.d.stack.name)[
            "ScheduleExpression"
        ].startswith("at(")
    ]
    schedule = scheduler.get_schedule(Name=entry["Name"], GroupName=s.d.stack.name)
    assert schedule["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert schedule["ScheduleExpressionTimezone"] == "Europe/Paris"
    ticked = s.tick(schedule["Target"]["Input"], "2030-01-07T08:00:00Z")
    s.d.drain()
    assert s.status(ticked["execution_id"]) == "completed"
    s.api("DELETE", "/schedules/perm-ticked/weekday")
    assert s.tick(schedule["Target"]["Input"], "2030-01-08T08:00:00Z")["outcome"] == "gone"


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    deployed = Deployment(["tests.apps.permissions"])
    try:
        scenario = Scenario(deployed)
        _large_values(scenario)
        _waits_and_a_cancellation_that_finds_the_execution_running(scenario)
        family = _children(scenario)
        _a_child_whose_invocations_are_exhausted(scenario)
        _the_sweeper_repairs(scenario, family)
        _events(scenario)
        _the_sweeper_wakes_waiters_a_dead_publisher_left(scenario)
        _declared_schedule_ticks(scenario)
        _runtime_schedules(scenario)
        yield deployed
    finally:
        deployed.close()


@pytest.mark.parametrize("handler", HANDLERS)
def test_every_call_a_function_makes_is_allowed_by_its_role(
    deployment: Deployment, handler: str
) -> None:
    documents = deployment.role_policies(handler)
    calls = deployment.functions[handler].calls
    assert calls, f"{handler} made no call"
    denied = sorted(
        {
            (action, resource)
            for call in calls
            for action, resource, context in permissions(call, deployment.account_id)
            if not allowed(documents, action, resource, context)
        }
    )
    assert denied == []


@pytest.mark.parametrize("handler", HANDLERS)
def test_the_journal_and_values_grants_are_exactly_what_the_code_calls(
    deployment: Deployment, handler: str
) -> None:
    used = {
        (action, resource.split("/index/")[1] if "/index/" in resource else None)
        for call in deployment.functions[handler].calls
        for action, resource, _ in permissions(call, deployment.account_id)
        if call.service in EXACT
    }
    granted = set()
    for document in deployment.role_policies(handler):
        for statement in document["Statement"]:
            actions = statement["Action"]
            resources = statement["Resource"]
            for action in [actions] if isinstance(actions, str) else actions:
                if action.split(":")[0] not in EXACT:
                    continue
                for resource in [resources] if isinstance(resources, str) else resources:
                    index = resource.split("/index/")[1] if "/index/" in resource else None
                    granted.add((action, index))
    assert granted == used
