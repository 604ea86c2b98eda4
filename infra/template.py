"""The SAM template of an app, as pure functions from its workflows.

``build_template(app_modules, app)`` returns the template as a dict; ``to_yaml``
writes it deterministically (insertion order, long-form intrinsic functions, so
plain YAML with no custom tags). Later capabilities (events, batches, schedules)
add their resources here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from sdk.app import App
from sdk.journal.schema import table_definition, time_to_live

RUNTIME = "python3.11"
RUNNER_TIMEOUT_SECONDS = 900
ASYNC_RETRY_ATTEMPTS = 2
WAKEUPS_TIMEOUT_SECONDS = 10
WAKEUPS_BATCH_SIZE = 10
# Lambda asks for a visibility timeout of at least the function's timeout; AWS advises 6x.
TIMER_VISIBILITY_TIMEOUT_SECONDS = 6 * WAKEUPS_TIMEOUT_SECONDS
TIMER_MAX_RECEIVE_COUNT = 5
DEAD_LETTER_RETENTION_SECONDS = 14 * 24 * 3600
SWEEP_RATE = "rate(1 minute)"

Template = dict[str, Any]


def _schedule_group() -> dict[str, str]:
    """The stack's schedule group is named after the stack (it holds the wake-up schedules)."""
    return {"Ref": "AWS::StackName"}


def _schedule_prefix() -> dict[str, Any]:
    """Wake-up schedule names start with the stack's id (its UUID, 36 characters)."""
    return {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}


def _sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


def _function_arn(suffix: str) -> dict[str, str]:
    return _sub(
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        "${AWS::StackName}-" + suffix
    )


def _invoke_policy(*suffixes: str) -> dict[str, Any]:
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": [_function_arn(suffix) for suffix in suffixes],
            }
        ]
    }


def _scheduler_role() -> dict[str, Any]:
    """The role EventBridge Scheduler assumes to wake the runner; it may do nothing else."""
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "scheduler.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "Policies": [
                {
                    "PolicyName": "invoke-runner",
                    "PolicyDocument": {"Version": "2012-10-17", **_invoke_policy("runner")},
                }
            ],
        },
    }


def _timer_policy() -> dict[str, Any]:
    """The runner may queue wake-ups, create its own schedules and hand them the scheduler role.

    Schedules only in the stack's group and only under the stack's prefix; the role only to
    EventBridge Scheduler.
    """
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": {"Fn::GetAtt": ["TimerQueue", "Arn"]},
            },
            {
                "Effect": "Allow",
                "Action": "scheduler:CreateSchedule",
                "Resource": {
                    "Fn::Sub": [
                        "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
                        "schedule/${Group}/${Prefix}-*",
                        {"Group": _schedule_group(), "Prefix": _schedule_prefix()},
                    ]
                },
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            },
        ]
    }


def _timer_queues() -> dict[str, Any]:
    """The timer queue (encrypted, undeliverable wake-ups to a dead-letter queue) and its DLQ."""
    return {
        "TimerQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "SqsManagedSseEnabled": True,
                "VisibilityTimeout": TIMER_VISIBILITY_TIMEOUT_SECONDS,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["TimerDeadLetterQueue", "Arn"]},
                    "maxReceiveCount": TIMER_MAX_RECEIVE_COUNT,
                },
            },
        },
        "TimerDeadLetterQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "SqsManagedSseEnabled": True,
                "MessageRetentionPeriod": DEAD_LETTER_RETENTION_SECONDS,
            },
        },
    }


def _table() -> dict[str, Any]:
    properties = table_definition("unused")
    del properties["TableName"]
    properties["TimeToLiveSpecification"] = time_to_live()
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


def _values_bucket() -> dict[str, Any]:
    """Where values past DynamoDB's item limit live (``sdk.values``): private, encrypted."""
    return {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
        },
    }


def _function(
    name: str, handler: str, description: str, policies: list[Any], **extra: Any
) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "FunctionName": _sub("${AWS::StackName}-" + name),
            "Description": description,
            "Handler": handler,
            "Policies": policies,
            **extra,
        },
    }


