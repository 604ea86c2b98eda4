"""Waking the executions waiting on a topic: after a publish, and for the sweeper.

A publisher appends its event (left *pending* on the sweeper's list), wakes the topic's
waiters, then clears the event. ``sweep_pending`` does the last two for events whose
publisher died in between, so no waiter misses an event it should have seen.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sdk.errors import ExecutionNotFoundError
from sdk.events.log import TopicLog, Waiter
from sdk.journal.base import Journal

if TYPE_CHECKING:
    from sdk.client import Invoker

logger = logging.getLogger("stepline.events")


def invoke_quietly(invoker: Invoker | None, execution_id: str) -> None:
    """Invoke the runner; a failure is logged: the execution is due, the sweeper retries."""
    if invoker is None:
        return
    try:
        invoker.invoke_async(execution_id)
    except Exception:
        logger.exception("cannot invoke %s; the sweeper will", execution_id)


def wake_waiters(log: TopicLog, journal: Journal, invoker: Invoker | None, topic: str) -> int:
    """Wake every execution waiting on ``topic``; how many were invoked."""
    invoked = 0
    for waiter in log.waiters(topic):
        if _wake(log, journal, invoker, topic, waiter):
            invoked += 1
    return invoked


def _wake(
    log: TopicLog, journal: Journal, invoker: Invoker | None, topic: str, waiter: Waiter
) -> bool:
    try:
        woken = journal.wake(waiter.execution_id)
    except ExecutionNotFoundError:
        woken = None
    if woken is None or woken.status.finished:
        log.remove_waiter(topic, waiter)  # left behind by a finished execution
        return False
    if woken.needs_invocation:
        invoke_quietly(invoker, waiter.execution_id)
        return True
    return False


def sweep_pending(log: TopicLog, journal: Journal, invoker: Invoker | None, now: datetime) -> int:
    """Wake the waiters of events whose publisher died first; how many events."""
    pending = log.list_pending(now)
    for event in pending:
        wake_waiters(log, journal, invoker, event.topic)
        log.clear_pending(event.topic, event.event_id)
    return len(pending)
