"""Each deployed function's policy allows what its code calls, and for the journal and the
values bucket nothing more.

The template goes into moto's CloudFormation; then every function runs in this process
through its Lambda entry point, with the environment moto gave it, on the workflows of
``tests.apps.permissions``: large inputs and outputs, a short and a long wait, children, a
cancellation that finds its execution running, a child whose invocations are exhausted,
and the sweeper repairing a lost start and an outcome delivered only halfway. Every AWS
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
from sdk.journal.dynamodb import DynamoJournal
from tests.apps.permissions import LARGE
from tests.deployed import Deployment, allowed, permissions

API = "handlers.api.handler"
RUNNER = "handlers.runner.handler"
FAILURES = "handlers.failures.handler"
SWEEPER = "handlers.sweeper.handler"
WAKEUPS = "handlers.wakeups.handler"
HANDLERS = (API, RUNNER, FAILURES, SWEEPER, WAKEUPS)
EXACT = ("dynamodb", "s3")  # services whose grants must match the calls both ways


class Scenario:
    """Drives the deployment the way AWS and an API user would."""

    def __init__(self, deployment: Deployment) -> None:
        self.d = deployment
        # The test's own view of the journal, through a client that is not recorded.
        self.journal = DynamoJournal(deployment.client("dynamodb"), deployment.stack.table_name)

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
            self.d.run(RUNNER, json.loads(schedule["Target"]["Input"]))

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
