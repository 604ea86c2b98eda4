"""The SAM template: generated from the app, deterministic, valid, committed fresh, and what
an operator relies on (retained journal, guarded roles, least privilege, parameters)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from handlers.config import TIMER_VARIABLES
from infra.bundle import BUNDLE_DIR
from infra.iam import ACCESS
from infra.template import synth
from infra.validate import lint
from local_emulator.stack import translate
from sdk.aws_timers import schedule_name
from sdk.journal.schema import EXPIRES_AT, table_definition

ROOT = Path(__file__).resolve().parents[3]
RUNNER_ARN = (
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    "${AWS::StackName}-runner"
)
FUNCTIONS = ("RunnerFunction", "FailureFunction", "WakeupsFunction", "SweeperFunction")
ALL_FUNCTIONS = (
    *FUNCTIONS,
    "ApiFunction",
    "EventRouterFunction",
    "BatchFunction",
    "SchedulesFunction",
    "LifecycleFunction",
)


@functools.cache
def _template_text() -> str:
    return synth(["examples"])


def _template() -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(_template_text())
    return template


def _resources() -> dict[str, Any]:
    resources: dict[str, Any] = _template()["Resources"]
    return resources


@functools.cache
def _translated_text() -> str:
    return json.dumps(translate(_template_text()))


def _translated() -> dict[str, Any]:
    translated: dict[str, Any] = json.loads(_translated_text())
    return translated


def _statements(function: str) -> list[dict[str, Any]]:
    policies = _resources()[function]["Properties"]["Policies"]
    return [s for policy in policies if "Statement" in policy for s in policy["Statement"]]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_the_committed_template_is_the_one_synth_writes() -> None:
    committed = (ROOT / "template.yaml").read_text()
    assert committed == synth(["examples"]), "template.yaml is stale: run `stepline synth`"


def test_synth_is_deterministic() -> None:
    assert synth(["examples"]) == synth(["examples"])


def test_the_template_passes_cfn_lint() -> None:
    assert lint(_template_text()) == []


def test_the_functions_run_the_bundle() -> None:
    assert _template()["Globals"]["Function"]["CodeUri"] == BUNDLE_DIR


def test_the_table_is_the_journal_schema() -> None:
    properties = _resources()["JournalTable"]["Properties"]
    expected = table_definition("x")
    del expected["TableName"]
    del expected["StreamSpecification"]["StreamEnabled"]  # CloudFormation: the view type
    assert {key: properties[key] for key in expected} == expected


def test_the_journal_outlives_the_stack_and_can_be_recovered() -> None:
    resources = _resources()
    for logical in ("JournalTable", "ValuesBucket"):
        assert resources[logical]["DeletionPolicy"] == "Retain", logical
        assert resources[logical]["UpdateReplacePolicy"] == "Retain", logical
    table = resources["JournalTable"]["Properties"]
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"] == {"SSEEnabled": True}


def test_finished_executions_expire_through_the_ttl_attribute_the_journal_writes() -> None:
    table = _resources()["JournalTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": EXPIRES_AT, "Enabled": True}


def test_the_runner_may_invoke_itself_without_lambda_cutting_the_chain() -> None:
    assert _resources()["RunnerFunction"]["Properties"]["RecursiveLoop"] == "Allow"


def test_the_runner_is_retried_twice_then_sends_failures_to_the_failure_handler() -> None:
    runner = _resources()["RunnerFunction"]["Properties"]
    config = runner["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["FailureFunction", "Arn"]}


def test_what_the_failure_function_cannot_record_lands_in_a_dead_letter_queue() -> None:
    resources = _resources()
    on_failure = resources["FailureFunction"]["Properties"]["EventInvokeConfig"][
        "DestinationConfig"
    ]["OnFailure"]
    assert on_failure == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FailureDeadLetterQueue", "Arn"]},
    }
    # SAM grants the function sqs:SendMessage on its destination.
    policies = _translated()["Resources"]["FailureFunctionRole"]["Properties"]["Policies"]
    sends = [
        s
        for p in policies
        for s in p["PolicyDocument"]["Statement"]
        if s["Action"] == "sqs:SendMessage"
    ]
    assert [s["Resource"] for s in sends] == [{"Fn::GetAtt": ["FailureDeadLetterQueue", "Arn"]}]


@pytest.mark.parametrize(
    "queue",
    ["TimerQueue", "TimerDeadLetterQueue", "FailureDeadLetterQueue", "ScheduleDeadLetterQueue"],
)
def test_every_queue_is_encrypted(queue: str) -> None:
    assert _resources()[queue]["Properties"]["SqsManagedSseEnabled"] is True


@pytest.mark.parametrize(
    "queue", ["TimerDeadLetterQueue", "FailureDeadLetterQueue", "ScheduleDeadLetterQueue"]
)
def test_dead_letters_are_kept_for_fourteen_days(queue: str) -> None:
    assert _resources()[queue]["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_timer_queue_sends_undeliverable_wake_ups_to_a_dlq() -> None:
    queue = _resources()["TimerQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["TimerDeadLetterQueue", "Arn"]},
        "maxReceiveCount": 5,
    }


def test_every_schedule_has_a_dead_letter_queue() -> None:
    """The sweep schedule in the template, and the wake-up schedules the runner creates
    (``sdk.aws_timers`` reads the DLQ from the runner's environment)."""
    schedules = [
        resource
        for resource in _translated()["Resources"].values()
        if resource["Type"] == "AWS::Scheduler::Schedule"
    ]
    assert schedules
    for schedule in schedules:
        assert schedule["Properties"]["Target"]["DeadLetterConfig"] == {
            "Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}
        }
    runner = _resources()["RunnerFunction"]["Properties"]["Environment"]["Variables"]
    assert runner[TIMER_VARIABLES["dead_letter_arn"]] == {
        "Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]
    }
    role = _resources()["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert {
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]},
    } in role["Statement"]


