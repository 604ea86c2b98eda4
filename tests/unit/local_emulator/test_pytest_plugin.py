"""The pytest plugin's fixture: app selection, virtual clock, clear errors."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sdk import ExecutionStatus, WorkflowNotFoundError
from sdk.errors import SteplineError
from tests.apps.crashy import crash_once


@pytest.mark.stepline(app="tests.apps.crashy")
def test_the_marker_chooses_the_app(stepline: Any) -> None:
    assert [wf.id for wf in stepline.app] == ["always-crash", "crash-once"]
    with pytest.raises(WorkflowNotFoundError):
        stepline.invoke("process-order", {})
    assert crash_once.id in stepline.app


def test_the_clock_is_virtual_and_moves_when_told(stepline: Any) -> None:
    before = stepline.clock.now()
    stepline.advance(minutes=5)
    assert stepline.clock.now() - before == timedelta(minutes=5)
    handle = stepline.invoke("process-order", {"order_id": "o-1", "amount": 1})
    assert handle.status() is ExecutionStatus.COMPLETED
    assert stepline.client.get_execution(handle.id).created_at == stepline.clock.now()


def test_the_default_app_is_the_ini_option(stepline: Any, pytestconfig: pytest.Config) -> None:
    assert pytestconfig.getini("stepline_app") == "examples"
    assert "process-order" in stepline.app


def test_worker_mode_refuses_to_move_the_clock() -> None:
    from local_emulator.testing import WorkerStepline

    with pytest.raises(SteplineError, match="advance\\(\\) needs the in-process fixture"):
        WorkerStepline.advance(object.__new__(WorkerStepline), minutes=1)


@pytest.mark.stepline(app="tests.functional.test_waits")
def test_advancing_the_fixture_clock_resumes_a_waiting_workflow(stepline: Any) -> None:
    handle = stepline.invoke("cool-off", "o-1")
    assert handle.status() is ExecutionStatus.SUSPENDED
    stepline.advance(minutes=5)
    assert handle.result(timeout=1) == "shipped o-1"
