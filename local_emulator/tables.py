"""Tables for people, with rich."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

STATUS_STYLE = {"completed": "green", "failed": "red", "running": "yellow", "cancelled": "magenta"}


def _console() -> Console:
    return Console(soft_wrap=True)


def _status(status: str) -> str:
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{status}[/{style}]" if style else status


def workflows_table(workflows: list[dict[str, Any]]) -> None:
    table = Table("workflow", "trigger", "batch", "schedule")
    for wf in workflows:
        batch = (
            ""
            if wf["batch_size"] is None
            else f"{wf['batch_size']} / {wf['batch_timeout_seconds']}s"
        )
        schedule = (
            ""
            if wf["schedule"] is None
            else f"{wf['schedule']['cron']} ({wf['schedule']['timezone']})"
        )
        table.add_row(wf["id"], wf["trigger_on_event"] or "", batch, schedule)
    _console().print(table)


def topics_table(topics: list[dict[str, Any]]) -> None:
    table = Table("topic", "last sequence id", "subscribers")
    for topic in topics:
        table.add_row(
            topic["topic"], str(topic["last_sequence_id"]), ", ".join(topic["subscribers"])
        )
    _console().print(table)


def runs_table(executions: list[dict[str, Any]]) -> None:
    table = Table("execution", "workflow", "status", "created", "finished")
    for ex in executions:
        table.add_row(
            ex["execution_id"], ex["workflow_id"], _status(ex["status"]),
            ex["created_at"], ex["finished_at"] or "",
        )  # fmt: skip
    _console().print(table)


def execution_panel(ex: dict[str, Any]) -> None:
    console = _console()
    console.print(f"[bold]{ex['workflow_id']}[/bold] {ex['execution_id']}: {_status(ex['status'])}")
    console.print(
        f"created {ex['created_at']}  started {ex['started_at']}  finished {ex['finished_at']}"
    )
    table = Table("step", "type", "status", "attempts", "started", "ms", "output / error")
    for step in ex.get("steps", []):
        shown = (
            step["output"]
            if step["error"] is None
            else f"{step['error']['type']}: {step['error']['message']}"
        )
        took = "" if step["duration_ms"] is None else f"{step['duration_ms']:.1f}"
        table.add_row(
            step["key"], step["step_type"], _status(step["status"]), str(step["attempts"]),
            step["started_at"] or "", took, shown if isinstance(shown, str) else json.dumps(shown),
        )  # fmt: skip
    console.print(table)
    if ex["error"] is not None:
        console.print(f"[red]error[/red] {ex['error']['type']}: {ex['error']['message']}")
    else:
        console.print(f"output {json.dumps(ex['output'])}")


def schedules_table(schedules: list[dict[str, Any]]) -> None:
    """Schedules with their next three fire times (at the schedule's own offset)."""
    table = Table("schedule", "cron", "timezone", "state", "overlap", "skipped", "next")
    for sc in schedules:
        skipped = str(sc["skipped"])
        if sc["last_skipped"]:
            skipped += f" (last {sc['last_skipped']})"
        origin = "" if sc["origin"] == "runtime" else " (declared)"
        table.add_row(
            sc["schedule_id"] + origin, sc["cron"], sc["timezone"], sc["state"], sc["overlap"],
            skipped, "\n".join(sc["next"]) or "-",
        )  # fmt: skip
    _console().print(table)
