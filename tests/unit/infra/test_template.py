"""The SAM template: generated from the app, deterministic, valid, and committed fresh."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from infra.template import synth
from infra.validate import lint
from sdk.aws_timers import schedule_name
from sdk.journal.schema import EXPIRES_AT, table_definition

ROOT = Path(__file__).resolve().parents[3]
RUNNER_ARN = (
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    "${AWS::StackName}-runner"
)


def test_the_committed_template_is_the_one_synth_writes() -> None:
    committed = (ROOT / "template.yaml").read_text()
    assert committed == synth(["examples"]), "template.yaml is stale: run `stepline synth`"


def test_synth_is_deterministic() -> None:
    assert synth(["examples"]) == synth(["examples"])


def test_the_template_passes_cfn_lint() -> None:
    assert lint(synth(["examples"])) == []


def test_the_table_is_the_journal_schema() -> None:
    template = yaml.safe_load(synth(["examples"]))
    expected = table_definition("x")
    del expected["TableName"]
    expected["TimeToLiveSpecification"] = {"AttributeName": EXPIRES_AT, "Enabled": True}
    assert template["Resources"]["JournalTable"]["Properties"] == expected


def test_the_runner_is_retried_twice_then_sends_failures_to_the_failure_handler() -> None:
    runner = yaml.safe_load(synth(["examples"]))["Resources"]["RunnerFunction"]["Properties"]
    config = runner["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["FailureFunction", "Arn"]}


def test_the_functions_know_the_app_and_its_table() -> None:
    variables = yaml.safe_load(synth(["examples", "tests.apps.crashy"]))["Globals"]["Function"][
        "Environment"
    ]["Variables"]
    assert variables["STEPLINE_APP"] == "examples,tests.apps.crashy"
    assert variables["STEPLINE_TABLE"] == {"Ref": "JournalTable"}


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = yaml.safe_load(synth(["examples"]))["Resources"]
    return resources


def _statements(function: str) -> list[dict[str, Any]]:
    policies = _resources()[function]["Properties"]["Policies"]
    return [s for policy in policies if "Statement" in policy for s in policy["Statement"]]


def test_the_timer_queue_is_encrypted_and_sends_undeliverable_wake_ups_to_a_dlq() -> None:
    resources = _resources()
    queue = resources["TimerQueue"]["Properties"]
    dlq = resources["TimerDeadLetterQueue"]["Properties"]
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["TimerDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_wakeups_function_reads_the_timer_queue_reporting_failures_per_record() -> None:
    resources = _resources()
    wakeups = resources["WakeupsFunction"]["Properties"]
    assert wakeups["Handler"] == "handlers.wakeups.handler"
    source = wakeups["Events"]["TimerQueue"]
    assert source["Type"] == "SQS"
    assert source["Properties"] == {
        "Queue": {"Fn::GetAtt": ["TimerQueue", "Arn"]},
        "BatchSize": 10,
        "MaximumBatchingWindowInSeconds": 0,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    # Lambda refuses a mapping whose queue hides messages for less than the function's timeout.
    visibility = resources["TimerQueue"]["Properties"]["VisibilityTimeout"]
    assert visibility >= 6 * wakeups["Timeout"]
    assert _statements("WakeupsFunction") == [
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": [{"Fn::Sub": RUNNER_ARN}],
        }
    ]


def test_the_runner_may_queue_wake_ups_and_schedule_only_in_its_group_under_its_prefix() -> None:
    resources = _resources()
    assert resources["ScheduleGroup"] == {
        "Type": "AWS::Scheduler::ScheduleGroup",
        "Properties": {"Name": {"Ref": "AWS::StackName"}},
    }
    prefix = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    statements = {s["Action"]: s for s in _statements("RunnerFunction")}
    assert statements["sqs:SendMessage"]["Resource"] == {"Fn::GetAtt": ["TimerQueue", "Arn"]}
    assert statements["scheduler:CreateSchedule"]["Resource"] == {
        "Fn::Sub": [
            "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
            "schedule/${Group}/${Prefix}-*",
            {"Group": {"Ref": "AWS::StackName"}, "Prefix": prefix},
        ]
    }
    assert statements["iam:PassRole"] == {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
        "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
    }
    variables = resources["RunnerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables == {
        "STEPLINE_TIMER_QUEUE_URL": {"Ref": "TimerQueue"},
        "STEPLINE_SCHEDULE_GROUP": {"Ref": "AWS::StackName"},
        "STEPLINE_SCHEDULE_PREFIX": prefix,
        "STEPLINE_SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
    }


def test_no_statement_allows_a_wildcard_action() -> None:
    for logical, resource in _resources().items():
        if resource["Type"] == "AWS::Serverless::Function":
            for statement in _statements(logical):
                actions = statement["Action"]
                for action in [actions] if isinstance(actions, str) else actions:
                    assert "*" not in action, (logical, statement)


def test_the_stack_id_the_prefix_selects_leaves_room_in_a_schedule_name() -> None:
    stack_id = (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/app/"
        "5f2c1f6e-8a0b-4c1d-9e7f-3a2b1c0d9e8f"
    )
    prefix = stack_id.split("/")[2]  # Fn::Select [2, Fn::Split ["/", AWS::StackId]]
    assert len(schedule_name(prefix, "e" * 100, "k" * 900)) <= 64


def test_the_sweeper_runs_every_minute_in_the_stack_group_on_the_journal() -> None:
    sweeper = _resources()["SweeperFunction"]["Properties"]
    assert sweeper["Handler"] == "handlers.sweeper.handler"
    assert sweeper["Events"]["Sweep"] == {
        "Type": "ScheduleV2",
        "Properties": {
            "ScheduleExpression": "rate(1 minute)",
            "GroupName": {"Ref": "ScheduleGroup"},
            "Description": "Re-drive stuck executions.",
        },
    }
    assert {"DynamoDBCrudPolicy": {"TableName": {"Ref": "JournalTable"}}} in sweeper["Policies"]
    assert {
        "Effect": "Allow",
        "Action": "lambda:InvokeFunction",
        "Resource": [{"Fn::Sub": RUNNER_ARN}],
    } in _statements("SweeperFunction")
    variables = yaml.safe_load(synth(["examples"]))["Globals"]["Function"]["Environment"][
        "Variables"
    ]
    assert {"STEPLINE_TABLE", "STEPLINE_APP", "STEPLINE_RUNNER_ARN"} <= set(variables)
