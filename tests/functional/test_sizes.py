"""Large values on both journals: what fits an item, what goes to the value store, what
is refused, and what a refusal leaves behind (nothing)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sdk import ExecutionStatus, WorkflowContext, workflow
from sdk.errors import SerializationError
from sdk.journal import Journal, MemoryJournal, StepStatus
from sdk.journal.dynamodb import DynamoJournal
from sdk.values import MemoryValueStore, S3ValueStore, ValueStore
from tests.support import CALLS, TABLE, Harness, effect

Build = Callable[..., Harness]
KB = 1024
BUCKET = "stepline-values-test"


@workflow(id="echo-large")
async def echo_large(ctx: WorkflowContext, text: str) -> str:
    return text.replace("i", "o")


def _explode(size: int) -> None:
    CALLS["explode"] += 1
    raise ValueError("e" * size)


@workflow(id="large-error")
async def large_error(ctx: WorkflowContext, size: int) -> None:
    await ctx.step.run("explode", _explode, size, max_retries=0)


@workflow(id="large-result")
async def large_result(ctx: WorkflowContext, size: int) -> int:
    text = await ctx.step.run("big", effect, "big", "r" * size)
    await ctx.step.run("after", effect, "after")
    return len(text)


@workflow(id="large-output")
async def large_output(ctx: WorkflowContext, size: int) -> str:
    return "o" * size


@workflow(id="large-parent")
async def large_parent(ctx: WorkflowContext, size: int) -> str:
    return await ctx.step.invoke_and_wait("child", echo_large, "i" * size)


# --------------------------------------------------------------------------------------
# Without a value store: values up to the item limit, on both journals
# --------------------------------------------------------------------------------------


def test_a_300kb_input_and_a_300kb_output_complete_intact(harness: Build) -> None:
    h = harness(echo_large)
    text = "i" * (300 * KB)
    handle = echo_large.invoke(h.client, text)
    assert handle.result(timeout=5) == "o" * (300 * KB)
    record = h.client.get_execution(handle.id)
    assert record.status is ExecutionStatus.COMPLETED
    assert (record.input, record.output) == (f'"{text}"', '"' + "o" * (300 * KB) + '"')


def test_a_500kb_step_error_is_recorded_truncated_and_runs_once(harness: Build) -> None:
    h = harness(large_error)
    handle = large_error.invoke(h.client, 500 * KB)
    with pytest.raises(ValueError, match=r"\.\.\.\[stepline: \d+ more \w+ truncated\]"):
        handle.result(timeout=5)
    assert CALLS["explode"] == 1
    step = h.steps(handle.id)["explode"]
    assert step.status is StepStatus.FAILED and step.error is not None
    assert len(step.error.message.encode()) <= 16 * KB
    assert step.error.message.startswith("eeee")


def test_a_step_result_over_the_item_limit_fails_the_step_naming_it(harness: Build) -> None:
    h = harness(large_result)
    handle = large_result.invoke(h.client, 500 * KB)
    with pytest.raises(SerializationError, match=r"step 'big' is 512002 bytes of JSON, more than"):
        handle.result(timeout=5)
    step = h.steps(handle.id)["big"]
    assert step.status is StepStatus.FAILED and step.output is None
    assert "after" not in h.steps(handle.id)


def test_an_output_over_the_item_limit_fails_the_execution_naming_it(harness: Build) -> None:
    h = harness(large_output)
    handle = large_output.invoke(h.client, 500 * KB)
    with pytest.raises(SerializationError, match="the output of workflow 'large-output' is"):
        handle.result(timeout=5)
    assert h.client.get_execution(handle.id).output is None


def test_an_input_over_the_item_limit_is_refused_before_anything_is_written(
    harness: Build,
) -> None:
    h = harness(echo_large)
    with pytest.raises(SerializationError, match="the input of workflow 'echo-large' is"):
        echo_large.invoke(h.client, "i" * (500 * KB))
    assert h.client.list_executions() == []


# --------------------------------------------------------------------------------------
# With a value store: S3 on moto, or the memory store
# --------------------------------------------------------------------------------------


@pytest.fixture(params=["memory", "dynamodb"])
def store_and_journal(
    request: pytest.FixtureRequest,
) -> Iterator[tuple[ValueStore, Journal]]:
    """A journal with a value store that takes up to 3 MB: in memory, or S3 beside DynamoDB."""
    if request.param == "memory":
        store: ValueStore = MemoryValueStore(max_bytes=3 * KB * KB)
        yield store, MemoryJournal(values=store)
        return
    import boto3

    dynamodb = request.getfixturevalue("dynamodb_client")  # inside moto's mock
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    store = S3ValueStore(s3, BUCKET, max_bytes=3 * KB * KB)
    yield store, DynamoJournal(dynamodb, TABLE, values=store)


def _stored(store: ValueStore) -> list[str]:
    if isinstance(store, MemoryValueStore):
        return sorted(store.objects)
    assert isinstance(store, S3ValueStore)
    listing = store._client.list_objects_v2(Bucket=store.bucket)
    return sorted(obj["Key"] for obj in listing.get("Contents", []))


def test_a_2mb_step_result_goes_to_the_store_and_replays_without_running_again(
    store_and_journal: tuple[ValueStore, Journal], clock: Any
) -> None:
    store, journal = store_and_journal
    h = Harness.build(journal, clock, [large_result], always_replay=True)
    handle = large_result.invoke(h.client, 2 * KB * KB)
    assert handle.result(timeout=10) == 2 * KB * KB
    assert CALLS == {"big": 1, "after": 1}  # replayed twice from the store
    assert [key.split("/")[:3] for key in _stored(store)] == [
        ["executions", handle.id, "steps"]
    ]
    assert h.steps(handle.id)["big"].output == '"' + "r" * (2 * KB * KB) + '"'


def test_a_step_result_over_the_store_maximum_fails_naming_it_and_stores_nothing(
    store_and_journal: tuple[ValueStore, Journal], clock: Any
) -> None:
    store, journal = store_and_journal
    h = Harness.build(journal, clock, [large_result])
    handle = large_result.invoke(h.client, 4 * KB * KB)
    with pytest.raises(SerializationError, match="step 'big' is 4194306 bytes of JSON"):
        handle.result(timeout=10)
    assert _stored(store) == []
    assert h.steps(handle.id)["big"].status is StepStatus.FAILED


def test_a_2mb_output_goes_to_the_store(
    store_and_journal: tuple[ValueStore, Journal], clock: Any
) -> None:
    store, journal = store_and_journal
    h = Harness.build(journal, clock, [large_output])
    handle = large_output.invoke(h.client, 2 * KB * KB)
    assert handle.result(timeout=10) == "o" * (2 * KB * KB)
    assert h.client.get_execution(handle.id).output == '"' + "o" * (2 * KB * KB) + '"'
    assert [key.split("/")[2] for key in _stored(store)] == ["output"]


def test_a_child_s_2mb_input_goes_to_the_store(
    store_and_journal: tuple[ValueStore, Journal], clock: Any
) -> None:
    store, journal = store_and_journal
    h = Harness.build(journal, clock, [large_parent, echo_large])
    handle = large_parent.invoke(h.client, 2 * KB * KB)
    assert handle.result(timeout=10) == "o" * (2 * KB * KB)
    assert "input" in [key.split("/")[2] for key in _stored(store)]
