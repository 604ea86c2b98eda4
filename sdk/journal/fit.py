"""Journal items that fit DynamoDB: measured before they are written, shrunk or refused.

Both journals pass every item they write through here, so the memory journal
refuses what DynamoDB would refuse (moto does not always enforce the 400 KB limit,
on ``UpdateItem`` in particular: the check is ours). A value that would push its item
past the limit goes to the journal's ``ValueStore`` and the item keeps a reference
(``<attr>_ref``); ``resolve`` brings it back on load.
"""

from __future__ import annotations

from sdk.errors import SerializationError
from sdk.journal.records import (
    INPUT_SK,
    OUTPUT_SK,
    STEP_PREFIX,
    VALUE_ATTR,
    ExecutionRecord,
    Item,
    inline_value,
    value_item,
)
from sdk.sizes import ITEM_LIMIT, MAX_INLINE_VALUE, item_size
from sdk.values import ValueRef, ValueStore, digest, value_key

# What an update of the execution item may add to its small fields, at most.
EXECUTION_RESERVE = 4 * 1024
REF_SUFFIX = "_ref"


def max_value_bytes(values: ValueStore | None) -> int:
    """The largest value a journal with ``values`` (or none) can store."""
    return MAX_INLINE_VALUE if values is None else max(values.max_bytes, MAX_INLINE_VALUE)


def check_item(item: Item, what: str, *, reserve: int = 0) -> None:
    """Refuse ``item`` (``SerializationError`` naming ``what``) if DynamoDB would."""
    size = item_size(item) + reserve
    if size > ITEM_LIMIT:
        raise SerializationError(
            f"{what} would be a DynamoDB item of {size} bytes, over the {ITEM_LIMIT}-byte "
            "item limit"
        )


def offload(item: Item, attr: str, values: ValueStore | None, *, name: str, what: str) -> Item:
    """``item`` ready to write: past the item limit, its value ``attr`` goes to ``values``.

    The store key is ``name`` (under the execution) plus the value's hash, so a retried
    write puts the same object again and a losing racer never overwrites the winner's.
    Raises ``SerializationError`` when it does not fit even so.
    """
    value = item.get(attr)
    if item_size(item) <= ITEM_LIMIT or value is None or values is None:
        check_item(item, what)
        return item
    data = str(value["S"]).encode()
    if len(data) > values.max_bytes:
        raise SerializationError(
            f"the value of {what} is {len(data)} bytes, more than the {values.max_bytes} "
            "bytes the value store takes"
        )
    key = f"{value_key(str(item['pk']['S']), name)}/{digest(data)[:16]}"
    ref = values.put(key, data)
    shrunk = {k: v for k, v in item.items() if k != attr}
    shrunk[attr + REF_SUFFIX] = {"M": ref.to_item()}
    check_item(shrunk, what)
    return shrunk


def resolve(item: Item, attr: str, values: ValueStore | None) -> Item:
    """``item`` with its value ``attr`` fetched back from ``values`` if it was offloaded."""
    ref_attr = item.get(attr + REF_SUFFIX)
    if ref_attr is None:
        return item
    ref = ValueRef.from_item(ref_attr["M"])
    if values is None:
        raise SerializationError(
            f"a value of execution {item['pk']['S']!r} is in a value store ({ref.location}) "
            "but this journal was built without one"
        )
    restored = {k: v for k, v in item.items() if k != attr + REF_SUFFIX}
    restored[attr] = {"S": values.get(ref).decode()}
    return restored


def step_item(execution_id: str, item: Item, values: ValueStore | None) -> Item:
    """A step record's item, its output offloaded if need be."""
    key = str(item["sk"]["S"])[len(STEP_PREFIX) :]
    what = f"step {key!r} of execution {execution_id!r}"
    return offload(item, "out", values, name=f"steps/{key}", what=what)


def output_item(
    execution_id: str, output: str, values: ValueStore | None, *, expires_at: int | None
) -> Item:
    """The ``#output`` item of a value too long for the execution item."""
    what = f"the output of execution {execution_id!r}"
    item = value_item(execution_id, OUTPUT_SK, output, expires_at=expires_at)
    return offload(item, VALUE_ATTR, values, name="output", what=what)


def execution_items(record: ExecutionRecord, values: ValueStore | None) -> tuple[Item, list[Item]]:
    """A new execution's item (checked) and the items of its long input or output.

    Those items expire with the execution item as created (``record.expires_at``).
    """
    eid = record.execution_id
    item = record.to_item()
    check_item(item, f"execution {eid!r}", reserve=EXECUTION_RESERVE)
    extra: list[Item] = []
    if record.input is not None and not inline_value(record.input):
        what = f"the input of execution {eid!r}"
        raw = value_item(eid, INPUT_SK, record.input, expires_at=record.expires_at)
        extra.append(offload(raw, VALUE_ATTR, values, name="input", what=what))
    if record.output is not None and not inline_value(record.output):
        extra.append(output_item(eid, record.output, values, expires_at=record.expires_at))
    return item, extra
