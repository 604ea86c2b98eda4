"""``@workflow``: declarations refused at decoration time, inputs validated and rebuilt."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from pydantic import BaseModel

from sdk import WorkflowContext, workflow
from sdk.errors import InvalidPayloadError, WorkflowDefinitionError


async def body(ctx: WorkflowContext, payload: dict[str, Any]) -> None:
    return None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"batch_size": 10}, "batch_size needs trigger_on_event"),
        ({"batch_timeout_seconds": 5}, "batch_timeout_seconds needs batch_size"),
        (
            {"trigger_on_event": "a/b", "batch_size": 10, "batch_timeout_seconds": 301},
            "batch_timeout_seconds must be from 0 to 300",
        ),
        ({"trigger_on_event": "a/b", "batch_size": 0}, "batch_size must be an integer"),
        ({"trigger_on_event": "a/b", "batch_size": True}, "batch_size must be an integer"),
        # one DynamoDB transaction (100 items) claims a batch's events and starts it
        (
            {"trigger_on_event": "a/b", "batch_size": 99},
            "batch_size must be an integer from 1 to 98",
        ),
        ({"schedule": "61 * * * *"}, "'61 \\* \\* \\* \\*' is not a valid 5-field cron"),
        ({"schedule": "0 9 * * * *"}, "not a valid 5-field cron"),
        ({"schedule": {"cron": "0 9 * * *", "timezone": "Mars/Base"}}, "unknown timezone"),
        ({"schedule": {"crn": "0 9 * * *"}}, "schedule must be a cron string"),
        ({"schedule": "0 9 1 * 1"}, "EventBridge Scheduler takes only one of them"),
        ({"schedule": "0 9 L * *"}, "L, W, #, \\? and H are not supported"),
        ({"schedule": {"cron": "0 9 * * *", "overlap": "queue"}}, "overlap must be 'skip' or"),
        ({"schedule": {"cron": "0 9 * * *", "key": "a/b"}}, "schedule key 'a/b' is invalid"),
        (
            {"schedule": "0 9 * * *", "trigger_on_event": "a/b"},
            "either scheduled or event-triggered",
        ),
        ({"trigger_on_event": " padded"}, "trigger_on_event: topic .* is not valid"),
        ({"trigger_on_event": "order/**"}, "trigger pattern"),
        ({"event_types": ["a"]}, "event_types needs trigger_on_event"),
        ({"trigger_on_event": "a", "event_types": "created"}, "not a string"),
        ({"id": "has space"}, "workflow id 'has space' is invalid"),
    ],
)
def test_bad_declarations_fail_at_decoration_naming_the_problem(
    options: dict[str, Any], message: str
) -> None:
    with pytest.raises(WorkflowDefinitionError, match=message):
        workflow(**options)(body)


def test_the_message_names_the_workflow() -> None:
    with pytest.raises(WorkflowDefinitionError, match="workflow 'nightly'"):
        workflow(id="nightly", schedule="bad cron")(body)


def test_a_sync_function_is_refused() -> None:
    def sync(ctx: WorkflowContext) -> None:
        return None

    with pytest.raises(WorkflowDefinitionError, match="'sync' must be an 'async def'"):
        workflow(sync)  # type: ignore[arg-type]


def test_extra_parameters_are_refused() -> None:
    async def three(ctx: WorkflowContext, a: int, b: int) -> None:
        return None

    with pytest.raises(WorkflowDefinitionError, match=r"\(ctx, a, b\)"):
        workflow(three)


def test_valid_declarations_keep_their_options() -> None:
    batched = workflow(
        id="analytics", trigger_on_event="analytics/events", batch_size=10, batch_timeout_seconds=30
    )(body)
    assert (batched.trigger_on_event, batched.batch_size, batched.batch_timeout_seconds) == (
        "analytics/events",
        10,
        30,
    )
    daily = workflow(schedule={"cron": "0 9 * * *", "timezone": "Europe/Paris"})(body)
    assert daily.id == "body" and daily.schedule is not None
    assert (daily.schedule.cron, daily.schedule.timezone) == ("0 9 * * *", "Europe/Paris")
    assert (daily.schedule.key, daily.schedule.overlap) == ("default", "skip")
    keyed = workflow(schedule={"cron": "*/5 * * * *", "key": "five", "overlap": "allow"})(body)
    assert keyed.schedule is not None
    assert (keyed.schedule.key, keyed.schedule.overlap) == ("five", "allow")


class Model(BaseModel):
    n: int


@dataclasses.dataclass
class Data:
    n: int


async def takes_model(ctx: WorkflowContext, payload: Model) -> None:
    return None


async def takes_dataclass(ctx: WorkflowContext, payload: Data) -> None:
    return None


@pytest.mark.parametrize(
    ("fn", "expected"), [(takes_model, Model(n=1)), (takes_dataclass, Data(n=1))]
)
def test_inputs_are_rebuilt_from_the_annotation(fn: Any, expected: Any) -> None:
    wf = workflow(fn)
    assert wf.decode_input(wf.encode_input({"n": 1})) == expected


def test_an_invalid_input_names_the_workflow_and_field() -> None:
    async def typed(ctx: WorkflowContext, payload: Model) -> None:
        return None

    wf = workflow(id="typed")(typed)
    with pytest.raises(InvalidPayloadError, match=r"invalid input for workflow 'typed'.*\n?n"):
        wf.validate_input({"n": "not a number"})


def test_a_workflow_without_input_refuses_one() -> None:
    async def bare(ctx: WorkflowContext) -> None:
        return None

    with pytest.raises(InvalidPayloadError, match="takes no input"):
        workflow(bare).validate_input({"x": 1})
