"""Intrinsic functions in the resources the emulator keeps, resolved against the deployed stack."""

from __future__ import annotations

import pytest

from local_emulator.intrinsics import IntrinsicError, Intrinsics

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/5f2c1f6e-8a0b"
INTRINSICS = Intrinsics(
    STACK_ID,
    resources={
        "Queue": {"Type": "AWS::SQS::Queue"},
        "Runner": {"Type": "AWS::Lambda::Function"},
        "Role": {"Type": "AWS::IAM::Role"},
        "Group": {
            "Type": "AWS::Scheduler::ScheduleGroup",
            "Properties": {"Name": {"Fn::Sub": "${AWS::StackName}-group"}},
        },
        "Unnamed": {"Type": "AWS::Scheduler::ScheduleGroup"},
        "Table": {"Type": "AWS::DynamoDB::Table"},
    },
    physical={
        "Queue": "https://sqs.us-east-1.amazonaws.com/123456789012/app-Queue-X1",
        "Runner": "app-runner",
        "Role": "app-Role-X1",
        "Table": "app-Table-X1",
    },
    parameters={"LogLevel": "INFO"},
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "AWS::StackName"}, "app"),
        ({"Ref": "Runner"}, "app-runner"),
        ({"Ref": "Group"}, "app-group"),  # kept by the emulator: its Name
        ({"Ref": "Unnamed"}, "Unnamed"),
        ({"Ref": "LogLevel"}, "INFO"),  # a parameter: its value
        ({"Fn::GetAtt": ["Queue", "Arn"]}, "arn:aws:sqs:us-east-1:123456789012:app-Queue-X1"),
        ({"Fn::GetAtt": "Queue.QueueName"}, "app-Queue-X1"),
        (
            {"Fn::GetAtt": ["Runner", "Arn"]},
            "arn:aws:lambda:us-east-1:123456789012:function:app-runner",
        ),
        ({"Fn::GetAtt": ["Role", "Arn"]}, "arn:aws:iam::123456789012:role/app-Role-X1"),
        (
            {"Fn::Sub": "arn:${AWS::Partition}:x:${AWS::Region}:${AWS::AccountId}:${Runner.Arn}"},
            "arn:aws:x:us-east-1:123456789012:arn:aws:lambda:us-east-1:123456789012:function:app-runner",
        ),
        (
            {"Fn::Sub": ["${Group}/${Prefix}-*", {"Prefix": {"Fn::Select": [1, ["a", "b"]]}}]},
            "app-group/b-*",
        ),
        (
            {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}]},
            "5f2c1f6e-8a0b",
        ),
        ({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}, "a-us-east-1"),
        (
            {"Target": {"Arn": {"Ref": "Runner"}}, "Names": [{"Ref": "Table"}]},
            {"Target": {"Arn": "app-runner"}, "Names": ["app-Table-X1"]},
        ),
    ],
)
def test_intrinsics_resolve(value: object, expected: object) -> None:
    assert INTRINSICS.resolve(value) == expected


def test_what_the_emulator_cannot_resolve_is_named() -> None:
    with pytest.raises(IntrinsicError, match="unknown resource 'Missing'"):
        INTRINSICS.resolve({"Ref": "Missing"})
    with pytest.raises(IntrinsicError, match=r"Table\.Arn \(AWS::DynamoDB::Table\)"):
        INTRINSICS.resolve({"Fn::GetAtt": ["Table", "Arn"]})
