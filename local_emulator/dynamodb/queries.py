"""``Query`` on moto at the cost of the partition it reads, not of the table.

moto answers a query on a table (not on an index) by walking every item of the table and
keeping those of the asked partition, so a query costs time in proportion to everything
the table holds: each resumption of an execution and each publish to a topic get slower
as the journal grows, which DynamoDB does not do. This version hands moto's own query
just the items of the partition asked for (moto keeps them apart already); everything
else (sorting, key conditions, limits, pages, filters, projections) is moto's. It relies
on requests being serialized (``local_emulator.dynamodb.atomic``): the partition is
swapped in for the duration of one request.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_INSTALL_LOCK = threading.Lock()
_MARK = "__stepline_partition_queries__"
_INDEX_NAME_POSITION = 7  # in moto's ``Table.query(hash_key, ..., index_name, ...)``


def partition_queries() -> None:
    """Replace moto's ``Table.query`` (idempotent, for the life of the process)."""
    from moto.dynamodb.models.table import Table

    with _INSTALL_LOCK:
        original = Table.query
        if getattr(original, _MARK, False):
            return

        @functools.wraps(original)
        def query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
            index_name = kwargs.get(
                "index_name",
                args[_INDEX_NAME_POSITION] if len(args) > _INDEX_NAME_POSITION else None,
            )
            if index_name is not None or hash_key is None or not self.range_key_attr:
                return original(self, hash_key, *args, **kwargs)
            partition = self.items.get(hash_key, {})
            self.all_items = lambda: list(partition.values())
            try:
                return original(self, hash_key, *args, **kwargs)
            finally:
                del self.all_items

        setattr(query, _MARK, True)
        Table.query = query  # type: ignore[method-assign]
