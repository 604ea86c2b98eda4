"""The SAM template of an app, as pure functions from its workflows.

``build_template(app_modules, app)`` returns the template as a dict; ``to_yaml``
writes it deterministically (insertion order, long-form intrinsic functions, so
plain YAML with no custom tags). The pieces live beside this module: ``parameters``
(what an operator sets at deploy time), ``resources`` (journal, bucket, queues, log
groups), ``iam`` (every policy and role) and ``scan`` (the security scan's exceptions).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from infra import batches, iam, lifecycle, parameters, resources, scan
from infra import schedules as scheduling
from infra.bundle import BUNDLE_DIR
from infra.names import (
    API_FUNCTION,
    BUCKET,
    EVENT_BUS,
    FAILURE_DLQ,
    LIFECYCLE_SOURCE,
    ROUTER_DLQ,
    ROUTER_FUNCTION,
    SCHEDULE_DLQ,
    SCHEDULE_GROUP,
    SCHEDULER_ROLE,
    TABLE,
    TIMER_DLQ,
    TIMER_QUEUE,
    function_arn,
    function_name,
    get_att,
    schedule_group,
    schedule_prefix,
)
from infra.parameters import ARCHITECTURE, MEMORY_SIZE, RUNNER_TIMEOUT, ref
from sdk.app import App

RUNTIME = "python3.11"
RUNNER_TIMEOUT_SECONDS = 900
DEFAULT_TIMEOUT_SECONDS = 30
ASYNC_RETRY_ATTEMPTS = 2
WAKEUPS_TIMEOUT_SECONDS = resources.WAKEUPS_TIMEOUT_SECONDS
WAKEUPS_BATCH_SIZE = 10
SWEEP_RATE = "rate(1 minute)"
# The runner's variable naming the schedules' dead-letter queue (``handlers.config``).
SCHEDULE_DLQ_VARIABLE = "STEPLINE_SCHEDULE_DLQ_ARN"

Template = dict[str, Any]
# Each function's name is ``<stack>-<suffix>``; its log group ``/aws/lambda/<name>``.
FUNCTION_SUFFIXES = {
    "RunnerFunction": "runner",
    "FailureFunction": "failures",
    "WakeupsFunction": "wakeups",
    "SweeperFunction": "sweeper",
    API_FUNCTION: "api",
    ROUTER_FUNCTION: "events",
    batches.BATCH_FUNCTION: "batches",
    scheduling.SCHEDULES_FUNCTION: scheduling.SCHEDULES_SUFFIX,
    lifecycle.LIFECYCLE_FUNCTION: lifecycle.LIFECYCLE_SUFFIX,
}


def _function(logical_id: str, handler: str, description: str, **properties: Any) -> dict[str, Any]:
    """A function named ``<stack>-<suffix>`` logging into its own log group."""
    policy_extra = properties.pop("policy_extra", ())
    return {
        "Type": "AWS::Serverless::Function",
        "Metadata": scan.function_metadata(logical_id),
        "Properties": {
            "FunctionName": function_name(FUNCTION_SUFFIXES[logical_id]),
            "Description": description,
            "Handler": handler,
            "Policies": iam.function_policy(logical_id, *policy_extra),
            "LoggingConfig": {"LogGroup": ref(_log_group_id(logical_id))},
            **properties,
        },
    }


def _log_group_id(function_logical_id: str) -> str:
    return function_logical_id.removesuffix("Function") + "LogGroup"


def _globals(app_modules: Sequence[str], app: App) -> dict[str, Any]:
    return {
        "Function": {
            "Runtime": RUNTIME,
            "CodeUri": BUNDLE_DIR,
            "Architectures": [ref(ARCHITECTURE)],
            "MemorySize": ref(MEMORY_SIZE),
            "Timeout": DEFAULT_TIMEOUT_SECONDS,
            "Environment": {
                "Variables": {
                    "STEPLINE_APP": ",".join(app_modules),
                    "STEPLINE_TABLE": ref(TABLE),
                    "STEPLINE_VALUES_BUCKET": ref(BUCKET),
                    "STEPLINE_BUS": get_att("EventBus", "Name"),
                    "STEPLINE_RUNNER_FUNCTION": function_name("runner"),
                    "STEPLINE_RUNNER_ARN": function_arn("runner"),
                    "POWERTOOLS_SERVICE_NAME": "stepline",
                    **parameters.environment(),
                    **batches.environment(app),
                }
            },
        }
    }


def _runner(sends: list[dict[str, Any]]) -> dict[str, Any]:
    return _function(
        "RunnerFunction",
        "handlers.runner.handler",
        "Runs one invocation of one workflow execution (replays its journal).",
        policy_extra=(*iam.timer_statements(), *sends),
        Timeout=ref(RUNNER_TIMEOUT),
        # The runner invokes itself and its parents: Lambda must not cut such chains.
        RecursiveLoop="Allow",
        Environment={
            "Variables": {
                "STEPLINE_TIMER_QUEUE_URL": ref(TIMER_QUEUE),
                "STEPLINE_SCHEDULE_GROUP": schedule_group(),
                "STEPLINE_SCHEDULE_PREFIX": schedule_prefix(),
                "STEPLINE_SCHEDULER_ROLE_ARN": get_att(SCHEDULER_ROLE),
                SCHEDULE_DLQ_VARIABLE: get_att(SCHEDULE_DLQ),
            }
        },
        EventInvokeConfig={
            "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
            "DestinationConfig": {
                "OnFailure": {"Type": "Lambda", "Destination": get_att("FailureFunction")}
            },
        },
    )


def _failures() -> dict[str, Any]:
    return _function(
        "FailureFunction",
        "handlers.failures.handler",
        "Records an execution as failed when its runner invocations are exhausted.",
        EventInvokeConfig={
            "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
            "DestinationConfig": {
                "OnFailure": {"Type": "SQS", "Destination": get_att(FAILURE_DLQ)}
            },
        },
    )


def _wakeups() -> dict[str, Any]:
    return _function(
        "WakeupsFunction",
        "handlers.wakeups.handler",
        "Turns due messages of the timer queue into runner invocations.",
        Timeout=WAKEUPS_TIMEOUT_SECONDS,
        Events={
            "TimerQueue": {
                "Type": "SQS",
                "Properties": {
                    "Queue": get_att(TIMER_QUEUE),
                    "BatchSize": WAKEUPS_BATCH_SIZE,
                    "MaximumBatchingWindowInSeconds": 0,
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                },
            }
        },
    )


def _sweeper(sends: list[dict[str, Any]]) -> dict[str, Any]:
    return _function(
        "SweeperFunction",
        "handlers.sweeper.handler",
        "Re-drives executions whose lease expired or whose wake-up is overdue.",
        policy_extra=sends,
        Events={
            "Sweep": {
                "Type": "ScheduleV2",
                "Properties": {
                    "ScheduleExpression": SWEEP_RATE,
                    "GroupName": ref(SCHEDULE_GROUP),
                    "Description": "Re-drive stuck executions.",
                    # The stack's role (its trust is guarded), not one SAM would generate.
                    "RoleArn": get_att(SCHEDULER_ROLE),
                    "DeadLetterConfig": {"Arn": get_att(SCHEDULE_DLQ)},
                },
            }
        },
    )


def _api(sends: list[dict[str, Any]]) -> dict[str, Any]:
    return _function(
        API_FUNCTION,
        "handlers.api.handler",
        "The HTTP API: list workflows, invoke them, inspect executions.",
        policy_extra=(*sends, *scheduling.runtime_schedule_statements()),
        FunctionUrlConfig={"AuthType": "AWS_IAM"},
        Environment={"Variables": dict(scheduling.SCHEDULE_VARIABLES)},
    )


def _schedules(app: App) -> dict[str, Any]:
    """Schedule ticks (declared in the app, or created at run time) -> executions."""
    return _function(
        scheduling.SCHEDULES_FUNCTION,
        "handlers.schedules.handler",
        "Turns each tick of a schedule into one execution of its workflow.",
        Events=scheduling.schedule_events(app),
        EventInvokeConfig={
            "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
            "DestinationConfig": {
                "OnFailure": {"Type": "SQS", "Destination": get_att(SCHEDULE_DLQ)}
            },
        },
    )


def _router(sends: list[dict[str, Any]]) -> dict[str, Any]:
    """Events put on the bus by anyone -> the topic log, the triggered workflows, the waiters."""
    return _function(
        ROUTER_FUNCTION,
        "handlers.events.handler",
        "Routes events put on the app's bus to the topic log and the workflows they trigger.",
        policy_extra=sends,
        Events={
            "Topics": {
                "Type": "EventBridgeRule",
                "Properties": {
                    "EventBusName": get_att(EVENT_BUS, "Name"),
                    "Pattern": {"source": [{"anything-but": [LIFECYCLE_SOURCE]}]},
                    "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
                    "DeadLetterConfig": {"Arn": get_att(ROUTER_DLQ)},
                },
            }
        },
        EventInvokeConfig={
            "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
            "DestinationConfig": {"OnFailure": {"Type": "SQS", "Destination": get_att(ROUTER_DLQ)}},
        },
    )


def _batch_function(app: App) -> dict[str, Any]:
    """The batched workflows' queues -> one execution per batch (``infra.batches``)."""
    return _function(
        batches.BATCH_FUNCTION,
        "handlers.batches.handler",
        "Starts one execution of a batched workflow per batch of its queue.",
        Timeout=batches.BATCH_TIMEOUT_SECONDS,
        Events=batches.events(app),
    )


