"""The deployable bundle, offline: ``sam validate``, ``sam build`` for both architectures, the
built functions' size, imports and machine code, then the built template deployed into the
emulator and a workflow run end to end through the built handlers, each isolated as on Lambda.

The project is made in a temporary directory by the functions ``stepline synth`` calls, for
the example app. ``sam build`` reads only a local wheelhouse (``tests.lambda_builds``).
"""

from __future__ import annotations

import os
import re
import shutil
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.bundle import (
    BUNDLE_DIR,
    LAMBDA_PACKAGES,
    REQUIREMENTS_FILE,
    closure,
    requirements_text,
    write_bundle,
)
from infra.template import FUNCTION_SUFFIXES, synth
from local_emulator.api_client import ApiClient
from local_emulator.emulator import Emulator
from local_emulator.lambda_.runtime import LambdaRuntime, check_import, provide_runtime
from tests.lambda_builds import (
    ELF_MACHINES,
    ROOT,
    elf_machine,
    fill_wheelhouse,
    finish,
    sam_environment,
    shared_objects,
    size_bytes,
    start_sam,
)

pytestmark = pytest.mark.slow

APP = ["examples"]
ARCHITECTURES = ("x86_64", "arm64")
LAMBDA_LIMIT_BYTES = 250 * 2**20  # unzipped, code and layers
BUDGET_BYTES = 30 * 2**20  # ours: 12 MB today; a dependency taking it past this is a decision
ORDER = {"order_id": "o-1", "items": ["book"], "address": "1 Main St"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project as ``stepline synth`` writes it: template, requirements and bundle."""
    project = tmp_path_factory.mktemp("project")
    (project / "template.yaml").write_text(synth(APP))
    (project / REQUIREMENTS_FILE).write_text(requirements_text())
    write_bundle(project, APP)
    return project


@pytest.fixture(scope="module")
def sam_env(project: Path) -> dict[str, str]:
    wheelhouse = fill_wheelhouse(ROOT / REQUIREMENTS_FILE)
    return sam_environment(wheelhouse, project.parent / "sam-settings")


def _build_args(architecture: str) -> list[str]:
    """``sam build`` of the template for one architecture (its ``Architecture`` parameter)."""
    overrides = ["--parameter-overrides", f"Architecture={architecture}"]
    return ["build", "-t", "template.yaml", "-b", f"build-{architecture}", *overrides]


@pytest.fixture(scope="module")
def builds(project: Path, sam_env: dict[str, str]) -> dict[str, Path]:
    """``sam build`` (no container) for each architecture, side by side."""
    running = {arch: start_sam(_build_args(arch), project, sam_env) for arch in ARCHITECTURES}
    outputs = {arch: finish(process) for arch, process in running.items()}
    for arch, output in outputs.items():
        assert "without dependencies" not in output, output
        assert f"architecture: {arch}" in output, output
    return {arch: project / f"build-{arch}" for arch in ARCHITECTURES}


def _functions(build_dir: Path) -> dict[str, dict[str, Any]]:
    """The built template's functions: logical id -> properties (Globals applied)."""
    template = yaml.safe_load((build_dir / "template.yaml").read_text())
    defaults = template["Globals"]["Function"]
    functions = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            properties = resource["Properties"]
            variables = {
                **defaults["Environment"]["Variables"],
                **properties.get("Environment", {}).get("Variables", {}),
            }
            functions[logical] = {**defaults, **properties, "Environment": {"Variables": variables}}
    return functions


def test_the_functions_code_is_the_bundle(project: Path) -> None:
    template = yaml.safe_load((project / "template.yaml").read_text())
    assert template["Globals"]["Function"]["CodeUri"] == BUNDLE_DIR
    assert all(
        "CodeUri" not in resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    )


def test_the_template_passes_sam_validate_lint(project: Path, sam_env: dict[str, str]) -> None:
    output = finish(start_sam(["validate", "--lint", "-t", "template.yaml"], project, sam_env))
    assert "is a valid SAM Template" in output


def test_each_function_holds_the_lambda_code_and_its_pinned_dependencies_only(
    builds: dict[str, Path],
) -> None:
    dependencies = {name.replace("-", "_") for name in closure()}
    for build_dir in builds.values():
        functions = _functions(build_dir)
        assert set(functions) == set(FUNCTION_SUFFIXES)  # every function of the stack
        for properties in functions.values():
            code = build_dir / properties["CodeUri"]
            top = {entry.name for entry in code.iterdir()}
            ours = {*LAMBDA_PACKAGES, *APP, REQUIREMENTS_FILE}
            assert ours <= top
            assert not {"tests", "infra", "local_emulator", "benchmarks", "docs"} & top
            installed = {name.split("-")[0].lower() for name in top if "-" in name}
            assert installed == dependencies, top  # one .dist-info (or .data) per pinned one


def test_each_built_function_is_well_under_lambdas_size_limit(builds: dict[str, Path]) -> None:
    for build_dir in builds.values():
        for properties in _functions(build_dir).values():
            size = size_bytes(build_dir / properties["CodeUri"])
            assert size < BUDGET_BYTES < LAMBDA_LIMIT_BYTES, f"{properties['CodeUri']}: {size}"


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_every_compiled_extension_is_for_its_architecture(
    builds: dict[str, Path], architecture: str
) -> None:
    found = shared_objects(builds[architecture])
    assert found, "pydantic-core at least is compiled"
    wrong = [str(path) for path in found if elf_machine(path) != ELF_MACHINES[architecture]]
    assert wrong == []


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> LambdaRuntime:
    """Python 3.11 isolated, with boto3 and its own dependencies only beside the code."""
    return provide_runtime(tmp_path_factory.mktemp("lambda-runtime"))


def _lambda_environment(properties: dict[str, Any]) -> dict[str, str]:
    """The function's plain variables (STEPLINE_APP...) and what Lambda sets itself."""
    variables = properties["Environment"]["Variables"]
    return {
        **{name: value for name, value in variables.items() if isinstance(value, str)},
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_LAMBDA_FUNCTION_NAME": "stepline-check",
    }


def test_every_built_handler_imports_with_its_app_in_the_lambda_runtime(
    builds: dict[str, Path], runtime: LambdaRuntime
) -> None:
    build_dir = builds["x86_64"]  # this machine's: the arm64 build's extensions cannot load here
    for logical, properties in _functions(build_dir).items():
        assert properties["Environment"]["Variables"]["STEPLINE_APP"] == ",".join(APP)
        checked = check_import(
            runtime, build_dir / properties["CodeUri"], properties["Handler"],
            _lambda_environment(properties),
        )  # fmt: skip
        assert checked.ok, f"{logical}: {checked.output}"


def test_the_import_check_fails_when_a_dependency_is_missing_from_the_bundle(
    builds: dict[str, Path], runtime: LambdaRuntime, tmp_path: Path
) -> None:
    properties = _functions(builds["x86_64"])["RunnerFunction"]
    copy = tmp_path / "RunnerFunction"
    shutil.copytree(builds["x86_64"] / properties["CodeUri"], copy)
    shutil.rmtree(copy / "pydantic")
    checked = check_import(runtime, copy, properties["Handler"], _lambda_environment(properties))
    assert not checked.ok
    assert "ModuleNotFoundError: No module named 'pydantic'" in checked.output


@pytest.fixture(scope="module")
def emulator(builds: dict[str, Path]) -> Iterator[Emulator]:
    """The x86_64 build deployed: every function runs its built code, isolated."""
    with Emulator.built(builds["x86_64"], sweep_interval=0.5) as running:
        yield running


@pytest.fixture(scope="module")
def api(emulator: Emulator) -> ApiClient:
    assert emulator.endpoints is not None
    return ApiClient(emulator.endpoints.api)


def _worker_commands() -> list[list[str]]:
    """The command lines of this process's children (the execution environments)."""
    commands = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == os.getpid():
            commands.append(command.decode().split("\0")[:-1])
    return commands


def test_every_deployed_function_runs_its_built_code_isolated(
    emulator: Emulator, api: ApiClient, builds: dict[str, Path]
) -> None:
    assert emulator.stack is not None
    for function in emulator.stack.functions.values():
        assert function.code_dir is not None
        assert Path(function.code_dir).parent == builds["x86_64"].resolve()
    api.workflows()
    workers = [c for c in _worker_commands() if c[-1].endswith("local_emulator/lambda_/worker.py")]
    assert workers and all(command[1:4] == ["-I", "-S", "-B"] for command in workers)
    assert not list(builds["x86_64"].rglob("__pycache__"))  # read-only code, as on Lambda


def test_the_built_api_serves_the_web_page_from_its_bundle(emulator: Emulator) -> None:
    assert emulator.endpoints is not None
    with urllib.request.urlopen(f"{emulator.endpoints.api}/") as page:
        html = page.read().decode()
    script = re.search(r'src="(ui/app\.js\?v=[0-9a-f]+)"', html)
    assert script is not None, html[:400]
    with urllib.request.urlopen(f"{emulator.endpoints.api}/{script.group(1)}") as asset:
        assert asset.headers["Content-Type"] == "text/javascript; charset=utf-8"


def _until(condition: Any, what: str, timeout: float = 60) -> Any:
    give_up = time.monotonic() + timeout
    while not (found := condition()):
        assert time.monotonic() < give_up, f"never {what}"
        time.sleep(0.01)
    return found


def _children(api: ApiClient, parent: str, status: str | None = None) -> list[dict[str, Any]]:
    shipments = api.executions("ship-parcel", status, 50)
    return [child for child in shipments if child["parent_execution_id"] == parent]


def test_a_fulfilment_waits_for_its_child_and_completes(api: ApiClient) -> None:
    started = api.invoke("fulfil-order", {**ORDER, "pickup_in_seconds": 1})
    execution = api.wait(started["execution_id"], timeout=60)
    assert execution["status"] == "completed", execution["error"]
    assert execution["output"] == {
        "order_id": "o-1", "reservation_id": "res-o-1-1", "tracking_id": "track-o-1",
        "notified": True,
    }  # fmt: skip
    [child] = _children(api, started["execution_id"])
    shipped = api.execution(child["execution_id"])
    steps = {step["key"]: step for step in shipped["steps"]}
    assert list(steps) == ["book-courier", "pickup-slot", "hand-over"]
    paused = datetime.fromisoformat(steps["pickup-slot"]["started_at"])
    resumed = datetime.fromisoformat(steps["hand-over"]["started_at"])
    assert resumed - paused >= timedelta(seconds=1)  # woken by the timer queue


def test_a_failing_child_fails_the_fulfilment_after_it_releases_the_items(api: ApiClient) -> None:
    started = api.invoke("fulfil-order", {**ORDER, "address": "PO Box 7"})
    execution = api.wait(started["execution_id"], timeout=60)
    assert execution["status"] == "failed"
    assert "no courier delivers to 'PO Box 7'" in execution["error"]["message"]
    assert [step["key"] for step in execution["steps"]][-1] == "release"


def test_cancelling_a_fulfilment_cancels_its_waiting_child(api: ApiClient) -> None:
    started = api.invoke("fulfil-order", {**ORDER, "pickup_in_seconds": 600})
    parent = started["execution_id"]

    [child] = _until(lambda: _children(api, parent, "suspended"), "reached the pickup wait")
    assert api.cancel(parent)["status"] == "cancelled"
    cancelled = api.wait(child["execution_id"], timeout=60)
    assert cancelled["status"] == "cancelled"
    assert "hand-over" not in {step["key"] for step in cancelled["steps"]}
