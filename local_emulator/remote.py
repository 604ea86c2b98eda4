"""Reach the HTTP API of a deployed stack: its URL from CloudFormation, requests signed with SigV4.

A stack's API is a Lambda function URL with ``AuthType: AWS_IAM``, so every request carries
a Signature Version 4 signature for the service ``lambda`` in the URL's region, made with
botocore from the usual AWS credentials (environment, profile, SSO, instance role). The body's
SHA-256 goes in ``x-amz-content-sha256`` and is signed too, as function URLs ask of POST.

The rule for signing (``connect``): requests to a loopback host (the emulator) go unsigned and
need no credentials; requests anywhere else are signed. ``sign=True`` / ``False`` overrides
the rule (an SSH tunnel to a function URL on localhost; an ``AuthType: NONE`` URL).
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from local_emulator.api_client import ApiClient, EndpointSetupError, EndpointUnreachableError

if TYPE_CHECKING:
    import boto3
    from botocore.credentials import Credentials
    from mypy_boto3_cloudformation import CloudFormationClient

API_URL_OUTPUT = "ApiUrl"
SIGNING_SERVICE = "lambda"
# https://<url-id>.lambda-url.<region>.on.aws
_FUNCTION_URL_HOST = re.compile(r"^[a-z0-9]+\.lambda-url\.([a-z0-9-]+)\.on\.aws$")
CREDENTIALS_HELP = (
    "set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run `aws configure` "
    "or `aws sso login`"
)


@dataclass(frozen=True)
class Target:
    """Where the API commands go: the group options ``--stack``, ``--region``, ``--sign``.

    ``sign`` is None for the rule: sign unless the endpoint is on loopback.
    """

    stack: str | None = None
    region: str | None = None
    sign: bool | None = None


def is_loopback(url: str) -> bool:
    """Whether ``url``'s host is this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_region(url: str) -> str | None:
    """The region of a Lambda function URL (``https://ID.lambda-url.REGION.on.aws/``), else None."""
    match = _FUNCTION_URL_HOST.match(urllib.parse.urlsplit(url).hostname or "")
    return match.group(1) if match else None


class SigV4Signer:
    """Signs requests to a function URL with the credentials of a botocore session.

    Credentials are frozen afresh for each request, so temporary ones that refresh (SSO,
    assumed roles) stay valid in a long ``--wait``.
    """

    def __init__(self, credentials: Credentials, region: str) -> None:
        self.credentials = credentials
        self.region = region

    def sign(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]
    ) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        payload = body or b""
        request = AWSRequest(
            method=method,
            url=url,
            data=payload,
            headers={**headers, "X-Amz-Content-SHA256": hashlib.sha256(payload).hexdigest()},
        )
        frozen = self.credentials.get_frozen_credentials()
        SigV4Auth(frozen, SIGNING_SERVICE, self.region).add_auth(request)
        return dict(request.headers.items())


def stack_api_url(cloudformation: CloudFormationClient, stack_name: str) -> str:
    """The ``ApiUrl`` output of ``stack_name``; ``EndpointSetupError`` naming what is missing."""
    from botocore.exceptions import ClientError

    region = cloudformation.meta.region_name
    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if "does not exist" in error.get("Message", ""):
            raise EndpointSetupError(
                f"no stack {stack_name!r} in {region}: deploy it with `stepline --stack "
                f"{stack_name} deploy`, or pass --region"
            ) from None
        raise EndpointSetupError(
            f"cannot describe stack {stack_name!r} in {region}: "
            f"{error.get('Code')}: {error.get('Message')}"
        ) from None
    stack = stacks[0]
    outputs = {o.get("OutputKey"): o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    if API_URL_OUTPUT not in outputs:
        found = ", ".join(sorted(str(key) for key in outputs)) or "none"
        raise EndpointSetupError(
            f"stack {stack_name!r} in {region} ({stack['StackStatus']}) has no "
            f"{API_URL_OUTPUT} output (its outputs: {found}); is it a Stepline app?"
        )
    return outputs[API_URL_OUTPUT]


def _session(region: str | None) -> boto3.Session:
    import boto3

    return boto3.Session(region_name=region)


def _credentials(session: boto3.Session, purpose: str) -> Credentials:
    credentials = session.get_credentials()
    if credentials is None:
        raise EndpointSetupError(f"no AWS credentials found to {purpose}: {CREDENTIALS_HELP}")
    return credentials


def resolve_stack(session: boto3.Session, stack_name: str) -> str:
    """The API URL of ``stack_name`` in the session's region."""
    from botocore.exceptions import BotoCoreError, EndpointConnectionError

    if session.region_name is None:
        raise EndpointSetupError(
            f"no AWS region to look up stack {stack_name!r} in: pass --region or set AWS_REGION"
        )
    _credentials(session, f"look up stack {stack_name!r}")
    try:
        return stack_api_url(session.client("cloudformation"), stack_name)
    except EndpointConnectionError as exc:
        raise EndpointUnreachableError(f"cannot reach CloudFormation: {exc}") from None
    except BotoCoreError as exc:
        raise EndpointSetupError(f"cannot look up stack {stack_name!r}: {exc}") from None


def signer_for(session: boto3.Session, url: str) -> SigV4Signer:
    """A signer for ``url``: the region of the function URL, else the session's."""
    region = url_region(url) or session.region_name
    if region is None:
        raise EndpointSetupError(
            f"cannot tell the AWS region of {url} to sign requests: pass --region or set AWS_REGION"
        )
    return SigV4Signer(_credentials(session, f"sign requests to {url}"), region)


def connect(endpoint: str, target: Target) -> ApiClient:
    """A client of the API at ``endpoint``, or of ``target.stack``'s API when a stack is named."""
    session = None
    if target.stack is not None:
        session = _session(target.region)
        endpoint = resolve_stack(session, target.stack)
    sign = not is_loopback(endpoint) if target.sign is None else target.sign
    if not sign:
        return ApiClient(endpoint)
    return ApiClient(endpoint, signer=signer_for(session or _session(target.region), endpoint))
