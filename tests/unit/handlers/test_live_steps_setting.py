"""``STEPLINE_LIVE_STEPS``: whether the runner marks each step's start for live streams."""

from __future__ import annotations

import pytest

from handlers.config import live_steps_from_environ


@pytest.mark.parametrize(
    ("environ", "expected"),
    [({}, False), ({"STEPLINE_LIVE_STEPS": "false"}, False),
     ({"STEPLINE_LIVE_STEPS": "true"}, True), ({"STEPLINE_LIVE_STEPS": " TRUE "}, True)],
)  # fmt: skip
def test_live_steps_are_off_unless_asked_for(environ: dict[str, str], expected: bool) -> None:
    assert live_steps_from_environ(environ) is expected


def test_a_value_other_than_true_or_false_is_refused_naming_the_variable() -> None:
    expected = "STEPLINE_LIVE_STEPS must be 'true' or 'false', got 'yes'"
    with pytest.raises(RuntimeError, match=expected):
        live_steps_from_environ({"STEPLINE_LIVE_STEPS": "yes"})
