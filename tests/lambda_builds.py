"""Building the Lambda bundle with the SAM CLI, offline, for the deploy test and for CI.

``sam build`` runs pip (``pip download -r requirements.txt``, then per-platform wheels);
here pip may only read a local wheelhouse (``PIP_NO_INDEX``, ``PIP_FIND_LINKS``) holding
the pinned requirements for both Lambda architectures. ``.ci/run`` fills it before the
tests (``python -m tests.lambda_builds wheelhouse``); the test fills it when it is missing.

The SAM CLI lives in a virtual environment of its own (``.venv-sam``): it pins boto3 and
click exactly, which must not decide the versions the project is tested with.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = ROOT / ".stepline" / "wheelhouse"
SAM_VENV = ROOT / ".venv-sam"
STAMP = "requirements.txt"  # the requirements a wheelhouse was filled for, written last
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}
ELF_MACHINES = {"x86_64": 62, "arm64": 183}  # e_machine: EM_X86_64, EM_AARCH64
SAM_TIMEOUT_SECONDS = 600


def sam_executable() -> str:
    """``$STEPLINE_SAM``, else the SAM CLI of ``.venv-sam`` (what ``.ci/run`` installs), else
    what ``stepline deploy`` would run."""
    from local_emulator.deploy import SamNotFoundError
    from local_emulator.deploy import sam_executable as deploy_sam

    for candidate in (os.environ.get("STEPLINE_SAM"), str(SAM_VENV / "bin" / "sam")):
        if candidate and Path(candidate).is_file():
            return candidate
    try:
        return deploy_sam()
    except SamNotFoundError as exc:
        raise FileNotFoundError(f"{exc} (.ci/run installs it)") from None


def fill_wheelhouse(requirements: Path, wheelhouse: Path = WHEELHOUSE) -> Path:
    """Wheels of every pinned requirement for both Lambda architectures (CPython 3.11).

    Kept while its stamp matches ``requirements``; otherwise emptied and downloaded again
    (the only step here that uses the network).
    """
    wanted = requirements.read_text()
    stamp = wheelhouse / STAMP
    if stamp.is_file() and stamp.read_text() == wanted:
        return wheelhouse
    shutil.rmtree(wheelhouse, ignore_errors=True)
    wheelhouse.mkdir(parents=True)
    for platform in PLATFORMS.values():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--only-binary=:all:", "--platform", platform,
             "--implementation", "cp", "--python-version", "3.11",
             "--dest", str(wheelhouse), "-r", str(requirements)],
            check=True,
        )  # fmt: skip
    stamp.write_text(wanted)
    return wheelhouse


def sam_environment(wheelhouse: Path, config_dir: Path) -> dict[str, str]:
    """No telemetry, no version check, pip offline on the wheelhouse, this Python first.

    SAM's pip builder runs the ``python3.11`` it finds on the PATH; this environment's has
    pip. ``__SAM_CLI_APP_DIR`` holds SAM's settings, with a version check just done.
    """
    config_dir.mkdir(parents=True, exist_ok=True)
    settings = {"telemetryEnabled": False, "lastVersionCheck": time.time()}
    (config_dir / "metadata.json").write_text(json.dumps(settings))
    return {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        "SAM_CLI_TELEMETRY": "0",
        "__SAM_CLI_APP_DIR": str(config_dir),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def start_sam(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``sam ARGS`` in ``cwd``, its output (stdout and stderr) captured together."""
    return subprocess.Popen(
        [sam_executable(), *args], cwd=cwd, env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def finish(process: subprocess.Popen[str]) -> str:
    """The output of a finished ``sam``; an ``AssertionError`` with it if sam failed."""
    output, _ = process.communicate(timeout=SAM_TIMEOUT_SECONDS)
    assert process.returncode == 0, f"{' '.join(map(str, process.args))} failed:\n{output}"
    return output


def files(directory: Path) -> Iterator[Path]:
    for parent, _, names in os.walk(directory):
        for name in names:
            yield Path(parent) / name


def size_bytes(directory: Path) -> int:
    """What a directory unzips to on Lambda: the sum of its files' sizes."""
    return sum(path.lstat().st_size for path in files(directory))


def shared_objects(directory: Path) -> list[Path]:
    """The compiled extensions and libraries under ``directory`` (``*.so``, ``*.so.N``)."""
    return sorted(p for p in files(directory) if p.name.endswith(".so") or ".so." in p.name)


def elf_machine(path: Path) -> int:
    """The ``e_machine`` of an ELF file's header (what CPU it is for)."""
    with path.open("rb") as file:
        header = file.read(20)
    assert header[:4] == b"\x7fELF", f"{path} is not an ELF file"
    order = "<" if header[5] == 1 else ">"  # EI_DATA: 1 little-endian, 2 big-endian
    machine: int = struct.unpack(order + "H", header[18:20])[0]
    return machine


if __name__ == "__main__":
    if sys.argv[1:] != ["wheelhouse"]:
        raise SystemExit("usage: python -m tests.lambda_builds wheelhouse")
    print(f"wheelhouse: {fill_wheelhouse(ROOT / 'requirements.txt')}")
