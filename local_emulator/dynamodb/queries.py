"""``Query`` on moto at the cost of the partition it reads, not of the table.

moto answers a query on a table (not on an index) by walking every item of the table and
keeping those of the asked partition, then measures the size of each before comparing
its sort key, so a query costs time in proportion to everything the table holds: each
resumption of an execution and each publish to a topic get slower as the journal grows,
which DynamoDB does not do. This version hands moto's own query just the items of the
partition asked for (moto keeps them apart already) whose sort key meets the key
condition; everything else (sorting, the condition again, limits, pages, filters,
projections) is moto's. It relies
on requests being serialized (``local_emulator.dynamodb.atomic``): the partition is
swapped in for the duration of one request.
"""

from __future__ import annotations

import functools
import inspect
import threading
from typing import Any

_INSTALL_LOCK = threading.Lock()
_MARK = "__stepline_partition_queries__"


def partition_queries() -> None:
    """Replace moto's ``Table.query`` (idempotent, for the life of the process)."""
    from moto.dynamodb.models.table import Table

    with _INSTALL_LOCK:
        original = Table.query
        if getattr(original, _MARK, False):
            return

        signature = inspect.signature(original)

        @functools.wraps(original)
        def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
            asked = signature.bind(self, hash_key, *args, **kwargs).arguments
            if asked.get("index_name") or hash_key is None or not self.range_key_attr:
                return original(self, hash_key, *args, **kwargs)
            items = list(self.items.get(hash_key, {}).values())
            comparison, operands = asked.get("range_comparison"), asked.get("range_objs")
            if comparison:  # moto measures each item before comparing its key
                items = [i for i in items if i.range_key.compare(comparison, operands)]
            self.all_items = lambda: items
            try:
                return original(self, hash_key, *args, **kwargs)
            finally:
                del self.all_items

        setattr(query, _MARK, True)
        Table.query = query  # type: ignore[method-assign]
