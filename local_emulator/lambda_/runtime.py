"""The Lambda Python runtime, emulated: an isolated interpreter and the boto3 it provides.

On Lambda a function's code (``/var/task``) runs on the runtime's Python 3.11 with the
runtime's boto3 beside it, and nothing else. Here:

- ``provide_runtime(dest)`` fills ``dest`` with links to boto3 and its own dependencies as
  installed in this environment (from their distributions' files; no download);
- ``LambdaRuntime.command`` runs Python as ``python3.11 -I -S -B``: no site-packages, no
  ``PYTHON*`` variables, not even the script's own directory on ``sys.path``, no bytecode
  written into the code (read-only on Lambda);
- a script run that way puts the code directory and the runtime directory first on
  ``sys.path``, from ``LAMBDA_TASK_ROOT`` and ``LAMBDA_RUNTIME_DIR`` as Lambda names them
  (``local_emulator/lambda_/worker.py`` does, and so does ``check_import``).

``check_import`` imports a built function's handler and the app it runs that way: what is
missing from the bundle fails there instead of at the first invocation on AWS.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from infra.bundle import closure
from sdk.errors import SteplineError

LAMBDA_PYTHON_VERSION = (3, 11)
RUNTIME_DISTRIBUTIONS = ("boto3",)
IMPORT_CHECK_TIMEOUT_SECONDS = 120.0

# Run as ``python -I -S -c``: the function's code, then the runtime's boto3, then the
# standard library; the handler, then the app's modules (the handlers load them lazily).
_IMPORT_CHECK = """
import importlib, os, sys
sys.path[:0] = [os.environ["LAMBDA_TASK_ROOT"], os.environ["LAMBDA_RUNTIME_DIR"]]
module, _, name = os.environ["_HANDLER"].rpartition(".")
getattr(importlib.import_module(module), name)
if os.environ.get("STEPLINE_APP"):
    from sdk.app import App
    App.from_modules(os.environ["STEPLINE_APP"].split(","))
"""


class RuntimeNotFoundError(SteplineError):
    """No Python of the Lambda runtime's version on this machine."""


@dataclass(frozen=True)
class LambdaRuntime:
    """An interpreter of the runtime's version and a directory of what the runtime provides."""

    python: str
    runtime_dir: Path

    def command(self, *args: str) -> list[str]:
        """Run Python isolated: site-packages and ``PYTHON*`` variables do not reach it, and
        it writes no bytecode (the code is read-only on Lambda)."""
        return [self.python, "-I", "-S", "-B", *args]

    def environment(self, code_dir: Path) -> dict[str, str]:
        """The variables telling an isolated script where the function's code and boto3 are."""
        return {"LAMBDA_TASK_ROOT": str(code_dir), "LAMBDA_RUNTIME_DIR": str(self.runtime_dir)}


def lambda_python() -> str:
    """This interpreter if it is Python 3.11, else ``python3.11`` on the ``PATH``."""
    if sys.version_info[:2] == LAMBDA_PYTHON_VERSION:
        return sys.executable
    found = shutil.which("python{}.{}".format(*LAMBDA_PYTHON_VERSION))
    if found is None:
        raise RuntimeNotFoundError("the Lambda runtime is Python 3.11: install python3.11")
    return found


def _top_level_entries(dist: metadata.Distribution) -> set[Path]:
    """What a distribution installed at the top of its site-packages directory."""
    entries = set()
    for file in dist.files or []:
        top = file.parts[0]
        if top not in ("..", "__pycache__") and not Path(file).is_absolute():
            entries.add(Path(str(dist.locate_file(top))))
    return entries


def provide_runtime(dest: Path, python: str | None = None) -> LambdaRuntime:
    """Fill ``dest`` with links to boto3 and its own dependencies only, as installed here."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in closure(RUNTIME_DISTRIBUTIONS, provided=frozenset()):
        for entry in _top_level_entries(metadata.distribution(name)):
            link = dest / entry.name
            if not link.is_symlink():
                link.symlink_to(entry)
    return LambdaRuntime(python or lambda_python(), dest)


@dataclass(frozen=True)
class ImportCheck:
    """Whether a handler (and its app) imported in the emulated runtime, and what it printed."""

    handler: str
    ok: bool
    output: str


def check_import(
    runtime: LambdaRuntime, code_dir: Path, handler: str, environment: Mapping[str, str]
) -> ImportCheck:
    """Import ``handler`` from ``code_dir`` as Lambda would, then the app of ``STEPLINE_APP``.

    ``environment`` is the function's (the only variables the check sees beside the
    runtime's own).
    """
    done = subprocess.run(
        runtime.command("-c", _IMPORT_CHECK),
        env={**environment, **runtime.environment(code_dir), "_HANDLER": handler},
        cwd=code_dir,
        capture_output=True,
        text=True,
        timeout=IMPORT_CHECK_TIMEOUT_SECONDS,
        check=False,
    )
    return ImportCheck(handler, done.returncode == 0, done.stdout + done.stderr)
