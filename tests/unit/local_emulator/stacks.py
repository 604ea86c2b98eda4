"""A ``Stack`` from a template without deploying it: translated, split, physical ids invented."""

from __future__ import annotations

from typing import Any

import yaml

from infra.template import synth
from local_emulator.intrinsics import Intrinsics
from local_emulator.stack import FunctionConfig, Stack, _split, translate

STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/5f2c1f6e-8a0b-4c1d-9e7f"


def physical_id(logical: str, resource: dict[str, Any]) -> str:
    """What moto would name the resource (functions keep their template name)."""
    if resource["Type"] == "AWS::SQS::Queue":
        return f"https://sqs.us-east-1.amazonaws.com/123456789012/app-{logical}-X1"
    name = resource.get("Properties", {}).get("FunctionName")
    if isinstance(name, dict) and "Fn::Sub" in name:
        return str(name["Fn::Sub"]).replace("${AWS::StackName}", "app")
    return f"app-{logical}-X1"


def undeployed_stack(template: dict[str, Any] | None = None) -> Stack:
    """The stack of ``template`` (default: the example app's), as ``deploy`` would describe it."""
    translated = translate(yaml.safe_dump(template or yaml.safe_load(synth(["examples"]))))
    theirs, ours = _split(translated)
    physical = {
        logical: physical_id(logical, resource) for logical, resource in theirs["Resources"].items()
    }
    functions = {
        physical[logical]: FunctionConfig(
            name=physical[logical],
            handler=resource["Properties"]["Handler"],
            environment={},
            timeout_seconds=3,
            memory_mb=128,
        )
        for logical, resource in theirs["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    return Stack(
        name="app",
        table_name="journal",
        bus_name="bus",
        functions=functions,
        emulated=ours,
        intrinsics=Intrinsics(STACK_ID, translated["Resources"], physical),
    )
