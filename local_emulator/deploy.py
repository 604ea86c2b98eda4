"""``stepline deploy``: ``sam build`` then ``sam deploy`` of the synthesized template.

The AWS SAM CLI does the work (packaging, the S3 bucket for artifacts, the change set); this
module only says what to run. SAM runs in the template's directory, so the ``samconfig.toml``
written there and SAM's ``.aws-sam/`` build directory sit beside ``template.yaml``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.samconfig import (
    CAPABILITIES,
    FILE_NAME,
    SamSettings,
    check_parameter_key,
    may_write,
    override_token,
    render,
)
from sdk.errors import SteplineError

BUILD_DIR = ".aws-sam/build"
# The options of `stepline deploy` that set a template parameter, and the parameter each sets
# (the names of the template's Parameters section, infra/template.py).
NAMED_PARAMETERS = {
    "memory": "MemorySize",
    "architecture": "Architecture",
    "retention_days": "ExecutionRetentionDays",
    "log_retention_days": "LogRetentionDays",
    "log_level": "LogLevel",
}


class DeployError(SteplineError):
    """A SAM command failed (its own output says why)."""


class SamNotFoundError(SteplineError):
    """The AWS SAM CLI is not installed."""


@dataclass(frozen=True)
class Deployment:
    """One ``stepline deploy``: the template (already synthesized) and what SAM is told."""

    template: Path
    settings: SamSettings
    use_container: bool = False

    def build_args(self) -> list[str]:
        args = ["build", "--template-file", self.template.name, "--build-dir", BUILD_DIR]
        return args + (["--use-container"] if self.use_container else [])

    def deploy_args(self) -> list[str]:
        assert self.settings.stack_name is not None, "a deployment names its stack"
        args = [
            "deploy",
            "--template-file", f"{BUILD_DIR}/template.yaml",
            "--stack-name", self.settings.stack_name,
            "--capabilities", *CAPABILITIES,
            "--resolve-s3",
            "--no-confirm-changeset",
            "--no-fail-on-empty-changeset",
        ]  # fmt: skip
        if self.settings.parameters:
            tokens = [override_token(k, v) for k, v in self.settings.parameters]
            args += ["--parameter-overrides", *tokens]
        if self.settings.region is not None:
            args += ["--region", self.settings.region]
        return args


def parameters(given: Sequence[str], named: Mapping[str, object]) -> tuple[tuple[str, str], ...]:
    """Template parameters from ``--parameter KEY=VALUE`` options and the named options.

    ``named`` maps option names (``NAMED_PARAMETERS``) to values, None when not given.
    ``ValueError`` for a malformed pair or a parameter given twice.
    """
    pairs: dict[str, str] = {}
    for item in given:
        key, equals, value = item.partition("=")
        if not equals:
            raise ValueError(f"{item!r} is not KEY=VALUE")
        _add(pairs, key, value)
    for option, setting in named.items():
        if setting is not None:
            _add(pairs, NAMED_PARAMETERS[option], str(setting))
    return tuple(pairs.items())


def _add(pairs: dict[str, str], key: str, value: str) -> None:
    check_parameter_key(key)
    if key in pairs:
        raise ValueError(f"template parameter {key} is given twice")
    pairs[key] = value


def write_samconfig(directory: Path, settings: SamSettings) -> str:
    """Write ``samconfig.toml`` in ``directory`` unless someone else wrote or edited it.

    Returns what happened, for the CLI to print.
    """
    path = directory / FILE_NAME
    existing = path.read_text() if path.is_file() else None
    if not may_write(existing):
        return f"left {path} as it is (not written by stepline, or edited since)"
    text = render(settings)
    if text != existing:
        path.write_text(text)
    return f"wrote {path}"


def sam_executable() -> str:
    """``$STEPLINE_SAM``, else the ``sam`` installed beside this Python (the ``sam`` extra),
    else ``sam`` on PATH; ``SamNotFoundError`` when there is none."""
    beside = Path(sys.executable).parent / "sam"
    for candidate in (os.environ.get("STEPLINE_SAM"), str(beside)):
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("sam")
    if found is None:
        raise SamNotFoundError(
            "the AWS SAM CLI (`sam`) is not on PATH: install it in a venv of its own with "
            "`python3 -m venv .venv-sam && .venv-sam/bin/pip install -e '.[sam]'` and run "
            "`.venv-sam/bin/stepline deploy`, or see https://docs.aws.amazon.com/"
            "serverless-application-model/latest/developerguide/install-sam-cli.html"
        )
    return found


def run(deployment: Deployment) -> None:
    """``sam build`` then ``sam deploy`` in the template's directory; ``DeployError`` on failure."""
    sam = sam_executable()
    cwd = deployment.template.resolve().parent
    for args in (deployment.build_args(), deployment.deploy_args()):
        completed = subprocess.run([sam, *args], cwd=cwd, check=False)
        if completed.returncode != 0:
            raise DeployError(f"`sam {args[0]}` failed (exit {completed.returncode})")
