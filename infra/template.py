"""The SAM template of an app, as pure functions from its workflows.

``build_template(app_modules, app)`` returns the template as a dict; ``to_yaml``
writes it deterministically (insertion order, long-form intrinsic functions, so
plain YAML with no custom tags). Later capabilities (timers, events, batches,
schedules) add their resources here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from sdk.app import App
from sdk.journal.schema import table_definition

RUNTIME = "python3.11"
RUNNER_TIMEOUT_SECONDS = 900
ASYNC_RETRY_ATTEMPTS = 2

Template = dict[str, Any]


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


def _schedule_policy() -> dict[str, Any]:
    """The runner may create its own wake-up schedules and hand them the scheduler role."""
    return {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "scheduler:CreateSchedule",
                "Resource": _sub(
                    "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
                    "schedule/default/stepline-*"
                ),
            },
            {
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
            },
        ]
    }


def _table() -> dict[str, Any]:
    properties = table_definition("unused")
    del properties["TableName"]
    return {"Type": "AWS::DynamoDB::Table", "Properties": properties}


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


def build_template(app_modules: Sequence[str], app: App) -> Template:
    """The SAM template deploying ``app`` (loaded from ``app_modules``)."""
    crud = {"DynamoDBCrudPolicy": {"TableName": {"Ref": "JournalTable"}}}
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
                        "STEPLINE_BUS": {"Fn::GetAtt": ["EventBus", "Name"]},
                        "STEPLINE_RUNNER_FUNCTION": _sub("${AWS::StackName}-runner"),
                        "STEPLINE_RUNNER_ARN": _function_arn("runner"),
                        "STEPLINE_SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
                        "POWERTOOLS_SERVICE_NAME": "stepline",
                    }
                },
            }
        },
        "Resources": {
            "JournalTable": _table(),
            "EventBus": {
                "Type": "AWS::Events::EventBus",
                "Properties": {"Name": _sub("${AWS::StackName}-bus")},
            },
            "SchedulerRole": _scheduler_role(),
            "RunnerFunction": _function(
                "runner",
                "handlers.runner.handler",
                "Runs one invocation of one workflow execution (replays its journal).",
                [crud, _invoke_policy("runner"), _schedule_policy()],
                Timeout=RUNNER_TIMEOUT_SECONDS,
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
                [crud, _invoke_policy("runner")],
            ),
            "ApiFunction": _function(
                "api",
                "handlers.api.handler",
                "The HTTP API: list workflows, invoke them, inspect executions.",
                [crud, _invoke_policy("runner")],
                FunctionUrlConfig={"AuthType": "AWS_IAM"},
            ),
        },
        "Outputs": {
            "ApiUrl": {"Value": {"Fn::GetAtt": ["ApiFunctionUrl", "FunctionUrl"]}},
            "JournalTableName": {"Value": {"Ref": "JournalTable"}},
            "EventBusName": {"Value": {"Fn::GetAtt": ["EventBus", "Name"]}},
            "RunnerFunctionName": {"Value": {"Ref": "RunnerFunction"}},
        },
    }


def to_yaml(template: Template) -> str:
    """Deterministic YAML: the same template always gives the same text."""
    header = "# Generated by `stepline synth`; do not edit. A test fails when this is stale.\n"
    body = yaml.safe_dump(template, sort_keys=False, default_flow_style=False, width=100)
    return header + body


def synth(app_modules: Sequence[str]) -> str:
    """The template of the app made of ``app_modules``, as YAML."""
    return to_yaml(build_template(app_modules, App.from_modules(app_modules)))