def _lifecycle(sends: list[dict[str, Any]]) -> dict[str, Any]:
    """The journal's stream -> lifecycle CloudEvents on the bus, and lifecycle topics."""
    return _function(
        lifecycle.LIFECYCLE_FUNCTION,
        "handlers.lifecycle.handler",
        "Publishes lifecycle events from the journal's stream to the bus and to topics.",
        policy_extra=(*lifecycle.statements(), *sends),
        Timeout=lifecycle.TIMEOUT_SECONDS,
        Events=lifecycle.events(),
    )


def _resources(app: App) -> dict[str, Any]:
    sends = batches.send_statements(app)
    functions = {
        "RunnerFunction": _runner(sends),
        "FailureFunction": _failures(),
        "WakeupsFunction": _wakeups(),
        "SweeperFunction": _sweeper(sends),
        API_FUNCTION: _api(sends),
        ROUTER_FUNCTION: _router(sends),
        scheduling.SCHEDULES_FUNCTION: _schedules(app),
        lifecycle.LIFECYCLE_FUNCTION: _lifecycle(sends),
    }
    if batches.batched(app):
        functions[batches.BATCH_FUNCTION] = _batch_function(app)
    log_groups = {
        _log_group_id(logical): resources.log_group(FUNCTION_SUFFIXES[logical])
        for logical in functions
    }
    return {
        TABLE: resources.journal_table(),
        BUCKET: resources.values_bucket(),
        EVENT_BUS: {"Type": "AWS::Events::EventBus", "Properties": {"Name": function_name("bus")}},
        SCHEDULER_ROLE: iam.scheduler_role(),
        **resources.queues(),
        **batches.queues(app),
        **lifecycle.queues(),
        SCHEDULE_GROUP: {
            "Type": "AWS::Scheduler::ScheduleGroup",
            "Properties": {"Name": schedule_group()},
        },
        **log_groups,
        **functions,
        "ApiCallerPolicy": iam.api_caller_policy(),
    }


