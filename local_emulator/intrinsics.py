"""CloudFormation's intrinsic functions, for the resources the emulator deploys itself.

moto resolves ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` in what it deploys. The resources
kept out of moto (event source mappings, schedule groups and schedules, function URLs)
still point at the rest of the stack with them; ``Intrinsics.resolve`` turns those into
values once moto has created the stack: physical ids, ARNs, substituted strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from sdk.errors import SteplineError

LATEST_STREAM = "latest"  # stands for a table's current stream label in resolved ARNs

_PLACEHOLDER = re.compile(r"\$\{([^}!]+)\}")


class IntrinsicError(SteplineError):
    """An intrinsic function the emulator cannot resolve."""


@dataclass(frozen=True)
class Intrinsics:
    """What the intrinsic functions of one deployed stack resolve against.

    Attributes:
        stack_id: The stack's ARN (``arn:aws:cloudformation:{region}:{account}:stack/...``).
        resources: The translated template's resources, by logical id.
        physical: The physical id of each resource moto created, by logical id.
        parameters: The stack's parameter values, by name.
    """

    stack_id: str
    resources: Mapping[str, Mapping[str, Any]]
    physical: Mapping[str, str]
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.stack_id.split(":")[3]

    @property
    def account(self) -> str:
        return self.stack_id.split(":")[4]

    @property
    def stack_name(self) -> str:
        return self.stack_id.split("/")[1]

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic function in it replaced by its result."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            [(name, argument)] = value.items()
            function = _FUNCTIONS.get(name)
            if function is not None:
                return function(self, argument)
        return {key: self.resolve(item) for key, item in value.items()}

    def ref(self, logical_id: str) -> str:
        pseudo = {
            "AWS::StackName": self.stack_name,
            "AWS::StackId": self.stack_id,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if logical_id in pseudo:
            return pseudo[logical_id]
        if logical_id in self.parameters:
            return self.parameters[logical_id]
        if self.physical.get(logical_id):  # (moto leaves some, an event bus's, empty)
            return self.physical[logical_id]
        resource = self.resources.get(logical_id)
        if resource is None:
            raise IntrinsicError(f"Ref to an unknown resource {logical_id!r}")
        # A resource the emulator keeps: its name, as CloudFormation's Ref returns it.
        name = resource.get("Properties", {}).get("Name")
        return str(self.resolve(name)) if name is not None else logical_id

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource = self.resources.get(logical_id)
        if resource is None:
            raise IntrinsicError(f"Fn::GetAtt of an unknown resource {logical_id!r}")
        kind, physical = resource["Type"], self.ref(logical_id)
        prefix = f"arn:aws:{{}}:{self.region}:{self.account}"
        if attribute == "Arn" and kind == "AWS::Lambda::Function":
            return f"{prefix.format('lambda')}:function:{physical}"
        if kind == "AWS::SQS::Queue" and attribute in ("Arn", "QueueName"):
            name = urlparse(physical).path.rstrip("/").split("/")[-1]
            return name if attribute == "QueueName" else f"{prefix.format('sqs')}:{name}"
        if attribute == "Arn" and kind == "AWS::IAM::Role":
            return f"arn:aws:iam::{self.account}:role/{physical}"
        if kind == "AWS::Events::EventBus" and attribute in ("Arn", "Name"):
            name = physical.rsplit("/", 1)[-1]  # the bus's name (or its ARN)
            return name if attribute == "Name" else f"{prefix.format('events')}:event-bus/{name}"
        if attribute == "StreamArn" and kind == "AWS::DynamoDB::Table":
            # the stream's label is moto's: a stream mapping asks the table for it
            return f"{prefix.format('dynamodb')}:table/{physical}/stream/{LATEST_STREAM}"
        if attribute == "Arn" and kind == "AWS::Scheduler::ScheduleGroup":
            return f"{prefix.format('scheduler')}:schedule-group/{physical}"
        raise IntrinsicError(f"the emulator cannot resolve {logical_id}.{attribute} ({kind})")

    def sub(self, text: str, variables: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match[1]
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return self.get_att(logical_id, attribute)
            return self.ref(name)

        return _PLACEHOLDER.sub(replace, text)


def _ref(intrinsics: Intrinsics, argument: Any) -> str:
    return intrinsics.ref(str(argument))


def _get_att(intrinsics: Intrinsics, argument: Any) -> str:
    logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
    return intrinsics.get_att(str(logical_id), str(attribute))


def _sub(intrinsics: Intrinsics, argument: Any) -> str:
    if isinstance(argument, list):
        text, variables = argument
        return intrinsics.sub(str(text), variables)
    return intrinsics.sub(str(argument), {})


def _join(intrinsics: Intrinsics, argument: Any) -> str:
    separator, items = argument
    return str(separator).join(str(item) for item in intrinsics.resolve(items))


def _split(intrinsics: Intrinsics, argument: Any) -> list[str]:
    separator, text = argument
    return str(intrinsics.resolve(text)).split(str(separator))


def _select(intrinsics: Intrinsics, argument: Any) -> Any:
    index, items = argument
    return intrinsics.resolve(items)[int(intrinsics.resolve(index))]


_FUNCTIONS = {
    "Ref": _ref,
    "Fn::GetAtt": _get_att,
    "Fn::Sub": _sub,
    "Fn::Join": _join,
    "Fn::Split": _split,
    "Fn::Select": _select,
}
