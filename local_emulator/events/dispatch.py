"""The stack's event rules and the dispatch of put events to their Lambda targets."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local_emulator.lambda_.service import LambdaService, function_name
from local_emulator.stack import Stack
from sdk.clock import SystemClock

logger = logging.getLogger("stepline.emulator")
DEFAULT_BUS = "default"


@dataclass(frozen=True)
class EventRoute:
    """One rule: events on ``bus`` matching ``pattern`` go to the function ``function``."""

    rule: str
    bus: str
    pattern: dict[str, Any]
    function: str

    def matches(self, bus: str, event: dict[str, Any]) -> bool:
        from moto.events.models import EventPattern

        matched: bool = EventPattern(None, self.pattern).matches_event(event)  # type: ignore[arg-type]
        return bus == self.bus and matched


def event_routes(stack: Stack) -> list[EventRoute]:
    """The routes of the stack's rules that match events (not schedules) to its functions."""
    routes = []
    for logical, resource in stack.emulated_of_type("AWS::Events::Rule").items():
        props = stack.resolve(resource.get("Properties", {}))
        if "EventPattern" not in props or props.get("State", "ENABLED") != "ENABLED":
            continue
        pattern = props["EventPattern"]
        if isinstance(pattern, str):
            pattern = json.loads(pattern)
        bus = _bus_name(str(props.get("EventBusName") or DEFAULT_BUS))
        for target in props.get("Targets", []):
            name = function_name(str(target["Arn"]))
            if name in stack.functions:
                routes.append(EventRoute(str(props.get("Name") or logical), bus, pattern, name))
    return routes


def _bus_name(name_or_arn: str) -> str:
    return name_or_arn.rsplit("/", 1)[-1] if name_or_arn.startswith("arn:") else name_or_arn


def bridge_event(entry: dict[str, Any], event_id: str, account: str, region: str) -> dict[str, Any]:
    """An entry of ``PutEvents`` as EventBridge hands it to a target."""
    detail = entry.get("Detail") or "{}"
    when = entry.get("Time")
    if isinstance(when, int | float):
        moment = datetime.fromtimestamp(when, UTC)
    else:
        moment = SystemClock().now()
    return {
        "version": "0",
        "id": event_id,
        "detail-type": entry.get("DetailType"),
        "source": entry.get("Source"),
        "account": account,
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": list(entry.get("Resources") or []),
        "detail": json.loads(detail),
    }


class EventDispatcher:
    """Invokes the targets of the rules matching each accepted ``PutEvents`` entry."""

    def __init__(
        self, routes: list[EventRoute], lambdas: LambdaService, account: str, region: str
    ) -> None:
        self.routes = routes
        self.lambdas = lambdas
        self.account = account
        self.region = region
        self.delivered = 0

    def put_events(self, request: dict[str, Any], response: dict[str, Any]) -> None:
        """``request`` and ``response`` of one ``PutEvents`` call moto accepted."""
        entries, results = request.get("Entries", []), response.get("Entries", [])
        for entry, result in zip(entries, results, strict=False):  # moto answers each entry
            event_id = result.get("EventId")
            if not event_id:
                continue  # moto refused this entry: EventBridge would deliver nothing
            bus = _bus_name(str(entry.get("EventBusName") or DEFAULT_BUS))
            try:
                event = bridge_event(entry, event_id, self.account, self.region)
            except json.JSONDecodeError:
                continue  # moto accepted Detail; EventBridge refuses non-JSON
            for route in self.routes:
                if route.matches(bus, event):
                    self.lambdas.invoke_async(route.function, event)
                    self.delivered += 1
