"""The fulfilment example on both journals: a wait, a child, a failure and a cancellation."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from examples.fulfilment import fulfil_order, ship_parcel
from sdk import ExecutionStatus
from sdk.errors import ChildWorkflowFailedError
from tests.support import Harness

Build = Callable[..., Harness]
ORDER = {"order_id": "o-1", "items": ["book", "pen"], "address": "1 Main St"}


@pytest.mark.parametrize("always_replay", [False, True])
def test_an_order_is_shipped_after_the_pickup_slot(harness: Build, always_replay: bool) -> None:
    h = harness(fulfil_order, ship_parcel, always_replay=always_replay)
    handle = h.client.invoke(fulfil_order, {**ORDER, "pickup_in_seconds": 30})
    [child] = h.journal.list_children(handle.id)
    assert handle.status() is ExecutionStatus.SUSPENDED
    assert child.status is ExecutionStatus.SUSPENDED
    h.advance(seconds=30)
    output = handle.result(timeout=5)
    assert output.model_dump() == {
        "order_id": "o-1", "reservation_id": "res-o-1-2", "tracking_id": "track-o-1",
        "notified": True,
    }  # fmt: skip
    steps = sorted(
        (s for s in h.steps(child.execution_id).values() if not s.bookkeeping),
        key=lambda step: step.position,
    )
    assert [step.key for step in steps] == ["book-courier", "pickup-slot", "hand-over"]


def test_an_address_no_courier_serves_fails_the_shipment_and_releases_the_items(
    harness: Build,
) -> None:
    h = harness(fulfil_order, ship_parcel)
    handle = h.client.invoke(fulfil_order, {**ORDER, "address": "PO Box 7"})
    with pytest.raises(ChildWorkflowFailedError, match="no courier delivers to 'PO Box 7'"):
        handle.result(timeout=5)
    [child] = h.journal.list_children(handle.id)
    assert child.status is ExecutionStatus.FAILED
    assert h.steps(handle.id)["release"].output == "true"  # recorded as JSON


def test_cancelling_a_fulfilment_waiting_for_pickup_cancels_the_shipment(harness: Build) -> None:
    h = harness(fulfil_order, ship_parcel)
    handle = h.client.invoke(fulfil_order, {**ORDER, "pickup_in_seconds": 600})
    [child] = h.journal.list_children(handle.id)
    assert handle.cancel().status is ExecutionStatus.CANCELLED
    assert h.client.get_execution(child.execution_id).status is ExecutionStatus.CANCELLED
    h.advance(seconds=600)
    assert "hand-over" not in h.steps(child.execution_id)
    assert "notify" not in h.steps(handle.id)