def test_the_runner_gets_every_variable_its_timers_read() -> None:
    variables = {
        **_template()["Globals"]["Function"]["Environment"]["Variables"],
        **_resources()["RunnerFunction"]["Properties"]["Environment"]["Variables"],
    }
    assert set(TIMER_VARIABLES.values()) <= set(variables)


def test_the_functions_know_the_app_and_its_table() -> None:
    variables = yaml.safe_load(synth(["examples", "tests.apps.crashy"]))["Globals"]["Function"][
        "Environment"
    ]["Variables"]
    assert variables["STEPLINE_APP"] == "examples,tests.apps.crashy"
    assert variables["STEPLINE_TABLE"] == {"Ref": "JournalTable"}


def test_the_parameters_and_their_defaults() -> None:
    parameters = _template()["Parameters"]
    defaults = {name: parameter["Default"] for name, parameter in parameters.items()}
    assert defaults == {
        "MemorySize": 512,
        "RunnerTimeout": 900,
        "LogRetentionDays": 30,
        "ExecutionRetentionDays": 30,
        "MaxExecutionLifetimeDays": 365,
        "LogLevel": "INFO",
        "Architecture": "arm64",
        "LifecycleEvents": "workflow",
        "LiveSteps": "false",
    }
    assert parameters["LifecycleEvents"]["AllowedValues"] == ["workflow", "all", "off"]
    assert parameters["Architecture"]["AllowedValues"] == ["arm64", "x86_64"]
    assert parameters["RunnerTimeout"]["MaxValue"] == 900  # Lambda's limit


def test_synth_s_runner_timeout_is_the_parameter_default() -> None:
    template = yaml.safe_load(synth(["examples"], runner_timeout=5))
    assert template["Parameters"]["RunnerTimeout"]["Default"] == 5
    runner = template["Resources"]["RunnerFunction"]["Properties"]
    assert runner["Timeout"] == {"Ref": "RunnerTimeout"}


