"""The schedules moto stores but never fires, fired by the emulator on the real clock.

Every ``interval`` the dispatcher lists the one-time (``at(...)``) schedules in moto's
EventBridge Scheduler, invokes the target Lambda function of each one that is due
with its input, and deletes those marked ``ActionAfterCompletion: DELETE``. Where
the input carries an exact ``wake_at`` (Stepline's wake-ups do), that time is used,
since ``at()`` holds whole seconds only.
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
        self._known: dict[str, dict[str, Any]] = {}  # schedule ARN -> its details
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

    def tick(self) -> int:
        """Fire what is due now; returns how many fired."""
        now = self._clock.now()
        fired = 0
        listed = self._scheduler.list_schedules()["Schedules"]
        current = {entry["Arn"] for entry in listed}
        self._known = {arn: detail for arn, detail in self._known.items() if arn in current}
        for entry in listed:
            detail = self._known.get(entry["Arn"])
            if detail is None:
                detail = self._scheduler.get_schedule(
                    Name=entry["Name"], GroupName=entry["GroupName"]
                )
                self._known[entry["Arn"]] = detail
            when = due_time(detail)
            if when is None or when > now:
                continue
            target = detail["Target"]
            self._lambdas.invoke_async(target["Arn"], json.loads(target.get("Input") or "{}"))
            if detail.get("ActionAfterCompletion") == "DELETE":
                self._scheduler.delete_schedule(Name=entry["Name"], GroupName=entry["GroupName"])
                self._known.pop(entry["Arn"], None)
            fired += 1
        self.fired += fired
        return fired