def _output(description: str, value: Any) -> dict[str, Any]:
    return {"Description": description, "Value": value}


def _outputs(app: App) -> dict[str, Any]:
    batch_outputs = (
        {
            "BatchDeadLetterQueueUrl": _output(
                "Batch messages that failed (an event or a workflow that no longer exists).",
                ref(batches.BATCH_DLQ),
            )
        }
        if batches.batched(app)
        else {}
    )
    return {
        "ApiUrl": _output(
            "The HTTP API (function URL, IAM auth: requests signed with SigV4 for 'lambda').",
            get_att("ApiFunctionUrl", "FunctionUrl"),
        ),
        "ApiCallerPolicyArn": _output(
            "Attach to the users or roles that call the HTTP API.", ref("ApiCallerPolicy")
        ),
        "EventBusName": _output(
            "Publish topic events here (PutEvents: DetailType is the topic).",
            get_att("EventBus", "Name"),
        ),
        "JournalTableName": _output(
            "The journal (retained when the stack is deleted).", ref(TABLE)
        ),
        "ValuesBucketName": _output("Values past DynamoDB's item limit (retained).", ref(BUCKET)),
        "RunnerFunctionName": _output("The function that runs executions.", ref("RunnerFunction")),
        "TimerQueueUrl": _output("Wake-ups of waits up to 15 minutes.", ref(TIMER_QUEUE)),
        "TimerDeadLetterQueueUrl": _output("Wake-ups that could not be delivered.", ref(TIMER_DLQ)),
        "FailureDeadLetterQueueUrl": _output(
            "Exhausted runner invocations the failure function could not record.", ref(FAILURE_DLQ)
        ),
        "ScheduleDeadLetterQueueUrl": _output(
            "Wake-up, sweep and schedule ticks that could not invoke their function (or whose "
            "tick failed every retry).",
            ref(SCHEDULE_DLQ),
        ),
        "EventRouterDeadLetterQueueUrl": _output(
            "Events put on the bus that could not be routed (malformed, or undeliverable).",
            ref(ROUTER_DLQ),
        ),
        "LifecycleDeadLetterQueueUrl": _output(
            "Stream batches the lifecycle publisher failed on after every retry (their shard "
            "and sequence numbers).",
            ref(lifecycle.LIFECYCLE_DLQ),
        ),
        **batch_outputs,
    }


def build_template(
    app_modules: Sequence[str], app: App, *, runner_timeout: int = RUNNER_TIMEOUT_SECONDS
) -> Template:
    """The SAM template deploying ``app`` (loaded from ``app_modules``).

    ``runner_timeout`` (seconds) is the default of the ``RunnerTimeout`` parameter: the
    runner's Lambda timeout, and so the longest a dead invocation's lease holds an
    execution before the sweeper re-drives it.
    """
    workflows = ", ".join(wf.id for wf in app)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"Stepline app {','.join(app_modules)}: {workflows}",
        "Parameters": parameters.parameters(runner_timeout),
        "Globals": _globals(app_modules, app),
        "Resources": _resources(app),
        "Outputs": _outputs(app),
    }


def to_yaml(template: Template) -> str:
    """Deterministic YAML: the same template always gives the same text."""
    header = "# Generated by `stepline synth`; do not edit. A test fails when this is stale.\n"

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    body = yaml.dump(
        template, Dumper=_NoAliases, sort_keys=False, default_flow_style=False, width=100
    )
    return header + body


def synth(app_modules: Sequence[str], *, runner_timeout: int = RUNNER_TIMEOUT_SECONDS) -> str:
    """The template of the app made of ``app_modules``, as YAML."""
    app = App.from_modules(app_modules)
    return to_yaml(build_template(app_modules, app, runner_timeout=runner_timeout))
