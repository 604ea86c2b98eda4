"""EventBridge Scheduler's part moto does not run: firing schedules.

``ScheduleDispatcher`` fires the one-time ``at()`` schedules stored in moto (Stepline's
long wake-ups); ``RecurringDispatcher`` fires the template's ``rate()``/``cron()``
schedules and scheduled rules.
"""

from local_emulator.scheduler.one_time import ScheduleDispatcher, due_time
from local_emulator.scheduler.recurring import (
    SWEEPER_HANDLER,
    RecurringDispatcher,
    RecurringSchedule,
    recurring_schedules,
)

__all__ = [
    "SWEEPER_HANDLER",
    "RecurringDispatcher",
    "RecurringSchedule",
    "ScheduleDispatcher",
    "due_time",
    "recurring_schedules",
]
