"""The example app on a real AWS account: ``stepline deploy``, a workflow through the signed API,
then the stack deleted whatever happened.

Marked ``aws``: skipped unless STEPLINE_AWS_TESTS=1 (``tests/conftest.py``). It needs the AWS
SAM CLI on PATH, credentials that may create IAM roles, Lambda functions, DynamoDB tables, S3
buckets, SQS queues and EventBridge resources, and a region with Lambda function URLs
(STEPLINE_AWS_REGION, else the profile's region, else us-east-1). It takes minutes and costs
cents. ``sam build`` needs a local python3.11 unless STEPLINE_AWS_USE_CONTAINER=1 (Docker).

    STEPLINE_AWS_TESTS=1 AWS_PROFILE=... .venv/bin/pytest -m aws -p no:logging
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from local_emulator.cli import main

ORDER = {"order_id": "o-aws-1", "amount": 42}


@pytest.fixture
def region(real_aws: None) -> str:
    return os.environ.get("STEPLINE_AWS_REGION") or boto3.Session().region_name or "us-east-1"


@pytest.fixture
def stack(region: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh stack name, the project in ``tmp_path``; the stack is deleted afterwards."""
    assert shutil.which("sam"), "the aws tests need the AWS SAM CLI on PATH"
    name = f"stepline-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.chdir(tmp_path)
    try:
        yield name
    finally:
        _delete(name, region, tmp_path)


def _stepline(stack: str, region: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["--stack", stack, "--region", region, *args])


def _stack_exists(cloudformation: Any, name: str) -> bool:
    try:
        cloudformation.describe_stacks(StackName=name)
    except cloudformation.exceptions.ClientError:
        return False
    return True


def _empty_buckets(session: boto3.Session, cloudformation: Any, name: str) -> None:
    """A bucket must be empty before CloudFormation can delete it (the values bucket)."""
    resources = cloudformation.describe_stack_resources(StackName=name)["StackResources"]
    for resource in resources:
        if resource["ResourceType"] == "AWS::S3::Bucket" and resource.get("PhysicalResourceId"):
            bucket = session.resource("s3").Bucket(resource["PhysicalResourceId"])
            bucket.object_versions.delete()
            bucket.objects.all().delete()


def _delete_log_groups(session: boto3.Session, name: str) -> None:
    """Lambda creates its log groups itself, outside the stack."""
    logs = session.client("logs")
    pages = logs.get_paginator("describe_log_groups").paginate(
        logGroupNamePrefix=f"/aws/lambda/{name}-"
    )
    for page in pages:
        for group in page["logGroups"]:
            logs.delete_log_group(logGroupName=group["logGroupName"])


def _delete(name: str, region: str, project: Path) -> None:
    session = boto3.Session(region_name=region)
    cloudformation = session.client("cloudformation")
    if _stack_exists(cloudformation, name):
        _empty_buckets(session, cloudformation, name)
        # sam delete removes the packaged artifacts too, and waits for the stack to go.
        subprocess.run(
            ["sam", "delete", "--stack-name", name, "--region", region, "--no-prompts"],
            cwd=project,
            check=True,
        )
    _delete_log_groups(session, name)
    assert not _stack_exists(cloudformation, name), f"stack {name} is still there"


@pytest.mark.aws
def test_the_example_app_deploys_and_runs_a_workflow_through_the_signed_api(
    stack: str, region: str
) -> None:
    build = ["--use-container"] if os.environ.get("STEPLINE_AWS_USE_CONTAINER") == "1" else []
    deployed = _stepline(stack, region, "deploy", *build)
    assert deployed.exit_code == 0, deployed.output

    listed = _stepline(stack, region, "workflows", "--json")
    assert listed.exit_code == 0, listed.output
    assert "process-order" in {wf["id"] for wf in json.loads(listed.output)}

    payload = json.dumps(ORDER)
    ran = _stepline(stack, region, "invoke", "process-order", "--payload", payload,
                    "--wait", "--timeout", "180", "--json")  # fmt: skip
    assert ran.exit_code == 0, ran.output
    execution = json.loads(ran.output)
    assert execution["status"] == "completed"
    assert execution["output"]["order_id"] == ORDER["order_id"]
    keys = {step["key"] for step in execution["steps"]}
    assert keys == {"validate", "payment-id", "reserve", "charge", "confirm"}

    unsigned = _stepline(stack, region, "--no-sign", "workflows")
    assert unsigned.exit_code == 1 and "(HTTP 403)" in unsigned.output
