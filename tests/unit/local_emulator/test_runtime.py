"""The emulated Lambda runtime: boto3 alone beside the code, an isolated interpreter, the
worker's ``sys.path``, built code directories from a built template, the import check."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from local_emulator.lambda_ import worker
from local_emulator.lambda_.environments import Environment
from local_emulator.lambda_.runtime import LambdaRuntime, check_import, provide_runtime
from local_emulator.stack import FunctionConfig, TemplateError, code_dirs
from sdk.errors import SteplineError

BOTO3_AND_ITS_OWN = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six.py", "urllib3"}


def test_the_runtime_directory_holds_boto3_and_its_own_dependencies_only(tmp_path: Path) -> None:
    runtime = provide_runtime(tmp_path / "runtime")
    entries = {entry.name for entry in runtime.runtime_dir.iterdir()}
    assert {e for e in entries if not e.endswith((".dist-info", ".data"))} == BOTO3_AND_ITS_OWN
    assert all((runtime.runtime_dir / entry).is_symlink() for entry in entries)
    assert (runtime.runtime_dir / "boto3" / "__init__.py").is_file()
    provide_runtime(tmp_path / "runtime")  # again: the links are there already
    assert {entry.name for entry in runtime.runtime_dir.iterdir()} == entries


def test_the_runtime_runs_python_isolated_and_names_the_code_and_boto3() -> None:
    runtime = LambdaRuntime("/usr/bin/python3.11", Path("/rt"))
    assert runtime.command("w.py") == ["/usr/bin/python3.11", "-I", "-S", "-B", "w.py"]
    assert runtime.environment(Path("/task")) == {
        "LAMBDA_TASK_ROOT": "/task",
        "LAMBDA_RUNTIME_DIR": "/rt",
    }


def test_a_built_worker_puts_the_code_then_boto3_first_and_drops_its_own_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    here = os.path.dirname(os.path.abspath(worker.__file__))
    monkeypatch.setattr(sys, "path", [here, "/stdlib"])
    monkeypatch.setenv("LAMBDA_TASK_ROOT", "/task")
    monkeypatch.setenv("LAMBDA_RUNTIME_DIR", "/rt")
    worker._set_path()
    assert sys.path == ["/task", "/rt", "/stdlib"]


def test_a_dev_worker_puts_the_working_directory_first(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(sys, "path", ["/stdlib"])
    monkeypatch.delenv("LAMBDA_TASK_ROOT", raising=False)
    monkeypatch.chdir(tmp_path)
    worker._set_path()
    assert sys.path == [os.getcwd(), "/stdlib"]


def _built_template(*uris: Any) -> str:
    resources = {
        f"F{i}": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": uri}}
        for i, uri in enumerate(uris)
    }
    resources["Bare"] = {"Type": "AWS::Serverless::Function", "Properties": {}}
    resources["Table"] = {"Type": "AWS::DynamoDB::Table", "Properties": {}}
    return yaml.safe_dump({"Globals": {"Function": {"CodeUri": "Shared"}}, "Resources": resources})


def test_each_function_of_a_built_template_gets_its_code_directory(tmp_path: Path) -> None:
    for name in ("F0", "F1", "Shared"):
        (tmp_path / name).mkdir()
    found = code_dirs(_built_template("F0", "F1"), tmp_path)
    assert found == {
        "F0": str(tmp_path / "F0"),
        "F1": str(tmp_path / "F1"),
        "Bare": str(tmp_path / "Shared"),
    }


def test_a_code_uri_that_is_not_a_built_directory_is_refused(tmp_path: Path) -> None:
    (tmp_path / "Shared").mkdir()
    with pytest.raises(TemplateError, match="F0: CodeUri 'missing' is not a directory under"):
        code_dirs(_built_template("missing"), tmp_path)
    with pytest.raises(TemplateError, match="F0: CodeUri {'Bucket': 'b'} is not a directory"):
        code_dirs(_built_template({"Bucket": "b"}), tmp_path)


def test_built_code_without_a_runtime_to_run_it_is_refused() -> None:
    function = FunctionConfig("fn", "handlers.api.handler", {}, 3, 128, code_dir="/built/Fn")
    with pytest.raises(SteplineError, match="fn has built code but no runtime to run it"):
        Environment(function, {})


def _code(tmp_path: Path, imported: str) -> Path:
    """A function's code: one handler module importing ``imported``."""
    code = tmp_path / "code"
    code.mkdir()
    source = f"import {imported}\n\n\ndef handler(event, context):\n    return None\n"
    (code / "app_handler.py").write_text(source)
    return code


@pytest.mark.slow
def test_the_import_check_passes_a_handler_whose_imports_are_in_the_bundle_or_the_runtime(
    tmp_path: Path,
) -> None:
    runtime = provide_runtime(tmp_path / "runtime")
    checked = check_import(runtime, _code(tmp_path, "botocore"), "app_handler.handler", {})
    assert checked.ok, checked.output


@pytest.mark.slow
def test_the_import_check_fails_on_what_only_this_environment_has(tmp_path: Path) -> None:
    runtime = provide_runtime(tmp_path / "runtime")
    checked = check_import(runtime, _code(tmp_path, "yaml"), "app_handler.handler", {})
    assert not checked.ok
    assert "ModuleNotFoundError: No module named 'yaml'" in checked.output
