"""The user tests shown in the README: the ``stepline`` fixture, in both of its modes."""

import pytest

from examples.orders import process_order


def test_process_order_completes(stepline):
    handle = stepline.invoke(process_order, {"order_id": "o-1", "amount": 42})

    result = handle.result(timeout=5)

    assert result.status == "completed"
    assert [step.key for step in stepline.steps(handle.id)] == [
        "validate", "payment-id", "reserve", "charge", "confirm",
    ]  # fmt: skip


@pytest.mark.slow
@pytest.mark.stepline(processes=True)
def test_process_order_completes_in_worker_processes(stepline):
    handle = stepline.invoke(process_order, {"order_id": "o-2", "amount": 7})

    assert handle.result(timeout=30).status == "completed"
