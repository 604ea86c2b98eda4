"""Requests to a deployed API are signed with SigV4; its URL comes from the stack's outputs.

The signature is proven against a recording server on loopback: botocore recomputes it from
the request as received and the same credentials. No test leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.credentials import Credentials, ReadOnlyCredentials
from click.testing import CliRunner
from moto import mock_aws

from local_emulator.api_client import ApiClient, ApiError, EndpointSetupError
from local_emulator.cli import main
from local_emulator.remote import SigV4Signer, Target, connect, is_loopback, url_region
from tests.unit.local_emulator.recording_server import (
    Answers,
    Recorded,
    recording_server,
    verify_sigv4,
)

KEYS = ReadOnlyCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "token-1")
ENV_KEYS = ReadOnlyCredentials("testing", "testing", "testing")  # tests/conftest.py sets these
FUNCTION_URL = "https://abcdefghijklmnopqrstuvwxyz012345.lambda-url.eu-west-1.on.aws/"
STARTED = {"execution_id": "e-1", "status": "pending"}


@pytest.fixture
def answers() -> Answers:
    return Answers(
        routes={
            ("GET", "/workflows"): (200, {"workflows": []}),
            ("GET", "/executions"): (200, {"executions": []}),
            ("POST", "/workflows/process-order/invoke"): (200, STARTED),
            ("POST", "/workflows/forbidden/invoke"): (403, {"Message": "Forbidden"}),
        }
    )


@pytest.fixture
def server(answers: Answers) -> Iterator[str]:
    with recording_server(answers) as url:
        yield url


def _signed_client(url: str, region: str = "eu-west-1") -> ApiClient:
    credentials = Credentials(KEYS.access_key, KEYS.secret_key, KEYS.token)
    return ApiClient(url, signer=SigV4Signer(credentials, region))


def test_a_signed_get_carries_a_valid_sigv4_signature(server: str, answers: Answers) -> None:
    _signed_client(server).executions("process-order", "completed", 5)

    [request] = answers.requests
    assert request.path == "/executions?workflow_id=process-order&status=completed&limit=5"
    signed = verify_sigv4(request, KEYS, "eu-west-1")
    assert {"host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"} <= set(signed)
    assert request.headers["x-amz-security-token"] == KEYS.token


def test_a_signed_post_signs_its_body_and_the_body_hash_header(
    server: str, answers: Answers
) -> None:
    started = _signed_client(server).invoke("process-order", {"order_id": "o-1", "amount": 42})

    assert started == STARTED
    [request] = answers.requests
    assert request.method == "POST"
    assert json.loads(request.body) == {"payload": {"order_id": "o-1", "amount": 42}}
    signed = verify_sigv4(request, KEYS, "eu-west-1")
    assert {"content-type", "x-amz-content-sha256"} <= set(signed)


def test_the_check_refuses_a_body_other_than_the_one_signed(server: str, answers: Answers) -> None:
    _signed_client(server).invoke("process-order", {"order_id": "o-1"})
    [request] = answers.requests
    tampered = Recorded(request.method, request.path, request.headers, b'{"payload": 2}')

    with pytest.raises(AssertionError):
        verify_sigv4(tampered, KEYS, "eu-west-1")


def test_the_check_refuses_a_signature_for_another_region(server: str, answers: Answers) -> None:
    _signed_client(server, region="us-east-1").workflows()

    with pytest.raises(AssertionError):
        verify_sigv4(answers.requests[0], KEYS, "eu-west-1")


def test_the_cli_signs_with_the_credentials_of_the_environment(
    server: str, answers: Answers
) -> None:
    payload = '{"order_id": "o-1"}'
    args = ["--sign", "--region", "us-west-2", "invoke", "process-order", "--payload", payload]

    result = CliRunner().invoke(main, [*args, "--endpoint", server])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "e-1"
    verify_sigv4(answers.requests[0], ENV_KEYS, "us-west-2")


def test_a_loopback_endpoint_is_not_signed_and_needs_no_credentials(
    server: str, answers: Answers, no_aws_credentials: None
) -> None:
    result = CliRunner().invoke(main, ["workflows", "--json", "--endpoint", server])

    assert result.exit_code == 0, result.output
    assert "authorization" not in answers.requests[0].headers


def test_a_function_url_is_signed_for_its_own_region() -> None:
    client = connect(FUNCTION_URL, Target(region="us-east-1"))

    assert isinstance(client.signer, SigV4Signer)
    assert client.signer.region == "eu-west-1"


def test_no_sign_sends_requests_to_a_remote_url_unsigned() -> None:
    assert connect(FUNCTION_URL, Target(sign=False)).signer is None


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("http://127.0.0.1:8765", True),
        ("http://127.8.0.1", True),
        ("http://localhost:1/x", True),
        ("http://[::1]:8765", True),
        (FUNCTION_URL, False),
        ("http://10.0.0.1:8765", False),
        ("https://api.example.com", False),
    ],
)
def test_loopback_hosts(url: str, loopback: bool) -> None:
    assert is_loopback(url) is loopback


def test_the_region_of_a_function_url() -> None:
    assert url_region(FUNCTION_URL) == "eu-west-1"
    assert url_region("https://api.example.com/") is None


@pytest.fixture
def no_aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials anywhere botocore looks: environment, files, containers, instance roles."""
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_missing_credentials_are_named_before_any_request(
    no_aws_credentials: None,
) -> None:
    result = CliRunner().invoke(main, ["workflows", "--endpoint", FUNCTION_URL])

    assert result.exit_code == 2
    assert f"Error: no AWS credentials found to sign requests to {FUNCTION_URL}" in result.output
    assert "AWS_PROFILE" in result.output


