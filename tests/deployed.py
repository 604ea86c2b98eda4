"""The template deployed into moto, its functions' real handlers run in this process.

``Deployment(modules)`` deploys the app's template into moto's CloudFormation the way the
emulator does, then runs each function through its Lambda entry point (``handlers.*``)
with the environment moto gave that function and a boto3 session of its own. The
session records every AWS operation the function makes (``calls``, from botocore's
``before-parameter-build`` event) and catches its Lambda ``Invoke`` calls, which the
test runs in turn (``drain``). ``role_policies`` reads back what moto attached to each
function's role, and ``permissions`` turns a recorded operation into the IAM actions and
resource ARNs AWS would authorize, so a test can hold one against the other.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse

from infra.template import synth
from local_emulator.accounts import drop_account, new_account_id, pin_account
from local_emulator.stack import FunctionConfig, Stack, deploy
from tests.support import FakeLambdaContext

REGION = "us-east-1"
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
# Each handler module builds its objects once, at its first invocation, into a global.
HANDLER_GLOBALS = {
    "handlers.runner.handler": "_runner",
    "handlers.failures.handler": "_recorder",
    "handlers.sweeper.handler": "_sweeper",
    "handlers.wakeups.handler": "_wakeups",
    "handlers.api.handler": "_resolver",
    "handlers.events.handler": "_publisher",
    "handlers.batches.handler": "_batches",
    "handlers.schedules.handler": "_ticker",
}
SCHEDULE_OPERATIONS = ("CreateSchedule", "UpdateSchedule", "DeleteSchedule", "GetSchedule")
TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


@dataclass(frozen=True)
class Call:
    """One AWS operation a function made, with its parameters."""

    service: str  # the IAM prefix: dynamodb, s3, lambda...
    operation: str
    params: dict[str, Any]


@dataclass
class Function:
    """One deployed function, run in this process."""

    config: FunctionConfig
    session: boto3.Session
    calls: list[Call] = field(default_factory=list)
    built: Any = None  # what its handler module built at its first invocation

    @property
    def handler(self) -> str:
        return self.config.handler


class Deployment:
    """The app of ``modules`` deployed into moto, its handlers run in this process."""

    def __init__(self, modules: list[str]) -> None:
        from moto import mock_aws

        self.account_id = new_account_id()
        self._mock = mock_aws()
        self._mock.start(reset=False)
        self.invocations: list[tuple[str, Any]] = []  # (function name, payload)
        try:
            self.stack: Stack = deploy(self.client, synth(modules), "app")
        except BaseException:
            self.close()
            raise
        self.functions = {
            config.handler: self._function(config) for config in self.stack.functions.values()
        }

    def client(self, service: str, **options: Any) -> Any:
        """A client of the test itself (not recorded) on the deployment's account."""
        client = boto3.client(service, region_name=REGION, **CREDENTIALS, **options)  # type: ignore[call-overload]
        return pin_account(client, self.account_id)

    def _function(self, config: FunctionConfig) -> Function:
        session = boto3.Session(region_name=REGION, **CREDENTIALS)
        function = Function(config, session)

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            service = model.service_model.signing_name
            function.calls.append(
                Call(service, model.name, json.loads(json.dumps(params, default=str)))
            )
            if (service, model.name) == ("lambda", "Invoke"):
                self.invocations.append((params["FunctionName"], json.loads(params["Payload"])))

        def accepted(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
            return AWSResponse("", 202, {}, None), {"StatusCode": 202, "ResponseMetadata": {}}

        def add_account(request: Any, **_: Any) -> None:
            request.headers["x-moto-account-id"] = self.account_id

        session.events.register("before-parameter-build", record)
        session.events.register("before-call.lambda.Invoke", accepted)
        session.events.register("before-sign", add_account)
        return function

    def run(self, handler: str, event: Any) -> Any:
        """Invoke the function whose handler is ``handler`` through its Lambda entry point."""
        function = self.functions[handler]
        module_name, _, entry = handler.rpartition(".")
        module = importlib.import_module(module_name)
        name = HANDLER_GLOBALS[handler]
        context = FakeLambdaContext(
            function_name=function.config.name, invoked_function_arn=function.config.arn
        )
        previous = getattr(module, name)
        with self._as(function):
            setattr(module, name, function.built)
            try:
                return getattr(module, entry)(event, context)
            finally:
                function.built = getattr(module, name)
                setattr(module, name, previous)

    @contextmanager
    def _as(self, function: Function) -> Iterator[None]:
        """The function's environment and session, as Lambda would give them."""
        environment = {
            **function.config.environment,
            "AWS_LAMBDA_FUNCTION_NAME": function.config.name,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }
        saved = {key: os.environ.get(key) for key in environment}
        previous = boto3.DEFAULT_SESSION
        os.environ.update(environment)
        boto3.DEFAULT_SESSION = function.session
        try:
            yield
        finally:
            boto3.DEFAULT_SESSION = previous
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value

    def drain(self, keep: Callable[[str, Any], bool] = lambda name, payload: False) -> None:
        """Run the queued invocations (and those they queue) until none is left, except
        those ``keep`` holds back (they stay queued)."""
        held: list[tuple[str, Any]] = []
        while self.invocations:
            target, payload = self.invocations.pop(0)
            if keep(target, payload):
                held.append((target, payload))
                continue
            self.run(self.function_named(target).handler, payload)
        self.invocations[:0] = held

    def function_named(self, name_or_arn: str) -> Function:
        name = name_or_arn.split(":")[6] if name_or_arn.startswith("arn:") else name_or_arn
        return next(f for f in self.functions.values() if f.config.name == name)

    def role_policies(self, handler: str) -> list[dict[str, Any]]:
        """The policy documents moto attached to the function's role."""
        iam = self.client("iam")
        role = self.client("lambda").get_function(FunctionName=self.functions[handler].config.name)
        role_name = role["Configuration"]["Role"].split("/")[-1]
        documents = []
        for policy in iam.list_role_policies(RoleName=role_name)["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role_name, PolicyName=policy)["PolicyDocument"]
            documents.append(_document(document))
        return documents

    def close(self) -> None:
        self._mock.stop(remove_data=False)
        drop_account(self.account_id)


def _document(document: Any) -> dict[str, Any]:
    """moto returns a policy document as a dict, as JSON, or as a Python literal."""
    if isinstance(document, dict):
        return document
    try:
        parsed: dict[str, Any] = json.loads(document)
    except json.JSONDecodeError:
        parsed = ast.literal_eval(document)
    return parsed


def table_arn(account: str, table: str) -> str:
    return f"arn:aws:dynamodb:{REGION}:{account}:table/{table}"


def permissions(call: Call, account: str) -> list[tuple[str, str, dict[str, str]]]:
    """What AWS authorizes for ``call``: (action, resource ARN, condition context) each."""
    params = call.params
    if call.service == "dynamodb":
        return _dynamodb(call, account)
    if call.service == "s3":
        return [(f"s3:{call.operation}", f"arn:aws:s3:::{params['Bucket']}/{params['Key']}", {})]
    if (call.service, call.operation) == ("lambda", "Invoke"):
        name = params["FunctionName"]
        arn = (
            name
            if name.startswith("arn:")
            else f"arn:aws:lambda:{REGION}:{account}:function:{name}"
        )
        return [("lambda:InvokeFunction", arn, {})]
    if (call.service, call.operation) == ("sqs", "SendMessage"):
        queue = params["QueueUrl"].rstrip("/").split("/")[-1]
        return [("sqs:SendMessage", f"arn:aws:sqs:{REGION}:{account}:{queue}", {})]
    if call.service == "scheduler" and call.operation in SCHEDULE_OPERATIONS:
        group = params.get("GroupName", "default")
        schedule = f"arn:aws:scheduler:{REGION}:{account}:schedule/{group}/{params['Name']}"
        granted = [(f"scheduler:{call.operation}", schedule, {})]
        if "Target" in params:  # creating or updating one hands it the role
            passed = {"iam:PassedToService": "scheduler.amazonaws.com"}
            granted.append(("iam:PassRole", params["Target"]["RoleArn"], passed))
        return granted
    raise AssertionError(f"no IAM mapping for {call.service}:{call.operation}")


def _dynamodb(call: Call, account: str) -> list[tuple[str, str, dict[str, str]]]:
    params = call.params
    if call.operation == "TransactWriteItems":
        return [
            (f"dynamodb:{TRANSACT_ACTIONS[kind]}", table_arn(account, body["TableName"]), {})
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    resource = table_arn(account, params["TableName"])
    if "IndexName" in params:
        resource += f"/index/{params['IndexName']}"
    return [(f"dynamodb:{call.operation}", resource, {})]


def allowed(
    documents: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]
) -> bool:
    """Whether an Allow statement of ``documents`` grants ``action`` on ``resource``."""
    for document in documents:
        statements = document["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement["Effect"] == "Allow" and _grants(statement, action, resource, context):
                return True
    return False


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _grants(statement: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    actions = [a.lower() for a in _listed(statement["Action"])]
    if not any(fnmatchcase(action.lower(), pattern) for pattern in actions):
        return False
    if not any(fnmatchcase(resource, pattern) for pattern in _listed(statement["Resource"])):
        return False
    for operator, tests in statement.get("Condition", {}).items():
        if operator != "StringEquals":
            return False  # no other condition is used on a function's own calls
        if any(context.get(key) not in _listed(value) for key, value in tests.items()):
            return False
    return True
