"""``TransactWriteItems`` on moto at the cost of the items it touches, not of the table.

moto backs every transaction up by deep-copying each table it names, so a transaction
costs time in proportion to everything the table holds: a topic log or a journal that
grows makes each publish slower than the last, which AWS does not do. With requests
serialized (``local_emulator.dynamodb.atomic``) nothing runs between a transaction's
checks and its writes, so this version checks every condition against the state before
the transaction, refuses the whole transaction with one cancellation reason per item
(as DynamoDB does) if any fails, and only then writes. Should a write fail part-way (an
invalid update expression), the items already written are put back as they were.
"""

from __future__ import annotations

import copy
import threading
from typing import Any

_INSTALL_LOCK = threading.Lock()
_MARK = "__stepline_item_transactions__"
MAX_ITEMS = 100


def item_transactions() -> None:
    """Replace moto's ``transact_write_items`` (idempotent, for the life of the process)."""
    from moto.dynamodb.models import DynamoDBBackend

    with _INSTALL_LOCK:
        if getattr(DynamoDBBackend.transact_write_items, _MARK, False):
            return
        setattr(transact_write_items, _MARK, True)
        DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _key(backend: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
    if op_type != "Put":
        return dict(op["Key"])
    table = backend.get_table(op["TableName"])
    attrs = op["Item"]
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return key


def _check(backend: Any, op: dict[str, Any], key: dict[str, Any]) -> tuple[Any, ...]:
    """(None, None, None) if the item's condition holds; else its cancellation reason."""
    from moto.dynamodb.comparisons import get_filter_expression

    current = backend.get_item(op["TableName"], key)
    expression = op.get("ConditionExpression")
    if expression is None:
        return (None, None, None)
    condition = get_filter_expression(
        expression, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    )
    if condition.expr(current):
        return (None, None, None)
    old = None
    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
        old = current.to_json()["Attributes"]
    return ("ConditionalCheckFailed", "The conditional request failed", old)


def _plan(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[str, Any, Any]]:
    """Each item's (operation, request, key), refusing what DynamoDB refuses outright."""
    from moto.dynamodb.exceptions import (
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > MAX_ITEMS:
        raise TooManyTransactionsException()
    plan, seen = [], set()
    for item in transact_items:
        if len(item) != 1:
            raise TransactWriteSingleOpException
        op_type, op = next(iter(item.items()))
        if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
            raise ValueError(f"unsupported transaction operation {op_type}")
        key = _key(backend, op_type, op)
        unique = (op["TableName"], str(sorted(key.items())))
        if unique in seen:
            raise MultipleTransactionsException()
        seen.add(unique)
        plan.append((op_type, op, key))
    return plan


def _apply(backend: Any, op_type: str, op: dict[str, Any], key: dict[str, Any]) -> None:
    names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
    if op_type == "Put":
        backend.put_item(op["TableName"], op["Item"])
    elif op_type == "Delete":
        backend.delete_item(op["TableName"], key)
    elif op_type == "Update":
        backend.update_item(
            op["TableName"],
            key,
            update_expression=op["UpdateExpression"],
            expression_attribute_names=names,
            expression_attribute_values=values,
        )


def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    from moto.dynamodb.exceptions import TransactionCanceledException

    plan = _plan(self, transact_items)
    reasons = [_check(self, op, key) for _, op, key in plan]
    if any(code is not None for code, _, _ in reasons):
        raise TransactionCanceledException(reasons)
    before = [(op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key)))
              for _, op, key in plan]  # fmt: skip
    try:
        for op_type, op, key in plan:
            _apply(self, op_type, op, key)
    except Exception:
        for table, key, old in before:  # all or nothing
            if old is None:
                self.delete_item(table, key)
            else:
                self.put_item(table, old.to_json()["Attributes"])
        raise