def test_a_remote_url_of_unknown_region_needs_a_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")

    with pytest.raises(EndpointSetupError, match="cannot tell the AWS region of https://api"):
        connect("https://api.example.com", Target())


def test_a_refused_unsigned_request_says_it_was_not_signed(server: str) -> None:
    with pytest.raises(ApiError) as caught:
        ApiClient(server).invoke("forbidden", None)

    assert caught.value.status == 403
    assert str(caught.value) == (
        "Forbidden (sent unsigned: a function URL with IAM auth needs --sign) (HTTP 403)"
    )


# --stack: the ApiUrl output of a stack, on moto's CloudFormation.


def _stack(name: str, outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }
    cloudformation = boto3.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName=name, TemplateBody=json.dumps(template))


def test_stack_resolves_the_api_url_output(server: str, answers: Answers) -> None:
    with mock_aws():
        _stack("shop", {"ApiUrl": server + "/", "JournalTableName": "t"})
        result = CliRunner().invoke(main, ["--stack", "shop", "workflows", "--json"])

    assert result.exit_code == 0, result.output
    assert [r.path for r in answers.requests] == ["/workflows"]
    assert "authorization" not in answers.requests[0].headers  # the URL is on loopback


def test_stack_comes_from_the_environment_too(
    server: str, answers: Answers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STEPLINE_STACK", "shop")
    with mock_aws():
        _stack("shop", {"ApiUrl": server})
        result = CliRunner().invoke(main, ["workflows", "--json"])

    assert result.exit_code == 0, result.output
    assert len(answers.requests) == 1


def test_a_stack_function_url_is_signed_for_its_region() -> None:
    with mock_aws():
        _stack("shop", {"ApiUrl": FUNCTION_URL})
        client = connect("http://127.0.0.1:8765", Target(stack="shop"))

    assert client.endpoint == FUNCTION_URL.rstrip("/")
    assert isinstance(client.signer, SigV4Signer) and client.signer.region == "eu-west-1"


def test_a_stack_without_an_api_url_output_is_named() -> None:
    with mock_aws():
        _stack("other", {"QueueUrl": "https://sqs/q"})
        result = CliRunner().invoke(main, ["--stack", "other", "workflows"])

    assert result.exit_code == 2
    assert (
        "Error: stack 'other' in us-east-1 (CREATE_COMPLETE) has no ApiUrl output "
        "(its outputs: QueueUrl); is it a Stepline app?"
    ) in result.output


def test_a_missing_stack_is_named_with_its_region() -> None:
    with mock_aws():
        result = CliRunner().invoke(main, ["--stack", "nope", "--region", "eu-west-3", "runs"])

    assert result.exit_code == 2
    assert "Error: no stack 'nope' in eu-west-3" in result.output


def test_stack_lookup_without_credentials_names_them(no_aws_credentials: None) -> None:
    result = CliRunner().invoke(main, ["--stack", "shop", "--region", "us-east-1", "runs"])

    assert result.exit_code == 2
    assert "Error: no AWS credentials found to look up stack 'shop'" in result.output


def test_stack_and_endpoint_together_are_refused(server: str) -> None:
    result = CliRunner().invoke(main, ["--stack", "shop", "workflows", "--endpoint", server])

    assert result.exit_code == 2
    assert "--stack shop and --endpoint name two APIs" in result.output
