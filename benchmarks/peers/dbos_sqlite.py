"""DBOS Transact on SQLite: the benchmark workflows as DBOS workflows and steps."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from dbos import DBOS


@DBOS.step()
def trivial(i: int) -> int:
    return i


@DBOS.step()
async def trivial_async(i: int) -> int:
    return i


@DBOS.workflow()
def sequential(n: int) -> int:
    for i in range(n):
        trivial(i)
    return n


@DBOS.workflow()
async def fan_out(n: int) -> int:
    await asyncio.gather(*(trivial_async(i) for i in range(n)))
    return n


class Peer:
    name = "dbos-sqlite"

    def __init__(self, workdir: Path) -> None:
        url = f"sqlite:///{workdir / 'dbos.sqlite'}"
        DBOS(config={"name": "stepline-bench", "system_database_url": url, "log_level": "ERROR"})
        DBOS.launch()

    def run(self, kind: str, n: int) -> float:
        """Seconds for one whole workflow of ``n`` steps."""
        start = time.perf_counter()
        if kind == "sequential":
            assert sequential(n) == n
        else:
            assert asyncio.run(fan_out(n)) == n
        return time.perf_counter() - start

    def close(self) -> None:
        DBOS.destroy()
