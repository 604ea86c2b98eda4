"""The web page of executions in a real browser: headless Chromium driven by selenium against
the emulator running the example app. Each test saves a screenshot of what it checked.

Skipped only where Chromium, its driver or selenium is missing, and never in CI (``CI`` set):
``.ci/run`` installs them, so there a missing browser fails the test.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.template import synth
from local_emulator.api_client import ApiClient
from local_emulator.emulator import Emulator
from tests.browser import (
    browser_missing,
    chrome,
    click,
    head_status,
    list_rows,
    timeline_rows,
    wait_until,
)
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[2]
MISSING = browser_missing()
SKIP = MISSING is not None and not os.environ.get("CI")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(SKIP, reason=str(MISSING))]

DATA_PIPELINE = [  # the timeline of data_pipeline, top to bottom: (kind, name, depth)
    ("workflow", "data_pipeline", 0),
    ("step", "extract", 1),
    ("step", "transform", 1),
    ("workflow", "child_pipeline", 1),
    ("step", "validate", 2),
    ("step", "enrich", 2),
    ("step", "load", 1),
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(synth(["examples"]), workdir=str(ROOT)) as running:
        yield running


@pytest.fixture(scope="module")
def api(emulator: Emulator) -> ApiClient:
    assert emulator.endpoints is not None
    return ApiClient(emulator.endpoints.api)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    driver = chrome()
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def page(emulator: Emulator, browser: Any, tmp_path: Path, request: Any) -> Iterator[Any]:
    """The browser, opening the page's routes (``page.open('#/topics')``); a screenshot of
    where it ended is saved in the test's tmp dir."""
    assert emulator.endpoints is not None
    base = emulator.endpoints.api

    def open_at(fragment: str = "#/") -> None:
        browser.get(f"{base}/{fragment}")

    browser.open = open_at
    yield browser
    shot = tmp_path / f"{request.node.name}.png"
    browser.save_screenshot(str(shot))
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not [e for e in errors if "favicon" not in e["message"]], errors


def finished(api: ApiClient, execution_id: str) -> dict[str, Any]:
    record: dict[str, Any] = eventually(
        lambda: api.execution(execution_id, steps=False),
        lambda r: r["status"] in ("completed", "failed", "cancelled"),
    )
    return record


def status_of(api: ApiClient, execution_id: str) -> str:
    return str(api.execution(execution_id, steps=False)["status"])


def test_the_page_and_its_files_are_served_at_the_api_s_root(emulator: Emulator) -> None:
    assert emulator.endpoints is not None
    with urllib.request.urlopen(f"{emulator.endpoints.api}/") as answer:
        html = answer.read().decode()
        assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    [script] = [part.split('"')[0] for part in html.split('src="')[1:] if "app.js" in part]
    with urllib.request.urlopen(f"{emulator.endpoints.api}/{script}") as answer:
        assert answer.headers["Content-Type"] == "text/javascript; charset=utf-8"
        assert "immutable" in answer.headers["Cache-Control"]


def test_the_list_shows_the_executions_and_new_ones_appear_live(
    api: ApiClient, page: Any
) -> None:
    first = api.invoke("data_pipeline", {"source": "s3://in", "table": "t1"})["execution_id"]
    finished(api, first)
    page.open("#/")
    wait_until(page, lambda d: first in [row[0] for row in list_rows(d)])
    assert (first, "data_pipeline", "completed") in list_rows(page)
    page.execute_script("window.notReloaded = true")
    later = api.invoke("approval-workflow", {"request_id": "list-1", "action": "a"})
    shown = wait_until(page, lambda d: [r for r in list_rows(d) if r[0] == later["execution_id"]])
    assert shown[0][1] == "approval-workflow"
    assert list_rows(page)[0][0] == later["execution_id"]  # newest first
    assert page.execute_script("return window.notReloaded") is True


def test_the_list_filters_by_workflow_and_status(api: ApiClient, page: Any) -> None:
    done = api.invoke("data_pipeline", {"source": "s3://f", "table": "t"})["execution_id"]
    finished(api, done)
    page.open("#/?workflow=data_pipeline&status=completed")
    wait_until(page, lambda d: done in [row[0] for row in list_rows(d)])
    assert {(wf, status) for _, wf, status in list_rows(page)} == {("data_pipeline", "completed")}


