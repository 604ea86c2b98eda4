"""The emulator's EventBridge: put entries reach the targets of the rules they match."""

from __future__ import annotations

import json
from typing import Any

from local_emulator.events import EventDispatcher, EventRoute

ROUTE = EventRoute(
    "topics", "app-bus", {"source": [{"anything-but": ["stepline.lifecycle"]}]}, "app-events"
)


class Lambdas:
    def __init__(self) -> None:
        self.invoked: list[tuple[str, Any]] = []

    def invoke_async(self, name: str, payload: Any) -> str:
        self.invoked.append((name, payload))
        return "request"


def entry(bus: str = "app-bus", source: str = "shop", detail: Any = None) -> dict[str, Any]:
    return {
        "Source": source,
        "DetailType": "order/created",
        "Detail": json.dumps(detail or {"order_id": "o-1"}),
        "EventBusName": bus,
    }


def dispatch(*entries: dict[str, Any], ids: list[str | None] | None = None) -> Lambdas:
    lambdas = Lambdas()
    events = EventDispatcher([ROUTE], lambdas, "123456789012", "us-east-1")  # type: ignore[arg-type]
    answer = {"Entries": [{"EventId": i} if i else {"ErrorCode": "X"} for i in ids or ["e-1"]]}
    events.put_events({"Entries": list(entries)}, answer)
    return lambdas


def test_a_matching_entry_reaches_the_target_as_eventbridge_shapes_it() -> None:
    [(name, event)] = dispatch(entry()).invoked
    assert name == "app-events"
    assert {k: event[k] for k in ("id", "detail-type", "source", "account", "region")} == {
        "id": "e-1",
        "detail-type": "order/created",
        "source": "shop",
        "account": "123456789012",
        "region": "us-east-1",
    }
    assert event["detail"] == {"order_id": "o-1"}


def test_entries_of_another_bus_or_the_lifecycle_source_or_refused_reach_nothing() -> None:
    assert dispatch(entry(bus="default")).invoked == []
    assert dispatch(entry(source="stepline.lifecycle")).invoked == []
    assert dispatch(entry(), ids=[None]).invoked == []


def test_a_bus_named_by_its_arn_is_the_same_bus() -> None:
    arn = "arn:aws:events:us-east-1:123456789012:event-bus/app-bus"
    assert len(dispatch(entry(bus=arn)).invoked) == 1
