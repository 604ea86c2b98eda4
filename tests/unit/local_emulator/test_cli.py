"""The ``stepline`` command, driven with click's ``CliRunner``."""

from __future__ import annotations

from click.testing import CliRunner

from local_emulator.cli import main


def test_the_demo_runs_every_example_to_completion() -> None:
    result = CliRunner().invoke(main, ["demo"])
    assert result.exit_code == 0, result.output
    headers = [line for line in result.output.splitlines() if not line.startswith(" ")]
    assert len(headers) == 6 and all(line.endswith(": completed") for line in headers)
    assert '"status":"completed"' in result.output
    assert "payment-id" in result.output and "uuid" in result.output


def test_the_demo_refuses_an_unknown_app_module() -> None:
    result = CliRunner().invoke(main, ["demo", "--app", "no_such_app"])
    assert result.exit_code == 1
    assert "Error: cannot import app module 'no_such_app'" in result.output