def test_the_timeline_of_data_pipeline_shows_its_steps_in_order_with_the_child_nested(
    api: ApiClient, page: Any
) -> None:
    execution_id = api.invoke("data_pipeline", {"source": "s3://x", "table": "t"})["execution_id"]
    finished(api, execution_id)
    page.open(f"#/executions/{execution_id}")
    wait_until(page, lambda d: len(timeline_rows(d)) == len(DATA_PIPELINE))
    rows = timeline_rows(page)
    assert [row[:3] for row in rows] == DATA_PIPELINE
    assert {row[3] for row in rows} == {"completed"}
    click(page, '#timeline .row.workflow[data-workflow="child_pipeline"] .toggle')
    wait_until(page, lambda d: len(timeline_rows(d)) == len(DATA_PIPELINE) - 2)
    assert "validate" not in [row[1] for row in timeline_rows(page)]
    click(page, '#timeline .row.workflow[data-workflow="child_pipeline"] .toggle')
    wait_until(page, lambda d: [row[:3] for row in timeline_rows(d)] == DATA_PIPELINE)
    assert json.loads(page.find_element("id", "output").text) == 3
    click(page, '#timeline .row.step[data-key="extract"] .label')
    extract = '.step-detail[data-key="extract"] pre.output'
    wait_until(page, lambda d: '"amount": 30' in d.find_element("css selector", extract).text)


def test_a_running_workflow_s_page_follows_it_without_reload(api: ApiClient, page: Any) -> None:
    started = api.invoke("approval-workflow", {"request_id": "live-1", "action": "deploy"})
    execution_id = started["execution_id"]
    page.open(f"#/executions/{execution_id}")
    wait_until(page, lambda d: ("step", "wait_approval", 1, "running") in timeline_rows(d))
    page.execute_script("window.notReloaded = true")
    api.publish("approval.response/live-1", {"approved": True})
    wait_until(page, lambda d: ("step", "execute", 1, "completed") in timeline_rows(d))
    wait_until(page, lambda d: head_status(d) == "completed")
    assert ("step", "wait_approval", 1, "completed") in timeline_rows(page)
    assert json.loads(page.find_element("id", "output").text) == "executed deploy"
    received = '.step-detail[data-key="wait_approval"]'  # the event it waited for, shown
    shown = 'approval.response/live-1 #1  {"approved":true}'
    wait_until(page, lambda d: shown in d.find_element("css selector", received).get_attribute(
        "textContent"))
    assert page.execute_script("return window.notReloaded") is True


def test_cancel_on_the_page_cancels_a_waiting_workflow(api: ApiClient, page: Any) -> None:
    started = api.invoke("approval-workflow", {"request_id": "cancel-1", "action": "drop"})
    execution_id = started["execution_id"]
    eventually(lambda: status_of(api, execution_id), lambda s: s == "suspended")
    page.open(f"#/executions/{execution_id}")
    click(page, "#cancel")
    wait_until(page, lambda d: head_status(d) == "cancelled")
    assert status_of(api, execution_id) == "cancelled"
    root = ("workflow", "approval-workflow", 0, "cancelled")
    wait_until(page, lambda d: root in timeline_rows(d))
    assert not page.find_elements("id", "cancel")


def test_a_failed_child_step_is_red_with_its_message_and_traceback(
    api: ApiClient, page: Any
) -> None:
    order = {"order_id": "o-web", "items": ["book"], "address": "PO Box 7", "pickup_in_seconds": 0}
    execution_id = api.invoke("fulfil-order", order)["execution_id"]
    assert finished(api, execution_id)["status"] == "failed"
    page.open(f"#/executions/{execution_id}")
    wait_until(page, lambda d: ("step", "book-courier", 2, "failed") in timeline_rows(d))
    rows = timeline_rows(page)
    names = [row[1] for row in rows]
    assert names[:4] == ["fulfil-order", "reserve", "ship-parcel", "book-courier"]
    assert rows[0][3] == "failed"
    summary = page.find_element(
        "css selector", '#timeline .row.step[data-key="book-courier"] + .note summary'
    )
    assert "no courier delivers to 'PO Box 7'" in summary.text
    assert summary.value_of_css_property("color") == "rgba(220, 38, 38, 1)"  # red
    traceback = page.find_element(
        "css selector", '#timeline .row.step[data-key="book-courier"] + .note pre.traceback'
    )
    assert "Traceback" in traceback.get_attribute("textContent")


def test_the_topics_view_shows_recent_events_and_subscribers(api: ApiClient, page: Any) -> None:
    api.publish("notifications/new", {"user_id": "u-web", "message": "hello from the page test"})
    page.open("#/topics")
    topic = '#topics .topic[data-topic="notifications/new"]'
    wait_until(page, lambda d: "hello from the page test" in d.find_element(
        "css selector", topic).text)
    assert "notification-handler" in page.find_element("css selector", topic).text


def test_the_schedules_view_shows_the_next_fire_times(page: Any) -> None:
    page.open("#/schedules")
    row = '#schedules tr[data-schedule]'
    wait_until(page, lambda d: d.find_elements("css selector", row))
    text = page.find_element("css selector", row).text
    assert "daily-report" in text and "0 9 * * *" in text
    assert len(page.find_elements("css selector", f"{row} ul.times li")) == 3
