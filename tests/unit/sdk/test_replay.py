"""The replay decision as a pure function of call, record and used keys."""

from __future__ import annotations

import pytest

from sdk.errors import DuplicateStepKeyError, NonDeterministicError
from sdk.journal import StepRecord, StepStatus
from sdk.replay import StepCall, check_key, decide

RECORD = StepRecord("charge", "run", "charge_card", StepStatus.COMPLETED, output="1")


def test_an_unrecorded_step_runs() -> None:
    assert decide(StepCall("charge", "run", "charge_card"), None, set()) is None


def test_a_recorded_step_is_replayed() -> None:
    assert decide(StepCall("charge", "run", "charge_card"), RECORD, {"other"}) is RECORD


def test_a_key_already_used_is_refused_naming_it() -> None:
    with pytest.raises(DuplicateStepKeyError, match="step key 'charge' is used twice"):
        decide(StepCall("charge", "run", "charge_card"), None, {"charge"})


def test_another_callable_at_a_recorded_key_is_non_deterministic() -> None:
    with pytest.raises(
        NonDeterministicError,
        match=r"'charge' was recorded as run\(charge_card\) .* now calls run\(refund\)",
    ):
        decide(StepCall("charge", "run", "refund"), RECORD, set())


def test_another_step_type_at_a_recorded_key_is_non_deterministic() -> None:
    with pytest.raises(NonDeterministicError, match=r"recorded as run\(charge_card\) .* uuid"):
        decide(StepCall("charge", "uuid"), RECORD, set())


@pytest.mark.parametrize("key", ["", None, 3, "x" * 901])
def test_bad_keys_are_refused(key: object) -> None:
    with pytest.raises(ValueError, match="step key"):
        check_key(key)


def test_control_characters_are_kept_for_stepline_s_own_keys() -> None:
    with pytest.raises(ValueError, match="contains a control character"):
        check_key("batch\x1f0")