def test_every_function_takes_memory_architecture_retention_and_log_level_from_them() -> None:
    function = _template()["Globals"]["Function"]
    assert function["MemorySize"] == {"Ref": "MemorySize"}
    assert function["Architectures"] == [{"Ref": "Architecture"}]
    variables = function["Environment"]["Variables"]
    assert variables["STEPLINE_RETENTION_DAYS"] == {"Ref": "ExecutionRetentionDays"}
    assert variables["STEPLINE_MAX_LIFETIME_DAYS"] == {"Ref": "MaxExecutionLifetimeDays"}
    assert variables["POWERTOOLS_LOG_LEVEL"] == {"Ref": "LogLevel"}


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_each_function_logs_into_its_own_expiring_log_group(function: str) -> None:
    resources = _resources()
    properties = resources[function]["Properties"]
    logical = properties["LoggingConfig"]["LogGroup"]["Ref"]
    group = resources[logical]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    # The name Lambda would use, so nothing logs into a group that never expires.
    name = properties["FunctionName"]["Fn::Sub"]
    assert group["Properties"]["LogGroupName"] == {"Fn::Sub": "/aws/lambda/" + name}


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
    statements = {a: s for s in _statements("RunnerFunction") for a in _actions(s)}
    sends = [
        s["Resource"] for s in _statements("RunnerFunction") if "sqs:SendMessage" in _actions(s)
    ]
    assert sends == [  # wake-ups; events for the batched workflows (``infra.batches``)
        {"Fn::GetAtt": ["TimerQueue", "Arn"]},
        [
            {"Fn::GetAtt": ["BatchQueueBatchProcessor", "Arn"]},
            {"Fn::GetAtt": ["BatchQueueBatchedHandler", "Arn"]},
        ],
    ]
    assert statements["scheduler:CreateSchedule"]["Resource"] == {
        "Fn::Sub": [
            "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
            "schedule/${Group}/${Prefix}-*",
            {"Group": {"Ref": "AWS::StackName"}, "Prefix": prefix},
        ]
    }
    variables = resources["RunnerFunction"]["Properties"]["Environment"]["Variables"]
    assert variables == {
        "STEPLINE_TIMER_QUEUE_URL": {"Ref": "TimerQueue"},
        "STEPLINE_SCHEDULE_GROUP": {"Ref": "AWS::StackName"},
        "STEPLINE_SCHEDULE_PREFIX": prefix,
        "STEPLINE_SCHEDULER_ROLE_ARN": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
        "STEPLINE_SCHEDULE_DLQ_ARN": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]},
    }


def test_the_scheduler_role_is_passed_to_the_scheduler_service_only() -> None:
    passes = [
        (logical, s)
        for logical in ALL_FUNCTIONS
        for s in _statements(logical)
        if "iam:PassRole" in _actions(s)
    ]
    statement = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
        "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
    }
    # The runner (one-time wake-ups) and the API (runtime schedules) hand it to Scheduler.
    assert passes == [("RunnerFunction", statement), ("ApiFunction", statement)]


def test_the_api_manages_runtime_schedules_only_in_its_group_under_its_own_prefix() -> None:
    prefix = {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]}
    scheduling = [
        s
        for s in _statements("ApiFunction")
        if any(a.startswith("scheduler:") for a in _actions(s))
    ]
    assert scheduling == [
        {
            "Effect": "Allow",
            "Action": [
                "scheduler:CreateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:UpdateSchedule",
            ],
            # ``{prefix}.``: the runner's wake-ups are ``{prefix}-``, out of the API's reach
            "Resource": {
                "Fn::Sub": [
                    "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
                    "schedule/${Group}/${Prefix}.*",
                    {"Group": {"Ref": "AWS::StackName"}, "Prefix": prefix},
                ]
            },
        }
    ]
    variables = _resources()["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["STEPLINE_SCHEDULES_ARN"] == {
        "Fn::Sub": RUNNER_ARN.replace("-runner", "-schedules")
    }
    assert set(variables) == {
        "STEPLINE_SCHEDULE_GROUP", "STEPLINE_SCHEDULE_PREFIX", "STEPLINE_SCHEDULER_ROLE_ARN",
        "STEPLINE_SCHEDULE_DLQ_ARN", "STEPLINE_SCHEDULES_ARN",
    }  # fmt: skip


