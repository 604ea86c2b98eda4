"""The event examples (the seed pages' workflows), as a user tests them: the ``stepline``
fixture, in-process, with a clock that jumps."""

from __future__ import annotations

from typing import Any

from examples.analytics import batch_processor
from examples.approvals import approval_workflow
from examples.notifications import create_user
from sdk import ExecutionStatus
from sdk.events.publisher import triggered_id


def test_a_notification_event_runs_the_notification_handler(stepline: Any) -> None:
    event = stepline.publish(
        "notifications/new",
        {"user_id": "user_456", "message": "You have a new message"},
        "notification_created",
    )
    handler = stepline.client.handle(
        triggered_id("notification-handler", "notifications/new", event.id)
    )
    assert handler.result(timeout=5) == "sent to user_456: You have a new message"


def test_a_signup_event_runs_the_signup_handler(stepline: Any) -> None:
    event = stepline.publish("user/signup", {"user_id": "u-1", "email": "u1@example.com"})
    handler = stepline.client.handle(triggered_id("user-signup-handler", "user/signup", event.id))
    assert handler.result(timeout=5) == {"status": "onboarded", "user_id": "u-1"}
    assert [s.key for s in stepline.steps(handler.id)] == ["send_welcome", "setup_account"]


def test_creating_a_user_publishes_the_signup_that_onboards_them(stepline: Any) -> None:
    handle = stepline.invoke(create_user, {"name": "Ada", "email": "ada@example.com"})
    user_id = handle.result(timeout=5)["user_id"]
    [publish] = [s for s in stepline.steps(handle.id) if s.key == "publish_signup"]
    event = stepline.client.publisher.log.read("user/signup")[0]
    assert (event.payload().data["user_id"], event.event_type) == (user_id, "user_created")
    handler = stepline.client.handle(triggered_id("user-signup-handler", "user/signup", event.id))
    assert handler.result(timeout=5) == {"status": "onboarded", "user_id": user_id}
    assert publish.step_type == "publish_event"


def test_one_order_event_runs_both_of_its_handlers(stepline: Any) -> None:
    created = stepline.publish("order/created", {"order_id": "o-9", "total": 99.99}, "created")
    immediate = triggered_id("immediate-handler", "order/created", created.id)
    metrics = triggered_id("order-metrics-handler", "order/created", created.id)
    assert stepline.client.handle(immediate).result(timeout=5) == {"handler": "immediate"}
    assert stepline.client.handle(metrics).result(timeout=5) == {
        "handler": "metrics",
        "topic": "order/created",
    }
    # the metrics handler takes only events of type "created"
    stepline.publish("order/shipped", {"order_id": "o-9", "total": 99.99}, "shipped")
    assert len(stepline.client.list_executions(workflow_id="order-metrics-handler")) == 1


def outputs(stepline: Any, workflow_id: str) -> list[Any]:
    """The outputs of ``workflow_id``'s finished executions, oldest first."""
    records = stepline.client.list_executions(workflow_id=workflow_id)
    assert all(r.status is ExecutionStatus.COMPLETED for r in records), records
    return [stepline.client.output_of(r) for r in sorted(records, key=lambda r: r.created_at)]


def test_the_immediate_and_the_batched_order_handlers_both_get_every_order(
    stepline: Any,
) -> None:
    for n in range(7):
        stepline.publish("order/created", {"order_id": f"o-{n}", "total": 1.0}, "created")
    assert len(outputs(stepline, "immediate-handler")) == 7  # one per event, at once
    assert outputs(stepline, "batched-handler") == [{"handler": "batched", "count": 5}]
    stepline.advance(seconds=59)
    assert len(outputs(stepline, "batched-handler")) == 1  # the last two wait for the window
    stepline.advance(seconds=1)
    assert outputs(stepline, "batched-handler") == [
        {"handler": "batched", "count": 5},
        {"handler": "batched", "count": 2},
    ]


def test_the_batch_processor_takes_ten_at_once_or_what_came_within_thirty_seconds(
    stepline: Any,
) -> None:
    for n in range(13):
        stepline.publish("analytics/events", {"action": "click", "n": n})
    assert outputs(stepline, "batch-processor") == [{"processed": 10}]
    stepline.advance(seconds=30)
    assert outputs(stepline, "batch-processor") == [{"processed": 10}, {"processed": 3}]
    [first, _] = sorted(
        stepline.client.list_executions(workflow_id="batch-processor"), key=lambda r: r.created_at
    )
    payload = batch_processor.decode_input(stepline.client.journal.load_values(first).input)
    assert [e.data["n"] for e in payload.events] == list(range(10))  # in sequence order


def test_an_approval_waits_for_its_answer(stepline: Any) -> None:
    handle = stepline.invoke(approval_workflow, {"request_id": "r-1", "action": "deploy"})
    assert handle.status() is ExecutionStatus.SUSPENDED
    stepline.publish("approval.response/r-2", {"approved": False})  # another request's
    assert handle.status() is ExecutionStatus.SUSPENDED
    stepline.publish("approval.response/r-1", {"approved": True})
    assert handle.result(timeout=5) == "executed deploy"


def test_an_unanswered_approval_expires_after_a_day(stepline: Any) -> None:
    handle = stepline.invoke(approval_workflow, {"request_id": "r-3", "action": "deploy"})
    stepline.advance(hours=23)
    assert handle.status() is ExecutionStatus.SUSPENDED
    stepline.advance(hours=2)
    assert handle.result(timeout=5) == "expired: nobody answered within a day"
