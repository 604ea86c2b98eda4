"""Which workflows an event starts: ``trigger_on_event`` patterns and ``event_types``.

A pattern is a topic (``user/signup``), or a prefix ending in ``*`` (``order/*`` matches
``order/created`` and ``order/eu/created``). ``event_types``, when given, keeps only
events of those types; the filter is applied before any execution is created.
Batched handlers (``batch_size``) are fed by their queue, not started per event.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sdk.events.topics import matches
from sdk.workflow import Workflow


def wants(workflow: Workflow[Any], topic: str, event_type: str | None) -> bool:
    """Does ``workflow`` subscribe to events of ``topic`` and ``event_type``?"""
    pattern = workflow.trigger_on_event
    if pattern is None or not matches(pattern, topic):
        return False
    return workflow.event_types is None or event_type in workflow.event_types


def subscribers(
    workflows: Iterable[Workflow[Any]], topic: str, event_type: str | None
) -> list[Workflow[Any]]:
    """The workflows started once per event of ``topic`` (not the batched ones)."""
    return [wf for wf in workflows if wf.batch_size is None and wants(wf, topic, event_type)]
