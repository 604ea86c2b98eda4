"""Deploying ``template.yaml`` into moto: SAM translation, then CloudFormation.

moto's CloudFormation creates the table, the bus, the queues, the roles, the log
groups and the Lambda functions (whose code it never runs), resolving the template's
Parameters to their defaults; it accepts and ignores what it does not model (point-in-time
recovery, TTL, log configuration, architectures). What moto does not model or must not
run is kept out of what moto receives and read by the emulator from the translated
template instead (``Stack.emulated``): function URLs and async-invoke settings;
event source mappings (moto would invoke the function itself on every SendMessage);
EventBridge Scheduler groups and schedules (moto's CloudFormation skips them; the
emulator creates the groups through moto's Scheduler API); and EventBridge rules (moto
never fires a scheduled one, and one with a Lambda target makes its PutEvents fail), with
the Lambda permissions that name them. Of the on-failure
destinations, the emulator delivers to functions; a queue destination (the failure
function's dead-letter queue) receives nothing locally.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from infra.batches import QUEUES_VARIABLE as BATCH_QUEUES
from local_emulator.intrinsics import Intrinsics
from sdk.errors import SteplineError

CODE_BUCKET = "stepline-local-code"
CODE_KEY = "app.zip"
EMULATOR_TYPES = (
    "AWS::Lambda::Url",
    "AWS::Lambda::EventInvokeConfig",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::Scheduler::Schedule",
    # moto never fires a scheduled rule, and a rule with a Lambda target makes moto's
    # PutEvents fail: the emulator runs rules itself (``scheduler``, ``events``).
    "AWS::Events::Rule",
)
DEFAULT_RETRY_ATTEMPTS = 2
REGION = "us-east-1"


class TemplateError(SteplineError):
    """The template cannot be translated or deployed."""


@dataclass(frozen=True)
class FunctionConfig:
    """A deployed Lambda function, as the emulator runs it."""

    name: str
    handler: str
    environment: dict[str, str]
    timeout_seconds: int
    memory_mb: int
    max_retry_attempts: int = DEFAULT_RETRY_ATTEMPTS
    on_failure: str | None = None
    has_url: bool = False
    arn: str = ""  # as moto created it, in the emulator's account
    code_dir: str | None = None  # the built code it runs isolated; None: the working directory's


@dataclass(frozen=True)
class Stack:
    name: str
    table_name: str
    bus_name: str
    functions: dict[str, FunctionConfig] = field(default_factory=dict)
    emulated: dict[str, dict[str, Any]] = field(default_factory=dict)
    intrinsics: Intrinsics | None = None
    values_bucket: str | None = None  # where values past the item limit go

    def emulated_of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """The kept resources of one type, by logical id, intrinsic functions unresolved."""
        return {
            logical: resource
            for logical, resource in self.emulated.items()
            if resource["Type"] == resource_type
        }

    def resolve(self, value: Any) -> Any:
        """``value`` from the translated template, with its intrinsic functions resolved."""
        if self.intrinsics is None:
            raise TemplateError(f"stack {self.name} was not deployed")
        return self.intrinsics.resolve(value)

    @property
    def batch_queues(self) -> dict[str, str]:
        """The URL of each batched workflow's queue (``infra.batches``), as the publishers
        read them from their environment."""
        runner = self.function_by_handler("handlers.runner.handler")
        queues: dict[str, str] = json.loads(runner.environment.get(BATCH_QUEUES, "{}"))
        return queues

    def function_by_handler(self, handler: str) -> FunctionConfig:
        for function in self.functions.values():
            if function.handler == handler:
                return function
        raise TemplateError(f"the template has no function with handler {handler!r}")


def translate(template_text: str, code_bucket: str = CODE_BUCKET) -> dict[str, Any]:
    """SAM -> plain CloudFormation, with the code taken from the emulator's bucket."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    template = yaml.safe_load(template_text)
    if not isinstance(template, dict) or "Resources" not in template:
        raise TemplateError("the template has no Resources")
    template.setdefault("Globals", {}).setdefault("Function", {})["CodeUri"] = (
        f"s3://{code_bucket}/{CODE_KEY}"
    )
    for resource in template["Resources"].values():
        if resource.get("Type") == "AWS::Serverless::Function":
            resource.get("Properties", {}).pop("CodeUri", None)
    try:
        session = boto3.session.Session(region_name=REGION)
        translator = Translator({}, Parser(), boto_session=session)
        translated: dict[str, Any] = translator.translate(template, parameter_values={})
    except Exception as exc:  # samtranslator's InvalidDocumentException and friends
        raise TemplateError(f"SAM translation failed: {exc}") from exc
    return translated


def _names_any(resource: dict[str, Any], logical_ids: dict[str, Any]) -> bool:
    text = json.dumps(resource)
    return any(f'"{logical}"' in text for logical in logical_ids)


