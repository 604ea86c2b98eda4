"""docs/costs.md is computed from requests counted while workflows run; these stay true."""

from __future__ import annotations

from pathlib import Path

from benchmarks import costs

DOC = Path(__file__).resolve().parents[2] / "docs" / "costs.md"


def test_a_step_costs_under_the_budget_on_list_prices() -> None:
    results = costs.run()
    assert results["within_budget"], results["per_million_steps_arm64"]
    sequential = results["scenarios"][0]["counts"]
    # One write per step, plus the execution's own start, lease and finish.
    assert sequential["dynamodb_requests"]["PutItem"] == 1001
    assert sequential["write_units"] <= 1.01 * 1000


def test_the_doc_shows_the_requests_counted_today() -> None:
    """The request counts are deterministic: a stale docs/costs.md fails here."""
    results = costs.run()
    text = DOC.read_text()
    for scenario in results["scenarios"]:
        counts = scenario["counts"]
        requests = ", ".join(f"{n} {op}" for op, n in counts["dynamodb_requests"].items())
        row = f"| {scenario['name']} | {scenario['steps']} | {requests} |"
        assert row in text, f"docs/costs.md is stale: regenerate it ({row})"
