"""The stack's Parameters: what an operator sets at deploy time, each with a default.

``sam deploy --parameter-overrides LogRetentionDays=90 Architecture=x86_64`` changes them
without a new ``stepline synth``. The functions learn the execution retention and the
longest execution lifetime from environment variables (``RETENTION_DAYS_VARIABLE``,
``MAX_LIFETIME_DAYS_VARIABLE``), Powertools its log level from ``POWERTOOLS_LOG_LEVEL``.
"""

from __future__ import annotations

from typing import Any

MEMORY_SIZE = "MemorySize"
RUNNER_TIMEOUT = "RunnerTimeout"
LOG_RETENTION_DAYS = "LogRetentionDays"
EXECUTION_RETENTION_DAYS = "ExecutionRetentionDays"
MAX_LIFETIME_DAYS = "MaxExecutionLifetimeDays"
LOG_LEVEL = "LogLevel"
ARCHITECTURE = "Architecture"
LIFECYCLE_EVENTS = "LifecycleEvents"
LIVE_STEPS = "LiveSteps"

RETENTION_DAYS_VARIABLE = "STEPLINE_RETENTION_DAYS"
MAX_LIFETIME_DAYS_VARIABLE = "STEPLINE_MAX_LIFETIME_DAYS"
LOG_LEVEL_VARIABLE = "POWERTOOLS_LOG_LEVEL"
LIFECYCLE_EVENTS_VARIABLE = "STEPLINE_LIFECYCLE_BUS"
LIVE_STEPS_VARIABLE = "STEPLINE_LIVE_STEPS"

DEFAULT_MEMORY_MB = 512
DEFAULT_LOG_RETENTION_DAYS = 30
DEFAULT_EXECUTION_RETENTION_DAYS = 30
DEFAULT_MAX_LIFETIME_DAYS = 365
DEFAULT_LOG_LEVEL = "INFO"
DEFAULT_ARCHITECTURE = "arm64"
LAMBDA_MAX_TIMEOUT_SECONDS = 900
# The values CloudWatch Logs accepts for a log group's RetentionInDays.
LOG_RETENTION_CHOICES = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip


def ref(name: str) -> dict[str, str]:
    """``{"Ref": name}``: a parameter's value where a property takes it."""
    return {"Ref": name}


def _number(description: str, default: int, low: int, high: int | None = None) -> dict[str, Any]:
    parameter: dict[str, Any] = {
        "Type": "Number",
        "Description": description,
        "Default": default,
        "MinValue": low,
    }
    if high is not None:
        parameter["MaxValue"] = high
    return parameter


def _choice(description: str, default: str | int, choices: tuple[Any, ...]) -> dict[str, Any]:
    kind = "Number" if isinstance(default, int) else "String"
    return {
        "Type": kind,
        "Description": description,
        "Default": default,
        "AllowedValues": list(choices),
    }


def parameters(runner_timeout: int) -> dict[str, Any]:
    """The Parameters section; ``runner_timeout`` is the default of ``RunnerTimeout``."""
    return {
        MEMORY_SIZE: _number("Memory of every function, in MB.", DEFAULT_MEMORY_MB, 128, 10240),
        RUNNER_TIMEOUT: _number(
            "The runner's time limit in seconds: also how long a dead invocation's lease "
            "holds its execution before the sweeper re-drives it.",
            runner_timeout,
            1,
            LAMBDA_MAX_TIMEOUT_SECONDS,
        ),
        LOG_RETENTION_DAYS: _choice(
            "Days the functions' log groups keep their logs.",
            DEFAULT_LOG_RETENTION_DAYS,
            LOG_RETENTION_CHOICES,
        ),
        EXECUTION_RETENTION_DAYS: _number(
            "Days a finished execution stays in the journal before DynamoDB's TTL deletes it.",
            DEFAULT_EXECUTION_RETENTION_DAYS,
            1,
        ),
        MAX_LIFETIME_DAYS: _number(
            "Days after its start when an execution that never finished expires all the same.",
            DEFAULT_MAX_LIFETIME_DAYS,
            1,
        ),
        LOG_LEVEL: _choice(
            "Level of the functions' logs (POWERTOOLS_LOG_LEVEL).",
            DEFAULT_LOG_LEVEL,
            ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"),
        ),
        ARCHITECTURE: _choice(
            "Instruction set of the functions; the bundle's compiled dependencies must match.",
            DEFAULT_ARCHITECTURE,
            ("arm64", "x86_64"),
        ),
        LIFECYCLE_EVENTS: _choice(
            "Lifecycle events put on the bus as CloudEvents: workflow-level ones, every one "
            "(steps too; a PutEvents entry each), or none.",
            "workflow",
            ("workflow", "all", "off"),
        ),
        LIVE_STEPS: _choice(
            "Mark each step's start in the journal so lifecycle streams show it while it runs "
            "(one more small write per step).",
            "false",
            ("false", "true"),
        ),
    }


def environment() -> dict[str, Any]:
    """The variables every function reads from these parameters."""
    return {
        RETENTION_DAYS_VARIABLE: ref(EXECUTION_RETENTION_DAYS),
        MAX_LIFETIME_DAYS_VARIABLE: ref(MAX_LIFETIME_DAYS),
        LOG_LEVEL_VARIABLE: ref(LOG_LEVEL),
        LIFECYCLE_EVENTS_VARIABLE: ref(LIFECYCLE_EVENTS),
        LIVE_STEPS_VARIABLE: ref(LIVE_STEPS),
    }