def _split(translated: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what moto deploys, what the emulator keeps)."""
    resources: dict[str, Any] = translated["Resources"]
    ours = {
        logical: resource
        for logical, resource in resources.items()
        if resource["Type"] in EMULATOR_TYPES
    }
    # Permissions granting a kept resource the right to invoke: the emulator needs none.
    dropped = {
        logical
        for logical, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Permission" and _names_any(resource, ours)
    }
    theirs = dict(translated)
    theirs["Resources"] = {k: v for k, v in resources.items() if k not in ours and k not in dropped}
    theirs["Outputs"] = {
        key: output
        for key, output in translated.get("Outputs", {}).items()
        if not any(logical in json.dumps(output) for logical in ours)
    }
    return theirs, ours


def _target(reference: Any) -> str:
    """The logical id a ``Ref`` or ``Fn::GetAtt`` points at."""
    if isinstance(reference, dict) and "Ref" in reference:
        return str(reference["Ref"])
    if isinstance(reference, dict) and "Fn::GetAtt" in reference:
        attribute = reference["Fn::GetAtt"]
        return str(attribute[0] if isinstance(attribute, list) else attribute.split(".")[0])
    raise TemplateError(f"cannot resolve {reference!r}")


def code_dirs(template_text: str, code_root: Path) -> dict[str, str]:
    """Each function's ``CodeUri`` under ``code_root``, by logical id: the directories of a
    template ``sam build`` wrote (``code_root`` is its directory)."""
    template = yaml.safe_load(template_text)
    default = template.get("Globals", {}).get("Function", {}).get("CodeUri")
    found = {}
    for logical, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        uri = resource.get("Properties", {}).get("CodeUri", default)
        if not isinstance(uri, str) or not (code_root / uri).is_dir():
            raise TemplateError(f"{logical}: CodeUri {uri!r} is not a directory under {code_root}")
        found[logical] = str((code_root / uri).resolve())
    return found


def deploy(
    clients: Any,
    template_text: str,
    stack_name: str,
    *,
    code_bucket: str = CODE_BUCKET,
    code_root: Path | None = None,
) -> Stack:
    """Create the stack in moto; ``clients(service)`` returns a boto3 client.

    ``code_bucket`` is created for the (empty) code bundle; bucket names are global
    in moto as on AWS, so emulators sharing a process need one each. With ``code_root``
    (the directory of a built template) each function gets its built code directory.
    """
    code = {} if code_root is None else code_dirs(template_text, code_root)
    translated = translate(template_text, code_bucket)
    moto_part, ours = _split(translated)
    s3 = clients("s3")
    s3.create_bucket(Bucket=code_bucket)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("README", "the emulator runs the code (working or built directory)\n")
    s3.put_object(Bucket=code_bucket, Key=CODE_KEY, Body=archive.getvalue())

    cloudformation = clients("cloudformation")
    cloudformation.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(moto_part),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
    )
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise TemplateError(f"stack {stack_name}: {stack['StackStatus']}")
    physical = {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cloudformation.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]
    }
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    intrinsics = Intrinsics(
        stack["StackId"], translated["Resources"], physical, _parameters(translated, stack)
    )
    _create_schedule_groups(clients("scheduler"), ours, intrinsics)
    return Stack(
        name=stack_name,
        table_name=outputs["JournalTableName"],
        bus_name=outputs["EventBusName"],
        functions=_functions(clients("lambda"), translated["Resources"], ours, physical, code),
        emulated=ours,
        intrinsics=intrinsics,
        values_bucket=outputs.get("ValuesBucketName"),
    )


def _parameters(translated: dict[str, Any], stack: dict[str, Any]) -> dict[str, str]:
    """The stack's parameter values: the template's defaults, then what the stack was given."""
    values = {
        name: str(parameter["Default"])
        for name, parameter in translated.get("Parameters", {}).items()
        if "Default" in parameter
    }
    values.update(
        {p["ParameterKey"]: str(p["ParameterValue"]) for p in stack.get("Parameters", [])}
    )
    return values


def _create_schedule_groups(scheduler: Any, ours: dict[str, Any], intrinsics: Intrinsics) -> None:
    """moto's CloudFormation skips schedule groups; its Scheduler API creates them."""
    for logical, resource in ours.items():
        if resource["Type"] == "AWS::Scheduler::ScheduleGroup":
            scheduler.create_schedule_group(Name=intrinsics.ref(logical))


def _invoke_settings(
    resources: dict[str, Any], props: dict[str, Any], physical: dict[str, str]
) -> dict[str, Any]:
    """A function's retries and on-failure destination (a function; queues are not emulated)."""
    entry: dict[str, Any] = {
        "max_retry_attempts": int(props.get("MaximumRetryAttempts", DEFAULT_RETRY_ATTEMPTS))
    }
    failure = props.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
    if failure is not None:
        target = _target(failure)
        if resources.get(target, {}).get("Type") == "AWS::Lambda::Function":
            entry["on_failure"] = physical[target]
    return entry


def _functions(
    lambda_client: Any,
    resources: dict[str, Any],
    ours: dict[str, Any],
    physical: dict[str, str],
    code: dict[str, str],
) -> dict[str, FunctionConfig]:
    """The stack's functions as moto created them, with the settings the emulator keeps and,
    for a built template, each one's code directory (``code``, by logical id)."""
    settings: dict[str, dict[str, Any]] = {
        physical[logical]: {"code_dir": code_dir} for logical, code_dir in code.items()
    }
    for resource in ours.values():
        if resource["Type"] not in ("AWS::Lambda::Url", "AWS::Lambda::EventInvokeConfig"):
            continue
        props = resource["Properties"]
        name = physical[_target(props.get("FunctionName") or props.get("TargetFunctionArn"))]
        entry = settings.setdefault(name, {})
        if resource["Type"] == "AWS::Lambda::Url":
            entry["has_url"] = True
        else:
            entry.update(_invoke_settings(resources, props, physical))
    functions = {}
    for page in lambda_client.get_paginator("list_functions").paginate():
        for fn in page["Functions"]:
            functions[fn["FunctionName"]] = FunctionConfig(
                name=fn["FunctionName"],
                handler=fn["Handler"],
                # Lambda's variables are strings; moto keeps numbers from parameters as numbers.
                environment={
                    key: str(value)
                    for key, value in fn.get("Environment", {}).get("Variables", {}).items()
                },
                timeout_seconds=int(fn.get("Timeout", 3)),
                memory_mb=int(fn.get("MemorySize", 128)),
                arn=fn["FunctionArn"],
                **settings.get(fn["FunctionName"], {}),
            )
    return functions
