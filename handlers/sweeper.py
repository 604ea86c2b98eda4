"""The sweeper Lambda (placeholder): re-drives executions that would otherwise stay stuck.

Every minute (a schedule in the template) it is meant to find executions whose lease
expired while running or whose wake-up is overdue, and invoke the runner for each.
"""

from __future__ import annotations

from typing import Any


def handler(event: Any, context: Any) -> Any:
    """The Lambda entry point."""
    # TODO(sweeper): replaced by the sweeper's real implementation (another branch);
    # this placeholder only lets the template, the emulator and imports refer to it.
    raise NotImplementedError("handlers.sweeper is not implemented yet")