def test_a_declared_schedule_is_a_scheduler_schedule_in_the_stack_s_group_in_its_zone() -> None:
    schedules = _resources()["SchedulesFunction"]["Properties"]
    assert schedules["Handler"] == "handlers.schedules.handler"
    [(name, event)] = schedules["Events"].items()
    assert name.startswith("TickDailyReportDefault") and name.isalnum()
    assert event == {
        "Type": "ScheduleV2",
        "Properties": {
            "ScheduleExpression": "cron(0 9 * * ? *)",
            "ScheduleExpressionTimezone": "Europe/Paris",
            "GroupName": {"Ref": "ScheduleGroup"},
            "Description": "Ticks of workflow daily-report (0 9 * * *, Europe/Paris).",
            "Input": json.dumps(
                {
                    "workflow_id": "daily-report",
                    "key": "default",
                    "scheduled_time": "<aws.scheduler.scheduled-time>",
                }
            ),
            "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}},
        },
    }
    # A tick that fails every retry of its asynchronous invocation is kept, with its error.
    assert schedules["EventInvokeConfig"]["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]},
    }
    [invoke] = [
        s
        for s in _resources()["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"][
            "Statement"
        ]
        if s["Action"] == "lambda:InvokeFunction"
    ]
    assert {"Fn::Sub": RUNNER_ARN.replace("-runner", "-schedules")} in invoke["Resource"]


def test_only_scheduler_acting_for_the_stack_s_group_and_account_assumes_its_role() -> None:
    [trust] = _resources()["SchedulerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": {"Ref": "AWS::AccountId"},
            "aws:SourceArn": {
                "Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
                "schedule-group/${AWS::StackName}"
            },
        }
    }


