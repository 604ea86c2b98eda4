"""``samconfig.toml`` for people who run ``sam build`` and ``sam deploy`` themselves.

``stepline synth`` and ``stepline deploy`` write it next to ``template.yaml`` with the settings
``stepline deploy`` passes to SAM, so that ``sam build && sam deploy`` does the same. The first
line is a header carrying a digest of the rest: stepline rewrites the file only while that
header is there and the digest still matches, so a file someone edited (or wrote) is never
overwritten. Pure functions; the CLI does the reading and writing.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

FILE_NAME = "samconfig.toml"
CAPABILITIES = ("CAPABILITY_IAM", "CAPABILITY_NAMED_IAM")
_HEADER = (
    "# Written by stepline (digest {digest}). stepline rewrites this file while this line "
    "stays and the rest is unchanged;\n# delete this line to keep your edits.\n"
)
_HEADER_PATTERN = re.compile(
    r"\A# Written by stepline \(digest ([0-9a-f]{16})\)\. .*\n# delete this line to keep your "
    r"edits\.\n"
)
_PARAMETER_KEY = re.compile(r"^[A-Za-z0-9]+$")


@dataclass(frozen=True)
class SamSettings:
    """What ``stepline deploy`` tells SAM beyond the template: stack, region, parameters."""

    stack_name: str | None = None
    region: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()


def check_parameter_key(key: str) -> None:
    """CloudFormation parameter names are alphanumeric; ``ValueError`` otherwise."""
    if not _PARAMETER_KEY.match(key):
        raise ValueError(f"{key!r} is not a template parameter name (letters and digits only)")


def override_token(key: str, value: str) -> str:
    """``KEY=VALUE`` as ``sam deploy --parameter-overrides`` reads it (quoted when needed)."""
    check_parameter_key(key)
    if value and not re.search(r"[\s\"'\\]", value):
        return f"{key}={value}"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{key}="{escaped}"'


def _toml(value: str | bool | Sequence[str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    return json.dumps(" ".join(value))


def _body(settings: SamSettings) -> str:
    deploy: dict[str, str | bool | Sequence[str]] = {}
    if settings.stack_name is not None:
        deploy["stack_name"] = settings.stack_name
    if settings.region is not None:
        deploy["region"] = settings.region
    deploy["capabilities"] = CAPABILITIES
    deploy["resolve_s3"] = True
    if settings.parameters:
        deploy["parameter_overrides"] = [override_token(k, v) for k, v in settings.parameters]
    lines = [
        "version = 0.1",
        "",
        "[default.build.parameters]",
        "cached = false",
        "use_container = false",
        "",
        "[default.deploy.parameters]",
        *(f"{key} = {_toml(value)}" for key, value in deploy.items()),
    ]
    if settings.stack_name is None:
        lines.append('# stack_name = "..."  (or run `stepline --stack NAME synth`)')
    return "\n".join(lines) + "\n"


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def render(settings: SamSettings) -> str:
    """The text of ``samconfig.toml``, header included."""
    body = _body(settings)
    return _HEADER.format(digest=_digest(body)) + body


def is_untouched(text: str) -> bool:
    """Whether ``text`` is a ``samconfig.toml`` stepline wrote and nobody changed since."""
    match = _HEADER_PATTERN.match(text)
    return match is not None and match.group(1) == _digest(text[match.end() :])


def may_write(existing: str | None) -> bool:
    """Whether stepline may (re)write a ``samconfig.toml`` whose text is ``existing`` (or None)."""
    return existing is None or is_untouched(existing)
