"""Recurring schedules of the template, fired by the emulator on its clock.

moto never fires schedules. The stack's EventBridge Scheduler schedules (SAM's
``ScheduleV2`` events) and scheduled EventBridge rules (``Schedule`` events) that
target one of its functions are read from the translated template, and
``RecurringDispatcher`` invokes the function asynchronously each time the
expression comes due. A ``rate()`` first fires one period after the dispatcher
starts; a schedule that fell behind (a virtual clock jumping ahead) fires once and
carries on from the present.

The function receives what AWS sends: a schedule's ``Target.Input`` with its context
attributes (``<aws.scheduler.scheduled-time>``, ...) filled in, or ``{}`` without
one; a rule target's ``Input``, or EventBridge's "Scheduled Event" without one.

``recurring_schedules(stack, every={handler: seconds})`` fires the schedules of a
function more often than the template says: tests run the sweeper every 0.2 s.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from local_emulator.lambda_.service import LambdaService, function_name
from local_emulator.scheduler.expressions import (
    Cron,
    Rate,
    ScheduleExpressionError,
    parse,
)
from local_emulator.stack import Stack
from sdk.clock import Clock, SystemClock
from sdk.ids import new_execution_id

SWEEPER_HANDLER = "handlers.sweeper.handler"
logger = logging.getLogger("stepline.emulator")


@dataclass(frozen=True)
class RecurringSchedule:
    """One recurring target: a function, when to invoke it, and with what."""

    name: str
    arn: str  # the schedule's or the rule's
    function: str
    when: Rate | Cron
    source: Literal["scheduler", "events"]
    input: str | None = None

    def payload(self, scheduled: datetime) -> Any:
        """What the function receives for the tick at ``scheduled``."""
        moment = scheduled.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if self.source == "events":
            if self.input is not None:
                return json.loads(self.input)
            account, region = self.arn.split(":")[4], self.arn.split(":")[3]
            return {
                "version": "0",
                "id": new_execution_id(),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": account,
                "time": moment,
                "region": region,
                "resources": [self.arn],
                "detail": {},
            }
        if self.input is None:
            return {}
        text = (
            self.input.replace("<aws.scheduler.schedule-arn>", self.arn)
            .replace("<aws.scheduler.scheduled-time>", moment)
            .replace("<aws.scheduler.execution-id>", new_execution_id())
            .replace("<aws.scheduler.attempt-number>", "1")
        )
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text


def _schedule(stack: Stack, logical: str, props: dict[str, Any]) -> list[RecurringSchedule]:
    target = props.get("Target", {})
    name = str(props.get("Name") or logical)
    group = props.get("GroupName") or "default"
    intrinsics = stack.intrinsics
    assert intrinsics is not None
    arn = f"arn:aws:scheduler:{intrinsics.region}:{intrinsics.account}:schedule/{group}/{name}"
    when = parse(props["ScheduleExpression"], props.get("ScheduleExpressionTimezone") or "UTC")
    return [RecurringSchedule(name, arn, target["Arn"], when, "scheduler", target.get("Input"))]


def _rule(stack: Stack, logical: str, props: dict[str, Any]) -> list[RecurringSchedule]:
    intrinsics = stack.intrinsics
    assert intrinsics is not None
    name = str(props.get("Name") or logical)
    arn = f"arn:aws:events:{intrinsics.region}:{intrinsics.account}:rule/{name}"
    when = parse(props["ScheduleExpression"])
    return [
        RecurringSchedule(name, arn, target["Arn"], when, "events", target.get("Input"))
        for target in props.get("Targets", [])
    ]


def recurring_schedules(
    stack: Stack, every: Mapping[str, float] | None = None
) -> list[RecurringSchedule]:
    """The stack's enabled recurring schedules that target its functions.

    ``every`` maps a handler (``"handlers.sweeper.handler"``) to a period in seconds
    that replaces the expression of the schedules targeting its function.
    """
    found: list[RecurringSchedule] = []
    for logical, resource in stack.emulated.items():
        kind = resource["Type"]
        if kind not in ("AWS::Scheduler::Schedule", "AWS::Events::Rule"):
            continue
        props = stack.resolve(resource.get("Properties", {}))
        if props.get("State", "ENABLED") != "ENABLED" or "ScheduleExpression" not in props:
            continue  # disabled, or a rule matching events (``local_emulator.events``)
        read = _schedule if kind == "AWS::Scheduler::Schedule" else _rule
        try:
            found += read(stack, logical, props)
        except ScheduleExpressionError as exc:
            logger.warning("schedule %s is not fired by the emulator: %s", logical, exc)
    handlers = {name: config.handler for name, config in stack.functions.items()}
    periods = every or {}
    chosen = []
    for schedule in found:
        handler = handlers.get(function_name(schedule.function))
        if handler is None:
            continue  # not a function of this stack
        if handler in periods:
            schedule = RecurringSchedule(
                schedule.name, schedule.arn, schedule.function,
                Rate(timedelta(seconds=periods[handler])), schedule.source, schedule.input,
            )  # fmt: skip
        chosen.append(schedule)
    return chosen


class RecurringDispatcher:
    """Fires recurring schedules on ``clock``; a thread between ``start`` and ``stop``."""

    def __init__(
        self,
        schedules: list[RecurringSchedule],
        lambdas: LambdaService,
        *,
        clock: Clock | None = None,
        poll: float = 0.05,
    ) -> None:
        self.schedules = schedules
        self._lambdas = lambdas
        self._clock: Clock = clock or SystemClock()
        self._poll = poll
        self._next: dict[int, datetime | None] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stepline-recurring", daemon=True)
        self.fired: dict[str, int] = {schedule.name: 0 for schedule in schedules}

    def start(self) -> None:
        now = self._clock.now()
        self._next = {i: s.when.next_after(now) for i, s in enumerate(self.schedules)}
        if self.schedules:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._wait()):
            try:
                self.tick()
            except Exception:  # a failed round is logged and tried again
                logger.exception("recurring schedule round failed")

    def _wait(self) -> float:
        upcoming = [moment for moment in self._next.values() if moment is not None]
        if not upcoming:
            return self._poll
        remaining = (min(upcoming) - self._clock.now()).total_seconds()
        return min(self._poll, max(remaining, 0.0))

    def tick(self) -> int:
        """Fire what is due now; returns how many fired."""
        now = self._clock.now()
        fired = 0
        for index, schedule in enumerate(self.schedules):
            due = self._next.get(index)
            if due is None or due > now:
                continue
            self._lambdas.invoke_async(schedule.function, schedule.payload(due))
            following = schedule.when.next_after(due)
            if following is not None and following <= now:
                following = schedule.when.next_after(now)
            self._next[index] = following
            self.fired[schedule.name] += 1
            fired += 1
        return fired