def test_every_role_a_service_other_than_lambda_assumes_checks_the_source_account() -> None:
    """SAM generates an execution role per function (trusting Lambda) and, given no
    RoleArn, one per ScheduleV2 event: the sweep uses the stack's guarded role instead."""
    roles = {
        logical: resource["Properties"]["AssumeRolePolicyDocument"]
        for logical, resource in _translated()["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role"
    }
    assert set(roles) == {"SchedulerRole", *(f"{f}Role" for f in ALL_FUNCTIONS)}
    for logical, trust in roles.items():
        for statement in trust["Statement"]:
            if statement["Principal"] == {"Service": ["lambda.amazonaws.com"]}:
                continue
            condition = statement["Condition"]["StringEquals"]
            assert condition["aws:SourceAccount"] == {"Ref": "AWS::AccountId"}, logical


def test_no_statement_allows_a_wildcard_action_and_no_sam_policy_template_is_used() -> None:
    for logical in ALL_FUNCTIONS:
        for policy in _resources()[logical]["Properties"]["Policies"]:
            assert set(policy) == {"Version", "Statement"}, (logical, policy)  # no *CrudPolicy
        for statement in _statements(logical):
            for action in _actions(statement):
                assert "*" not in action, (logical, statement)


@pytest.mark.parametrize("function", ALL_FUNCTIONS)
def test_each_function_gets_the_journal_actions_of_its_access_entry_only(function: str) -> None:
    access = ACCESS[function]
    granted = {a for s in _statements(function) for a in _actions(s) if a.startswith("dynamodb:")}
    expected = set(access.journal) | ({"dynamodb:Query"} if access.indexes else set())
    if function == "LifecycleFunction":  # and its event source mapping reads the stream
        stream = {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator",
                  "dynamodb:ListStreams"}  # fmt: skip
        expected |= stream
        [on_stream] = [s for s in _statements(function) if set(_actions(s)) == stream]
        assert on_stream["Resource"] == {"Fn::Sub": "${JournalTable.Arn}/stream/*"}
    assert granted == expected


def test_the_sweep_uses_the_stack_s_role_group_and_dead_letter_queue() -> None:
    sweeper = _resources()["SweeperFunction"]["Properties"]
    assert sweeper["Handler"] == "handlers.sweeper.handler"
    assert sweeper["Events"]["Sweep"] == {
        "Type": "ScheduleV2",
        "Properties": {
            "ScheduleExpression": "rate(1 minute)",
            "GroupName": {"Ref": "ScheduleGroup"},
            "Description": "Re-drive stuck executions.",
            "RoleArn": {"Fn::GetAtt": ["SchedulerRole", "Arn"]},
            "DeadLetterConfig": {"Arn": {"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]}},
        },
    }
    role = _resources()["SchedulerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    invoke = [s for s in role["Statement"] if s["Action"] == "lambda:InvokeFunction"]
    assert invoke[0]["Resource"] == [
        {"Fn::Sub": RUNNER_ARN},
        {"Fn::Sub": RUNNER_ARN.replace("-runner", "-sweeper")},
        {"Fn::Sub": RUNNER_ARN.replace("-runner", "-schedules")},
    ]


def test_api_callers_get_a_managed_policy_for_the_function_url_only() -> None:
    template = _template()
    policy = template["Resources"]["ApiCallerPolicy"]
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    api = {"Fn::GetAtt": ["ApiFunction", "Arn"]}
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunctionUrl",
            "Resource": api,
            "Condition": {"StringEquals": {"lambda:FunctionUrlAuthType": "AWS_IAM"}},
        },
        {
            "Effect": "Allow",
            "Action": "lambda:InvokeFunction",
            "Resource": api,
            "Condition": {"Bool": {"lambda:InvokedViaFunctionUrl": "true"}},
        },
    ]
    assert template["Outputs"]["ApiCallerPolicyArn"]["Value"] == {"Ref": "ApiCallerPolicy"}
    assert template["Resources"]["ApiFunction"]["Properties"]["FunctionUrlConfig"] == {
        "AuthType": "AWS_IAM"
    }


def test_the_outputs_a_user_needs() -> None:
    outputs = _template()["Outputs"]
    assert outputs["ApiUrl"]["Value"] == {"Fn::GetAtt": ["ApiFunctionUrl", "FunctionUrl"]}
    assert outputs["EventBusName"]["Value"] == {"Fn::GetAtt": ["EventBus", "Name"]}
    assert outputs["JournalTableName"]["Value"] == {"Ref": "JournalTable"}
    assert all(output["Description"] for output in outputs.values())


def test_every_security_scan_suppression_gives_a_one_line_reason() -> None:
    for logical, resource in _resources().items():
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
            assert set(skip) == {"id", "comment"}, logical
            assert skip["id"].startswith("CKV_"), logical
            comment = skip["comment"]
            assert comment and "\n" not in comment and len(comment) <= 200, (logical, skip)


def test_the_stack_id_the_prefix_selects_leaves_room_in_a_schedule_name() -> None:
    stack_id = (
        "arn:aws:cloudformation:us-east-1:123456789012:stack/app/"
        "5f2c1f6e-8a0b-4c1d-9e7f-3a2b1c0d9e8f"
    )
    prefix = stack_id.split("/")[2]  # Fn::Select [2, Fn::Split ["/", AWS::StackId]]
    assert len(schedule_name(prefix, "e" * 100, "k" * 900)) <= 64


def test_events_put_on_the_bus_reach_the_router_retried_and_kept_when_undeliverable() -> None:
    router = _resources()["EventRouterFunction"]["Properties"]
    assert router["Handler"] == "handlers.events.handler"
    [rule] = router["Events"].values()
    assert rule["Type"] == "EventBridgeRule"
    assert rule["Properties"]["EventBusName"] == {"Fn::GetAtt": ["EventBus", "Name"]}
    # everything but the stack's own lifecycle events
    assert rule["Properties"]["Pattern"] == {"source": [{"anything-but": ["stepline.lifecycle"]}]}
    dead_letters = {"Fn::GetAtt": ["EventRouterDeadLetterQueue", "Arn"]}
    assert rule["Properties"]["DeadLetterConfig"] == {"Arn": dead_letters}
    assert router["EventInvokeConfig"]["DestinationConfig"]["OnFailure"] == {
        "Type": "SQS",
        "Destination": dead_letters,
    }
