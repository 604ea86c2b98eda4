"""The ``stepline`` pytest fixture (registered through the ``pytest11`` entry point).

    def test_order(stepline):
        handle = stepline.invoke(process_order, {"order_id": "o-1", "amount": 42})
        assert handle.result(timeout=5).status == "completed"

The app is the ``stepline_app`` ini option (default ``examples``) or
``@pytest.mark.stepline(app="my_app")``; ``@pytest.mark.stepline(processes=True)``
runs the functions in worker processes instead of in-process;
``@pytest.mark.stepline(start="2030-03-27T12:00:00+00:00")`` starts the in-process
fixture's virtual clock then (schedules tick from there). No AWS credentials
or network are needed. Nothing heavy is imported until a test asks for the fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini("stepline_app", "modules of the Stepline app under test", default="examples")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stepline(app=None, processes=False, start=None): the app, mode and virtual start "
        "time of the stepline fixture",
    )


@pytest.fixture
def stepline(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The app under test on moto: in-process with a virtual clock, or in worker processes."""
    from local_emulator.testing import InProcessStepline, WorkerStepline

    marker = request.node.get_closest_marker("stepline")
    options = dict(marker.kwargs) if marker is not None else {}
    app = options.get("app") or request.config.getini("stepline_app")
    modules = [m.strip() for m in str(app).split(",") if m.strip()]
    harness: InProcessStepline | WorkerStepline
    if options.get("processes"):
        harness = WorkerStepline(modules, workdir=str(request.config.rootpath))
    else:
        harness = InProcessStepline(modules, _clock(options.get("start")))
    try:
        yield harness
    finally:
        harness.close()


def _clock(start: Any) -> Any:
    """The virtual clock of ``start`` (an aware datetime or ISO 8601 text), or None."""
    if start is None:
        return None
    from datetime import datetime

    from sdk.clock import VirtualClock

    moment = start if isinstance(start, datetime) else datetime.fromisoformat(str(start))
    return VirtualClock(moment)
