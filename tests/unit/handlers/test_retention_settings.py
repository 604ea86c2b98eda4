"""The stack's retention period and maximum lifetime come from the functions' environment."""

from __future__ import annotations

import pytest

from handlers.config import HandlerSettings, journal_from_environ, retention_from_environ
from sdk.journal.retention import DAY_SECONDS, Retention

DAY = DAY_SECONDS


def test_without_the_variables_executions_are_kept_30_days_and_live_365() -> None:
    assert retention_from_environ({}) == Retention(30 * DAY, 365 * DAY)
    blank = {"STEPLINE_RETENTION_DAYS": "", "STEPLINE_MAX_LIFETIME_DAYS": " "}
    assert retention_from_environ(blank) == Retention(30 * DAY, 365 * DAY)


def test_the_variables_set_both_in_days() -> None:
    environ = {"STEPLINE_RETENTION_DAYS": "7", "STEPLINE_MAX_LIFETIME_DAYS": " 90 "}
    assert retention_from_environ(environ) == Retention(7 * DAY, 90 * DAY)


@pytest.mark.parametrize("name", ["STEPLINE_RETENTION_DAYS", "STEPLINE_MAX_LIFETIME_DAYS"])
@pytest.mark.parametrize("value", ["0", "-3", "thirty", "1.5", "nan", "36501"])
def test_a_bad_value_is_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(
        ValueError,
        match=rf"^{name} must be a whole number of days from 1 to 36500, got '{value}'$",
    ):
        retention_from_environ({name: value})


def test_the_deployed_journal_uses_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPLINE_RETENTION_DAYS", "2")
    monkeypatch.setenv("STEPLINE_MAX_LIFETIME_DAYS", "10")
    settings = HandlerSettings(app_modules=("examples",), table_name="journal")
    assert journal_from_environ(settings).retention == Retention(2 * DAY, 10 * DAY)


def test_a_deployment_with_a_bad_value_fails_at_cold_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEPLINE_MAX_LIFETIME_DAYS", "0")
    settings = HandlerSettings(app_modules=("examples",), table_name="journal")
    with pytest.raises(ValueError, match="STEPLINE_MAX_LIFETIME_DAYS must be a whole number"):
        journal_from_environ(settings)
