"""``stream_workflow``: follow a root execution's lifecycle stream live, as page 000 shows.

Events come from one of two sources, each read as long polls:

* a journal (a ``Client``'s, or the table named by ``STEPLINE_TABLE``): the stream is
  re-derived every ``POLL`` and held back while it settles (``sdk.lifecycle.stream``);
* the HTTP API (``STEPLINE_ENDPOINT``, by default the emulator's ``http://127.0.0.1:8765``):
  ``GET /executions/<id>/events?after=N&wait=S``, which does the same on the server.

The iterator ends after the root's terminal event. A reader that stops may come back
with ``last_sequence_id`` and gets every later event once, in order.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from sdk.clock import Clock, SystemClock
from sdk.errors import SteplineError
from sdk.failures import ErrorInfo
from sdk.journal.base import Journal
from sdk.lifecycle.model import EventType, LifecycleEvent
from sdk.lifecycle.stream import StreamPage, read_page

POLL = 0.05  # seconds between two reads of the journal while nothing new came
LONG_POLL = 10.0  # seconds one read may wait for new events
DEFAULT_ENDPOINT = "http://127.0.0.1:8765"


class StreamUnavailableError(SteplineError):
    """The stream's source cannot be reached or refused the request."""


class JournalHolder(Protocol):
    """What ``stream_workflow`` needs of a client (``sdk.client.Client`` has both)."""

    @property
    def journal(self) -> Journal: ...

    @property
    def clock(self) -> Clock: ...


class Source(Protocol):
    """Where a follower reads pages of a stream."""

    def page(self, execution_id: str, after: int | None, wait: float) -> StreamPage:
        """Events after ``after``, waiting up to ``wait`` seconds for some to come."""
        ...


@dataclass(frozen=True)
class JournalSource:
    """Reads the stream straight from the journal."""

    journal: Journal
    clock: Clock

    def page(self, execution_id: str, after: int | None, wait: float) -> StreamPage:
        give_up = time.monotonic() + wait
        while True:
            page = read_page(self.journal, execution_id, after=after, now=self.clock.now())
            if page.events or page.done or time.monotonic() >= give_up:
                return page
            time.sleep(POLL)  # polling the journal: nothing pushes to a reader


@dataclass(frozen=True)
class HttpSource:
    """Reads the stream from the HTTP API's long-poll route."""

    endpoint: str

    def page(self, execution_id: str, after: int | None, wait: float) -> StreamPage:
        query = {"wait": str(wait)} | ({} if after is None else {"after": str(after)})
        url = (
            f"{self.endpoint.rstrip('/')}/executions/{urllib.parse.quote(execution_id, safe='')}"
            f"/events?{urllib.parse.urlencode(query)}"
        )
        try:
            with urllib.request.urlopen(url, timeout=wait + 30) as response:
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            raise StreamUnavailableError(
                f"the Stepline API at {self.endpoint} refused the stream of {execution_id!r}: "
                f"{exc.code} {detail}"
            ) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise StreamUnavailableError(
                f"cannot reach the Stepline API at {self.endpoint} ({exc}); is `stepline dev` "
                "running? Set STEPLINE_ENDPOINT, or pass a client."
            ) from None
        events = [event_from_dict(e) for e in body["events"]]
        return StreamPage(events, bool(body["done"]), body.get("last_sequence_id"))


def source_from_environ(environ: dict[str, str] | None = None) -> Source:
    """The stream source the environment names: ``STEPLINE_TABLE`` (read the journal with
    the AWS credentials at hand, as the stack's functions can), else ``STEPLINE_ENDPOINT``,
    else the emulator's endpoint."""
    env = os.environ if environ is None else environ
    table = env.get("STEPLINE_TABLE")
    if table:
        import boto3

        from sdk.journal.dynamodb import DynamoJournal, client_config

        journal = DynamoJournal(boto3.client("dynamodb", config=client_config()), table)
        return JournalSource(journal, SystemClock())
    return HttpSource(env.get("STEPLINE_ENDPOINT") or DEFAULT_ENDPOINT)


async def stream_workflow(
    client: JournalHolder | None = None,
    *,
    workflow_run_id: str,
    last_sequence_id: int | None = None,
) -> AsyncIterator[LifecycleEvent]:
    """The lifecycle events of ``workflow_run_id`` and its children, live, until the root's
    terminal event (``workflow_finish``, ``workflow_fail`` or ``workflow_cancel``).

    Args:
        client: Reads the stream from its journal; without one the environment says
            where (``source_from_environ``).
        workflow_run_id: The root execution's id.
        last_sequence_id: Resume after this event (every later event comes once, in order).

    Raises:
        ExecutionNotFoundError: there is no such execution (journal source).
        StreamUnavailableError: the HTTP API cannot be reached or refused.
    """
    source: Source = (
        source_from_environ() if client is None else JournalSource(client.journal, client.clock)
    )
    after = last_sequence_id
    while True:
        page = await asyncio.to_thread(source.page, workflow_run_id, after, LONG_POLL)
        for event in page.events:
            yield event
        after = page.last_sequence_id
        if page.done:
            return


def event_from_dict(envelope: dict[str, Any]) -> LifecycleEvent:
    """A ``LifecycleEvent`` back from its envelope (``LifecycleEvent.to_dict``)."""
    data = envelope["data"]
    meta = data["_metadata"]
    error = data.get("error")
    return LifecycleEvent(
        id=envelope["id"],
        event_type=EventType(envelope["event_type"]),
        created_at=envelope["created_at"],
        execution_id=meta["execution_id"],
        workflow_id=meta["workflow_id"],
        parent_execution_id=meta.get("parent_execution_id"),
        root_execution_id=meta["root_execution_id"],
        step_key=data.get("step_key"),
        step_type=data.get("step_type"),
        attempt=data.get("attempt"),
        runtime_us=data.get("runtime_us"),
        error=None if error is None else ErrorInfo(
            error["type"], error["message"], error.get("traceback", "")
        ),
        message=data.get("message"),
        attributes=data.get("attributes"),
        sequence_id=envelope.get("sequence_id"),
    )
