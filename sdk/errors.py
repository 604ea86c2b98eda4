"""The error hierarchy of Stepline, at the bottom of the import graph.

Users catch these; the engine raises them. Two kinds stand apart:

* ``TerminalError`` is raised *by users* to fail a step without retrying it.
* ``Suspend`` and ``LeaseLost`` derive from ``BaseException`` so that an
  ``except Exception`` in workflow code can never swallow them.
"""

from __future__ import annotations


class SteplineError(Exception):
    """Base class of every error Stepline raises on purpose."""


class WorkflowDefinitionError(SteplineError):
    """A ``@workflow`` declaration is invalid (raised at decoration time)."""


class AppLoadError(SteplineError):
    """An app could not be assembled from its modules."""


class WorkflowNotFoundError(SteplineError):
    """No workflow with this id is part of the app."""


class InvalidPayloadError(SteplineError):
    """A workflow input does not match the workflow's declared input type."""


class SerializationError(SteplineError):
    """A value cannot be stored as JSON in the journal."""


class ExecutionNotFoundError(SteplineError):
    """No execution with this id exists in the journal."""


class ExecutionConflictError(SteplineError):
    """An execution id is already taken by a different workflow or input."""


class InvalidExecutionIdError(SteplineError, ValueError):
    """An execution id breaks the rule ``sdk.ids.check_execution_id`` enforces."""


class ExecutionNotRunnableError(SteplineError):
    """The lease cannot be taken: the execution is finished or another invocation runs it."""


class LeaseBusyError(ExecutionNotRunnableError):
    """Another invocation holds an unexpired lease on the execution."""


class TransientInfrastructureError(SteplineError):
    """An AWS call of the engine kept failing with a transient error (throttling, 5xx,
    connection) after botocore's retries. The invocation fails so it is retried; the
    execution is not failed by it."""


class DuplicateStepKeyError(SteplineError):
    """A step key was used twice within one execution."""


class NonDeterministicError(SteplineError):
    """The journal records a different step at this key than the code now asks for."""


class StepFailedError(SteplineError):
    """A recorded step failure whose original exception type cannot be rebuilt."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class WorkflowFailedError(SteplineError):
    """A workflow failure whose original exception type cannot be rebuilt."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type
        self.message = message


class ChildWorkflowFailedError(SteplineError):
    """A child workflow failed; its own error is the ``__cause__``."""

    def __init__(self, execution_id: str, workflow_id: str, error_type: str, message: str) -> None:
        super().__init__(f"child {workflow_id} {execution_id} failed: {error_type}: {message}")
        self.execution_id = execution_id
        self.workflow_id = workflow_id
        self.error_type = error_type
        self.message = message


class ExecutionParkedError(SteplineError):
    """The execution is parked by a deployment change: fix the code, then resume it."""


class ExecutionCancelledError(SteplineError):
    """The execution was cancelled, so it has no result."""


class EventWaitTimeoutError(SteplineError, TimeoutError):
    """A ``wait_for_event`` saw no event on its topic before its timeout."""


class ResultTimeoutError(SteplineError, TimeoutError):
    """An execution did not finish within the time a caller was willing to wait."""


# Schedules (``sdk.schedules``)
class InvalidScheduleError(SteplineError):
    """A cron expression, timezone, key or overlap rule that cannot be scheduled."""


class ScheduleNotFoundError(SteplineError):
    """No schedule of that workflow has that key."""


class ScheduleConflictError(SteplineError):
    """The workflow already has a different schedule with that key, or the schedule
    cannot change that way (one declared in code is not deleted at run time)."""


class TerminalError(Exception):
    """Raise from a step to fail it at once, without retries.

    It is not a ``SteplineError`` on purpose: users raise it, Stepline never does.
    """


class Suspend(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Signal: the invocation must stop here and be resumed later.

    ``reinvoke`` asks the runner to start the next invocation at once (a time limit,
    or the always-replay test mode) rather than wait for a wake-up.
    """

    def __init__(self, reason: str, *, reinvoke: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reinvoke = reinvoke


class Cancelled(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Signal: the execution was cancelled; stop at this step boundary."""


class LeaseLost(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Signal: another invocation owns this execution now; stop without writing."""


class WokenUp(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Signal: a wake-up arrived since the journal was loaded, so the invocation may not
    suspend; it replays again with what arrived. ``wakeups`` is the count it saw."""

    def __init__(self, message: str, wakeups: int) -> None:
        super().__init__(message)
        self.wakeups = wakeups


class Park(BaseException):  # noqa: N818 - a control-flow signal, not an error
    """Signal: the deployed code cannot run this execution (workflow missing, replay not
    deterministic); park it with the reason until it is resumed after a fix. Workflow code
    cannot catch it into a failure. ``cause`` is the error that names the problem."""

    def __init__(self, cause: SteplineError) -> None:
        super().__init__(str(cause))
        self.cause = cause