def build_template(
    app_modules: Sequence[str], app: App, *, runner_timeout: int = RUNNER_TIMEOUT_SECONDS
) -> Template:
    """The SAM template deploying ``app`` (loaded from ``app_modules``).

    ``runner_timeout`` (seconds) is the runner's Lambda timeout, and so the longest a dead
    invocation's lease holds an execution before the sweeper re-drives it.
    """
    crud = {"DynamoDBCrudPolicy": {"TableName": {"Ref": "JournalTable"}}}
    values = {"S3CrudPolicy": {"BucketName": {"Ref": "ValuesBucket"}}}
    workflows = ", ".join(wf.id for wf in app)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"Stepline app {','.join(app_modules)}: {workflows}",
        "Globals": {
            "Function": {
                "Runtime": RUNTIME,
                "CodeUri": ".",
                "MemorySize": 512,
                "Timeout": 30,
                "Environment": {
                    "Variables": {
                        "STEPLINE_APP": ",".join(app_modules),
                        "STEPLINE_TABLE": {"Ref": "JournalTable"},
                        "STEPLINE_VALUES_BUCKET": {"Ref": "ValuesBucket"},
                        "STEPLINE_BUS": {"Fn::GetAtt": ["EventBus", "Name"]},
                        "STEPLINE_RUNNER_FUNCTION": _sub("${AWS::StackName}-runner"),
                        "STEPLINE_RUNNER_ARN": _function_arn("runner"),
                        "POWERTOOLS_SERVICE_NAME": "stepline",
                    }
                },
            }
        },
        "Resources": {
            "JournalTable": _table(),
            "ValuesBucket": _values_bucket(),
            "EventBus": {
                "Type": "AWS::Events::EventBus",
                "Properties": {"Name": _sub("${AWS::StackName}-bus")},
            },
            "SchedulerRole": _scheduler_role(),
            **_timer_queues(),
            "ScheduleGroup": {
                "Type": "AWS::Scheduler::ScheduleGroup",
                "Properties": {"Name": _schedule_group()},
            },
            "RunnerFunction": _function(
                "runner",
                "handlers.runner.handler",
                "Runs one invocation of one workflow execution (replays its journal).",
                [crud, values, _invoke_policy("runner"), _timer_policy()],
                Timeout=runner_timeout,
                Environment={
                    "Variables": {
                        "STEPLINE_TIMER_QUEUE_URL": {"Ref": "TimerQueue"},
                        "STEPLINE_SCHEDULE_GROUP": _schedule_group(),
                        "STEPLINE_SCHEDULE_PREFIX": _schedule_prefix(),
                        "STEPLINE_SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                    }
                },
                EventInvokeConfig={
                    "MaximumRetryAttempts": ASYNC_RETRY_ATTEMPTS,
                    "DestinationConfig": {
                        "OnFailure": {
                            "Type": "Lambda",
                            "Destination": {"Fn::GetAtt": ["FailureFunction", "Arn"]},
                        }
                    },
                },
            ),
            "FailureFunction": _function(
                "failures",
                "handlers.failures.handler",
                "Records an execution as failed when its runner invocations are exhausted.",
                [crud, values, _invoke_policy("runner")],
            ),
            "WakeupsFunction": _function(
                "wakeups",
                "handlers.wakeups.handler",
                "Turns due messages of the timer queue into runner invocations.",
                [_invoke_policy("runner")],
                Timeout=WAKEUPS_TIMEOUT_SECONDS,
                Events={
                    "TimerQueue": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Fn::GetAtt": ["TimerQueue", "Arn"]},
                            "BatchSize": WAKEUPS_BATCH_SIZE,
                            "MaximumBatchingWindowInSeconds": 0,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        },
                    }
                },
            ),
            "SweeperFunction": _function(
                "sweeper",
                "handlers.sweeper.handler",
                "Re-drives executions whose lease expired or whose wake-up is overdue.",
                [crud, values, _invoke_policy("runner")],
                Events={
                    "Sweep": {
                        "Type": "ScheduleV2",
                        "Properties": {
                            "ScheduleExpression": SWEEP_RATE,
                            "GroupName": {"Ref": "ScheduleGroup"},
                            "Description": "Re-drive stuck executions.",
                        },
                    }
                },
            ),
            "ApiFunction": _function(
                "api",
                "handlers.api.handler",
                "The HTTP API: list workflows, invoke them, inspect executions.",
                [crud, values, _invoke_policy("runner")],
                FunctionUrlConfig={"AuthType": "AWS_IAM"},
            ),
        },
        "Outputs": {
            "ApiUrl": {"Value": {"Fn::GetAtt": ["ApiFunctionUrl", "FunctionUrl"]}},
            "JournalTableName": {"Value": {"Ref": "JournalTable"}},
            "ValuesBucketName": {"Value": {"Ref": "ValuesBucket"}},
            "EventBusName": {"Value": {"Fn::GetAtt": ["EventBus", "Name"]}},
            "RunnerFunctionName": {"Value": {"Ref": "RunnerFunction"}},
            "TimerQueueUrl": {"Value": {"Ref": "TimerQueue"}},
            "TimerDeadLetterQueueUrl": {"Value": {"Ref": "TimerDeadLetterQueue"}},
        },
    }


def to_yaml(template: Template) -> str:
    """Deterministic YAML: the same template always gives the same text."""
    header = "# Generated by `stepline synth`; do not edit. A test fails when this is stale.\n"
    body = yaml.safe_dump(template, sort_keys=False, default_flow_style=False, width=100)
    return header + body


def synth(app_modules: Sequence[str], *, runner_timeout: int = RUNNER_TIMEOUT_SECONDS) -> str:
    """The template of the app made of ``app_modules``, as YAML."""
    app = App.from_modules(app_modules)
    return to_yaml(build_template(app_modules, app, runner_timeout=runner_timeout))
