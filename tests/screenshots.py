"""Regenerate the web page's screenshots in ``docs/img``: ``python -m tests.screenshots docs/img``.

Starts the emulator with the example app, runs a few executions (a data pipeline with its
child, an approval left waiting, a fulfilment whose courier refuses the address, an event
on a topic), then photographs each view in headless Chromium (``tests.browser``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from infra.template import synth
from local_emulator.api_client import ApiClient
from local_emulator.emulator import Emulator
from tests.browser import browser_missing, chrome, list_rows, timeline_rows, wait_until
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[1]
VIEWS = ("executions.png", "timeline.png", "timeline-wait.png", "timeline-failed.png",
         "topics.png", "schedules.png")


def _finished(api: ApiClient, execution_id: str) -> None:
    eventually(lambda: api.execution(execution_id, steps=False)["status"],
               lambda s: s in ("completed", "failed", "cancelled"))  # fmt: skip


def seed(api: ApiClient) -> dict[str, str]:
    """Executions worth showing; their ids by name."""
    ids = {
        "pipeline": api.invoke("data_pipeline", {"source": "s3://sales/2026-11", "table": "sales"}),
        "shipped": api.invoke("fulfil-order", {"order_id": "o-1001", "items": ["book", "lamp"],
                                               "address": "1 Main St", "pickup_in_seconds": 1}),
        "refused": api.invoke("fulfil-order", {"order_id": "o-1002", "items": ["desk"],
                                               "address": "PO Box 12", "pickup_in_seconds": 0}),
        "approved": api.invoke("approval-workflow", {"request_id": "req-7", "action": "deploy"}),
    }  # fmt: skip
    found = {name: answer["execution_id"] for name, answer in ids.items()}
    for name in ("pipeline", "shipped", "refused"):
        _finished(api, found[name])
    eventually(lambda: api.execution(found["approved"], steps=False)["status"],
               lambda s: s == "suspended")  # fmt: skip
    api.publish("approval.response/req-7", {"approved": True, "by": "ana"})
    _finished(api, found["approved"])
    waiting = api.invoke("approval-workflow", {"request_id": "req-8", "action": "rollback"})
    found["waiting"] = waiting["execution_id"]
    api.invoke("create-user", {"name": "Ana", "email": "ana@example.com"})  # publishes one
    api.publish("notifications/new", {"user_id": "u-42", "message": "Your parcel is on its way"})
    return found


def capture(driver: Any, base: str, ids: dict[str, str], folder: Path) -> list[Path]:
    """One screenshot of each view in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []

    def shoot(name: str) -> None:
        path = folder / name
        driver.save_screenshot(str(path))
        shots.append(path)

    driver.get(f"{base}/#/")
    wait_until(driver, lambda d: ids["waiting"] in [row[0] for row in list_rows(d)])
    shoot("executions.png")
    driver.get(f"{base}/#/executions/{ids['pipeline']}")
    wait_until(driver, lambda d: len(timeline_rows(d)) == 7)
    shoot("timeline.png")
    driver.get(f"{base}/#/executions/{ids['shipped']}")
    wait_until(driver, lambda d: ("step", "pickup-slot", 2, "completed") in timeline_rows(d))
    shoot("timeline-wait.png")
    driver.get(f"{base}/#/executions/{ids['refused']}")
    wait_until(driver, lambda d: ("step", "book-courier", 2, "failed") in timeline_rows(d))
    shoot("timeline-failed.png")
    driver.get(f"{base}/#/topics")
    wait_until(driver, lambda d: "Your parcel" in d.find_element("id", "topics").text)
    shoot("topics.png")
    driver.get(f"{base}/#/schedules")
    wait_until(driver, lambda d: d.find_elements("css selector", "#schedules tr[data-schedule]"))
    shoot("schedules.png")
    return shots


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.screenshots FOLDER   (docs/img)", file=sys.stderr)
        return 2
    missing = browser_missing()
    if missing:
        print(f"cannot take screenshots: {missing}", file=sys.stderr)
        return 1
    with Emulator(synth(["examples"]), workdir=str(ROOT)) as emulator:
        assert emulator.endpoints is not None
        ids = seed(ApiClient(emulator.endpoints.api))
        driver = chrome(1440, 820)
        try:
            for path in capture(driver, emulator.endpoints.api, ids, Path(argv[0])):
                print(f"wrote {path}")
        finally:
            driver.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
