"""The schedules moto stores but never fires, fired by the emulator on the real clock.

Every ``interval`` the dispatcher lists the schedules in moto's EventBridge Scheduler.
It invokes the target Lambda function of each one-time (``at(...)``) schedule that is
due with its input, and deletes those marked ``ActionAfterCompletion: DELETE``. Where
the input carries an exact ``wake_at`` (Stepline's wake-ups do), that time is used,
since ``at()`` holds whole seconds only.

Recurring (``cron(...)``, ``rate(...)``) schedules created at run time (Stepline's runtime
schedules) fire at each time their expression comes due in their timezone
(``local_emulator.scheduler.expressions``), from when the dispatcher first sees them
(or sees them changed: a resumed schedule fires from then on), with their input's
context attributes filled in as Scheduler does; a ``DISABLED`` one does not fire.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from local_emulator.lambda_.service import LambdaService
from local_emulator.scheduler.expressions import ScheduleExpressionError, parse
from local_emulator.scheduler.recurring import RecurringSchedule
from sdk.clock import Clock, SystemClock
from sdk.journal.records import parse_iso

AT = re.compile(r"^at\((?P<when>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\)$")
logger = logging.getLogger("stepline.emulator")


def due_time(schedule: dict[str, Any]) -> datetime | None:
    """When a one-time schedule fires, or None for other kinds."""
    match = AT.match(schedule.get("ScheduleExpression", ""))
    if match is None:
        return None
    try:
        exact = json.loads(schedule["Target"].get("Input") or "{}").get("wake_at")
        if exact:
            return parse_iso(exact)
    except (ValueError, AttributeError):
        pass
    zone = ZoneInfo(schedule.get("ScheduleExpressionTimezone") or "UTC")
    return datetime.fromisoformat(match["when"]).replace(tzinfo=zone)


class ScheduleDispatcher:
    """Fires due one-time schedules; a thread between ``start`` and ``stop``."""

    def __init__(
        self,
        scheduler: Any,
        lambdas: LambdaService,
        *,
        clock: Clock | None = None,
        interval: float = 0.05,
    ) -> None:
        self._scheduler = scheduler
        self._lambdas = lambdas
        self._clock: Clock = clock or SystemClock()
        self._interval = interval
        # (schedule ARN, last modified) -> its details; a changed schedule is read again
        self._known: dict[tuple[str, Any], dict[str, Any]] = {}
        self._next: dict[tuple[str, Any], datetime | None] = {}  # recurring: when next due
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stepline-scheduler", daemon=True)
        self.fired = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.tick()
            except Exception:  # a failed round is logged and tried again
                logger.exception("schedule dispatcher round failed")

    def upcoming(self) -> dict[str, datetime | None]:
        """When each recurring schedule seen so far fires next, by schedule ARN."""
        return {arn: due for (arn, _), due in dict(self._next).items()}

    def _listed(self) -> list[dict[str, Any]]:
        pages = self._scheduler.get_paginator("list_schedules").paginate()
        return [entry for page in pages for entry in page["Schedules"]]

    def tick(self) -> int:
        """Fire what is due now; returns how many fired."""
        now = self._clock.now()
        fired = 0
        listed = self._listed()
        current = {(entry["Arn"], entry.get("LastModificationDate")) for entry in listed}
        self._known = {key: detail for key, detail in self._known.items() if key in current}
        self._next = {key: due for key, due in self._next.items() if key in current}
        for entry in listed:
            key = (entry["Arn"], entry.get("LastModificationDate"))
            detail = self._known.get(key)
            if detail is None:
                detail = self._scheduler.get_schedule(
                    Name=entry["Name"], GroupName=entry["GroupName"]
                )
                self._known[key] = detail
            when = due_time(detail)
            if when is None:
                fired += self._recurring(key, detail, now)
                continue
            if when > now:
                continue
            target = detail["Target"]
            self._lambdas.invoke_async(target["Arn"], json.loads(target.get("Input") or "{}"))
            if detail.get("ActionAfterCompletion") == "DELETE":
                self._scheduler.delete_schedule(Name=entry["Name"], GroupName=entry["GroupName"])
                self._known.pop(key, None)
            fired += 1
        self.fired += fired
        return fired

    def _recurring(self, key: tuple[str, Any], detail: dict[str, Any], now: datetime) -> int:
        """Fire a recurring schedule if its expression came due; how many times (0 or 1)."""
        if detail.get("State", "ENABLED") != "ENABLED":
            return 0
        try:
            zone = detail.get("ScheduleExpressionTimezone") or "UTC"
            when = parse(detail["ScheduleExpression"], zone)
        except ScheduleExpressionError as exc:
            logger.warning("schedule %s is not fired by the emulator: %s", detail["Name"], exc)
            self._next[key] = None
            return 0
        if key not in self._next:
            self._next[key] = when.next_after(now)
        due = self._next[key]
        if due is None or due > now:
            return 0
        target = detail["Target"]
        schedule = RecurringSchedule(
            detail["Name"], detail["Arn"], target["Arn"], when, "scheduler", target.get("Input")
        )
        self._lambdas.invoke_async(target["Arn"], schedule.payload(due))
        following = when.next_after(due)
        if following is not None and following <= now:  # fell behind: carry on from now
            following = when.next_after(now)
        self._next[key] = following
        return 1
