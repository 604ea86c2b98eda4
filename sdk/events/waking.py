"""Waking the executions waiting on a topic: after a publish, and for the sweeper.

A publisher appends its event (left *pending* on the sweeper's list), queues it for the
batched workflows, wakes the topic's waiters, then clears the event. ``sweep_pending``
does the rest for events whose publisher died in between, so no waiter misses an event
it should have seen and no batched workflow misses one (a second queueing is harmless:
``sdk.events.batches`` puts each event in one batch).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from sdk.errors import ExecutionNotFoundError
from sdk.events.feeds import BatchFeed, BatchItem
from sdk.events.log import PendingEvent, TopicLog, Waiter
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


def sweep_pending(
    log: TopicLog,
    journal: Journal,
    invoker: Invoker | None,
    now: datetime,
    batches: BatchFeed | None = None,
) -> int:
    """Queue and wake for the events whose publisher died first; how many events.

    Each event is finished on its own: one that fails stays pending for the next sweep
    and holds up none of the others. An event still to be queued while there is no
    ``batches`` to queue it on stays pending (logged): clearing it would lose it for its
    batched workflows. A batched workflow that ``batches`` has no queue for (removed, or
    no longer batched, since the event was published) is given up, logged.
    """
    pending = log.list_pending(now)
    for event in pending:
        try:
            _finish(log, journal, invoker, event, batches)
        except Exception:  # the next sweep tries again
            logger.exception("finishing %s of %r failed", event.event_id, event.topic)
    return len(pending)


def _finish(
    log: TopicLog,
    journal: Journal,
    invoker: Invoker | None,
    event: PendingEvent,
    batches: BatchFeed | None,
) -> None:
    """What a publisher that died did not do: queue ``event``, wake, clear it."""
    if event.feeds:
        if batches is None:
            logger.error("no batch queues to send %s of %r to", event.event_id, event.topic)
            return
        gone = [wf for wf in event.feeds if not batches.takes(wf)]
        if gone:
            logger.error(
                "%s of %r is not queued for %s: no batch queue (removed from the app?)",
                event.event_id, event.topic, ", ".join(gone),
            )  # fmt: skip
        items = [
            BatchItem(wf, event.topic, event.sequence_id, event.event_id)
            for wf in event.feeds
            if wf not in gone
        ]
        if items:
            batches.send(items)
    wake_waiters(log, journal, invoker, event.topic)
    log.clear_pending(event.topic, event.event_id)
