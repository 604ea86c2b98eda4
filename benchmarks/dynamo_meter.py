"""What a DynamoDB client asks of DynamoDB: requests by operation and capacity units.

Counted through botocore's events: ``before-call`` counts requests, ``ReturnConsumedCapacity``
and ``after-call`` sum the units DynamoDB (here moto) reports. A transaction's write units
are counted from its request instead, at DynamoDB's price of 2 units per KB of each item,
since moto reports less.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

WRITE_OPS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
READ_OPS = {"GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"}


class DynamoMeter:
    """Requests and capacity units of one DynamoDB client."""

    def __init__(self, client: Any) -> None:
        self.requests: Counter[str] = Counter()
        self.units = {"write": 0.0, "read": 0.0}
        events = client.meta.events
        for op in WRITE_OPS | READ_OPS:
            events.register(f"before-parameter-build.dynamodb.{op}", self._ask_for_capacity)
        events.register("before-call.dynamodb.*", self._count)
        events.register("before-parameter-build.dynamodb.TransactWriteItems", self._transaction)
        events.register("after-call.dynamodb.*", self._capacity)

    def _ask_for_capacity(self, params: dict[str, Any], **_: Any) -> None:
        params.setdefault("ReturnConsumedCapacity", "TOTAL")

    def _count(self, model: Any, **_: Any) -> None:
        self.requests[model.name] += 1

    def _transaction(self, params: dict[str, Any], **_: Any) -> None:
        self.units["write"] += sum(
            2 * math.ceil(len(json.dumps(next(iter(op.values())).get("Item", {}))) / 1024)
            for op in params["TransactItems"]
        )

    def _capacity(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        if model.name == "TransactWriteItems":
            return  # counted from the request
        kind = "write" if model.name in WRITE_OPS else "read" if model.name in READ_OPS else None
        capacity = parsed.get("ConsumedCapacity") or {}
        if isinstance(capacity, list):  # batch operations report one entry per table
            capacity = {"CapacityUnits": sum(c.get("CapacityUnits", 0.0) for c in capacity)}
        if kind is not None:
            self.units[kind] += float(capacity.get("CapacityUnits", 0.0))

    def reset(self) -> None:
        self.requests.clear()
        self.units = {"write": 0.0, "read": 0.0}

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.requests.items() if op in WRITE_OPS)

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.requests.items() if op in READ_OPS)

    @property
    def write_units(self) -> float:
        return self.units["write"]
