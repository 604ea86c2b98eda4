"""The template deployed into moto's CloudFormation as the emulator deploys it: parameters
resolved to their defaults, the operator's resources created, functions configured."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.template import synth
from local_emulator.accounts import drop_account, new_account_id, pin_account
from local_emulator.stack import FunctionConfig, Stack, deploy


@pytest.fixture(scope="module")
def deployed() -> Iterator[tuple[Stack, Any]]:
    from moto import mock_aws

    account = new_account_id()
    mock = mock_aws()
    mock.start(reset=False)

    def clients(service: str) -> Any:
        client = boto3.client(  # type: ignore[call-overload]
            service, region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t"
        )
        return pin_account(client, account)

    try:
        yield deploy(clients, synth(["examples"], runner_timeout=5), "app"), clients
    finally:
        mock.stop(remove_data=False)
        drop_account(account)


def _by_handler(stack: Stack) -> dict[str, FunctionConfig]:
    return {function.handler: function for function in stack.functions.values()}


def test_parameters_take_their_defaults(deployed: tuple[Stack, Any]) -> None:
    stack, _ = deployed
    functions = _by_handler(stack)
    assert functions["handlers.runner.handler"].timeout_seconds == 5  # synth's runner_timeout
    assert {f.memory_mb for f in functions.values()} == {512}
    assert stack.resolve({"Ref": "LogLevel"}) == "INFO"


def test_function_variables_are_strings_as_on_lambda(deployed: tuple[Stack, Any]) -> None:
    stack, _ = deployed
    for function in stack.functions.values():
        assert function.environment["STEPLINE_RETENTION_DAYS"] == "30"
        assert function.environment["STEPLINE_MAX_LIFETIME_DAYS"] == "365"
        assert function.environment["POWERTOOLS_LOG_LEVEL"] == "INFO"


def test_only_function_destinations_are_emulated(deployed: tuple[Stack, Any]) -> None:
    functions = _by_handler(deployed[0])
    failures = functions["handlers.failures.handler"]
    assert functions["handlers.runner.handler"].on_failure == failures.name
    assert failures.on_failure is None  # its destination is a queue


def test_every_function_has_its_log_group_with_the_retention(
    deployed: tuple[Stack, Any],
) -> None:
    stack, clients = deployed
    groups = {
        group["logGroupName"]: group.get("retentionInDays")
        for group in clients("logs").describe_log_groups()["logGroups"]
    }
    assert groups == {f"/aws/lambda/{name}": 30 for name in stack.functions}


def test_the_api_caller_policy_is_created(deployed: tuple[Stack, Any]) -> None:
    _, clients = deployed
    policies = clients("iam").list_policies(Scope="Local")["Policies"]
    assert [p["PolicyName"] for p in policies if "ApiCallerPolicy" in p["PolicyName"]]
