"""How fast the web page loads with 1000 executions in the emulator (issue 13: under 1 s).

Seeds the emulator running the example app with ``--executions`` executions (recorded
through the SDK's client without running them, so seeding takes seconds) and a few real
``data_pipeline`` runs, then loads the page in headless Chromium with its cache off, each
time from a blank tab, and prints:

- ``list_ms``: from navigation start to the executions list drawn (its first page of 50,
  the page's ``stepline:list-drawn`` performance mark);
- ``list_api_ms``: the ``GET /executions?limit=50`` request within it;
- ``timeline_ms``: from navigation start to a ``data_pipeline`` timeline drawn.

    python benchmarks/ui.py [--executions 1000] [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.template import synth  # noqa: E402
from local_emulator.api_client import ApiClient  # noqa: E402
from local_emulator.emulator import Emulator  # noqa: E402
from sdk.app import App  # noqa: E402
from sdk.client import Client  # noqa: E402
from sdk.journal.dynamodb import DynamoJournal  # noqa: E402
from tests.browser import browser_missing, chrome, wait_until  # noqa: E402
from tests.support import QueueInvoker, eventually  # noqa: E402

BUDGET_MS = 1000.0
MARK = "return (performance.getEntriesByName(arguments[0])[0] || {}).startTime || null;"
API_MS = """
const r = performance.getEntriesByType('resource').find((e) => e.name.includes('executions?'));
return r ? r.duration : null;
"""


def seed(emulator: Emulator, api: ApiClient, count: int) -> str:
    """``count`` recorded executions, and a finished data_pipeline (its id)."""
    assert emulator.stack is not None
    journal = DynamoJournal(emulator.client("dynamodb"), emulator.stack.table_name)
    client = Client(App.from_modules(["examples"]), journal, QueueInvoker())
    order = {"order_id": "o-{}", "items": ["book"], "address": "1 Main St"}

    def record(n: int) -> None:
        client.invoke("fulfil-order", {**order, "order_id": f"o-{n}"})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(record, range(count)))
    started = [api.invoke("data_pipeline", {"source": f"s3://b/{n}", "table": "t"})
               for n in range(5)]  # fmt: skip
    for execution_id in [answer["execution_id"] for answer in started]:
        eventually(lambda: api.execution(execution_id, steps=False)["status"],  # noqa: B023
                   lambda s: s == "completed")  # fmt: skip
    return str(started[-1]["execution_id"])


def load(driver: Any, url: str, mark: str, ready: Any) -> float:
    """Milliseconds from navigation start to ``mark`` on a fresh load of ``url``."""
    driver.get("about:blank")
    driver.get(url)
    wait_until(driver, ready, timeout=30)
    wait_until(driver, lambda d: d.execute_script(MARK, mark) is not None, timeout=30)
    return float(driver.execute_script(MARK, mark))


def measure(count: int, runs: int) -> dict[str, Any]:
    with Emulator(synth(["examples"]), workdir=str(ROOT)) as emulator:
        assert emulator.endpoints is not None
        base = emulator.endpoints.api
        api = ApiClient(base)
        pipeline = seed(emulator, api, count)
        listed = api.executions(None, None, 1000)
        driver = chrome()
        try:
            driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})

            def rows(d: Any) -> bool:
                return len(d.find_elements("css selector", "#executions tr[data-execution]")) >= 50

            def bars(d: Any) -> bool:
                return len(d.find_elements("css selector", "#timeline .row.step")) >= 5

            load(driver, f"{base}/#/", "stepline:list-drawn", rows)  # warm environments
            list_ms, api_ms, timeline_ms = [], [], []
            for _ in range(runs):
                list_ms.append(load(driver, f"{base}/#/", "stepline:list-drawn", rows))
                api_ms.append(float(driver.execute_script(API_MS) or 0))
                timeline_ms.append(load(driver, f"{base}/#/executions/{pipeline}",
                                        "stepline:timeline-drawn", bars))  # fmt: skip
        finally:
            driver.quit()
    return {
        "executions": count,
        "listed_with_limit_1000": len(listed),
        "runs": runs,
        "list_ms_median": round(statistics.median(list_ms), 1),
        "list_ms_max": round(max(list_ms), 1),
        "list_api_ms_median": round(statistics.median(api_ms), 1),
        "timeline_ms_median": round(statistics.median(timeline_ms), 1),
        "timeline_ms_max": round(max(timeline_ms), 1),
        "budget_ms": BUDGET_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executions", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    missing = browser_missing()
    if missing:
        sys.exit(f"cannot run the browser: {missing}")
    result = measure(args.executions, args.runs)
    if args.json:
        print(json.dumps(result))
        return
    print(f"{result['executions']} recorded executions (+ 5 data_pipeline runs) in the emulator, "
          f"{result['runs']} loads, cache off")  # fmt: skip
    print(f"  list drawn        median {result['list_ms_median']} ms, max {result['list_ms_max']} "
          f"ms (GET /executions {result['list_api_ms_median']} ms)")  # fmt: skip
    print(f"  timeline drawn    median {result['timeline_ms_median']} ms, "
          f"max {result['timeline_ms_max']} ms")  # fmt: skip
    worst = max(result["list_ms_max"], result["timeline_ms_max"])
    print(f"  budget {BUDGET_MS:.0f} ms: {'met' if worst < BUDGET_MS else 'MISSED'}")


if __name__ == "__main__":
    main()
