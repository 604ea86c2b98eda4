"""``stepline deploy`` runs synth, then SAM: a fake ``sam`` on PATH records what it is told.

No AWS: the fake only writes its arguments and working directory to a log.
"""

from __future__ import annotations

import json
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from infra.samconfig import SamSettings, render
from infra.template import synth
from local_emulator.cli import main
from local_emulator.deploy import NAMED_PARAMETERS

FAKE_SAM = """#!{python}
import json, os, sys
with open(os.environ["FAKE_SAM_LOG"], "a") as log:
    log.write(json.dumps({{"argv": sys.argv[1:], "cwd": os.getcwd()}}) + "\\n")
sys.exit(3 if sys.argv[1] == os.environ.get("FAKE_SAM_FAILS") else 0)
"""
DEPLOY_ARGS = [
    "deploy",
    "--template-file", ".aws-sam/build/template.yaml",
    "--stack-name", "shop",
    "--capabilities", "CAPABILITY_IAM", "CAPABILITY_NAMED_IAM",
    "--resolve-s3",
    "--no-confirm-changeset",
    "--no-fail-on-empty-changeset",
]  # fmt: skip


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project directory, the current one, with a fake ``sam`` first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    sam = bin_dir / "sam"
    sam.write_text(FAKE_SAM.format(python=sys.executable))
    sam.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_SAM_LOG", str(tmp_path / "sam.log"))
    directory = tmp_path / "project"
    directory.mkdir()
    monkeypatch.chdir(directory)
    return directory


def _sam_calls(project: Path) -> list[dict[str, Any]]:
    log = project.parent / "sam.log"
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines()]


def _stepline(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_deploy_synthesizes_then_builds_and_deploys_in_the_template_directory(
    project: Path,
) -> None:
    result = _stepline("--stack", "shop", "deploy")

    assert result.exit_code == 0, result.output
    assert (project / "template.yaml").is_file()
    calls = _sam_calls(project)
    assert [call["argv"] for call in calls] == [
        ["build", "--template-file", "template.yaml", "--build-dir", ".aws-sam/build"],
        DEPLOY_ARGS,
    ]
    assert {call["cwd"] for call in calls} == {str(project)}
    assert "deployed stack shop" in result.output


def test_deploy_passes_parameters_region_and_container_builds_to_sam(project: Path) -> None:
    result = _stepline(
        "--stack", "shop", "--region", "eu-west-1", "deploy",
        "--memory", "1024", "--architecture", "arm64", "--retention-days", "30",
        "--log-retention-days", "90", "--log-level", "debug", "--parameter", "Stage=prod blue",
        "--use-container",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    build, deploy = (call["argv"] for call in _sam_calls(project))
    assert build[-1] == "--use-container"
    assert deploy == [
        *DEPLOY_ARGS,
        "--parameter-overrides",
        'Stage="prod blue"',
        "MemorySize=1024",
        "Architecture=arm64",
        "ExecutionRetentionDays=30",
        "LogRetentionDays=90",
        "LogLevel=DEBUG",
        "--region",
        "eu-west-1",
    ]


def test_deploy_writes_the_same_settings_to_samconfig(project: Path) -> None:
    result = _stepline("--stack", "shop", "deploy", "--memory", "2048")

    assert result.exit_code == 0, result.output
    config = tomllib.loads((project / "samconfig.toml").read_text())
    parameters = config["default"]["deploy"]["parameters"]
    assert parameters["stack_name"] == "shop"
    assert parameters["parameter_overrides"] == "MemorySize=2048"


def test_a_failed_build_stops_before_deploy(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_SAM_FAILS", "build")

    result = _stepline("--stack", "shop", "deploy")

    assert result.exit_code == 1
    assert "Error: `sam build` failed (exit 3)" in result.output
    assert [call["argv"][0] for call in _sam_calls(project)] == ["build"]


def test_deploy_without_sam_on_path_says_how_to_get_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(project))

    result = _stepline("--stack", "shop", "deploy")

    assert result.exit_code == 2
    assert "Error: the AWS SAM CLI (`sam`) is not on PATH" in result.output


def test_deploy_needs_a_stack_name(project: Path) -> None:
    result = _stepline("deploy")

    assert result.exit_code == 2
    assert "deploy needs a stack name: stepline --stack NAME deploy" in result.output
    assert _sam_calls(project) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--parameter", "MemorySize"], "'MemorySize' is not KEY=VALUE"),
        (["--parameter", "Memory-Size=1"], "'Memory-Size' is not a template parameter name"),
        (["--parameter", "MemorySize=1", "--memory", "256"], "MemorySize is given twice"),
    ],
)
def test_bad_parameters_are_refused_before_anything_runs(
    project: Path, args: list[str], message: str
) -> None:
    result = _stepline("--stack", "shop", "deploy", *args)

    assert result.exit_code == 2
    assert message in result.output
    assert not (project / "template.yaml").exists() and _sam_calls(project) == []


# samconfig.toml, as `stepline synth` writes it.


def test_synth_writes_samconfig_beside_the_template(project: Path) -> None:
    (project / "out").mkdir()

    result = _stepline("--stack", "shop", "synth", "--output", "out/template.yaml")

    assert result.exit_code == 0, result.output
    assert (project / "out" / "samconfig.toml").read_text() == render(SamSettings("shop"))
    assert "wrote out/samconfig.toml" in result.output


def test_synth_rewrites_a_samconfig_it_wrote(project: Path) -> None:
    _stepline("--stack", "shop", "synth")

    result = _stepline("--stack", "shop-2", "synth")

    assert result.exit_code == 0, result.output
    assert (project / "samconfig.toml").read_text() == render(SamSettings("shop-2"))


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: text.replace("cached = false", "cached = true"),  # header kept
        lambda text: text.split("\n", 2)[2],  # header deleted
        lambda text: 'version = 0.1\n[default.deploy.parameters]\nstack_name = "mine"\n',
    ],
    ids=["edited", "header-deleted", "written-by-hand"],
)
def test_synth_never_overwrites_a_samconfig_someone_edited(project: Path, edit: Any) -> None:
    _stepline("--stack", "shop", "synth")
    samconfig = project / "samconfig.toml"
    samconfig.write_text(edit(samconfig.read_text()))
    kept = samconfig.read_text()

    result = _stepline("--stack", "shop-2", "synth")

    assert result.exit_code == 0, result.output
    assert samconfig.read_text() == kept
    assert "left samconfig.toml as it is (not written by stepline, or edited since)" in (
        result.output
    )


def test_every_named_option_sets_a_parameter_the_template_declares() -> None:
    declared = yaml.safe_load(synth(["examples"])).get("Parameters")
    if declared is None:  # until the template's Parameters section lands (issue 9)
        pytest.skip("the template declares no Parameters")
    assert set(NAMED_PARAMETERS.values()) <= set(declared)
