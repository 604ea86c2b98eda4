"""The helpers of the deploy test: ELF machines, compiled files, sizes, the wheelhouse stamp."""

from __future__ import annotations

import platform
import struct
import sys
from pathlib import Path

import pytest

from tests.lambda_builds import (
    ELF_MACHINES,
    STAMP,
    elf_machine,
    fill_wheelhouse,
    sam_environment,
    shared_objects,
    size_bytes,
)


def _elf(path: Path, machine: int, *, little: bool = True) -> Path:
    order = "<" if little else ">"
    ident = b"\x7fELF" + bytes([2, 1 if little else 2, 1]) + bytes(9)
    path.write_bytes(ident + struct.pack(order + "HH", 3, machine) + bytes(44))
    return path


def test_the_elf_machine_is_read_from_the_header_in_either_byte_order(tmp_path: Path) -> None:
    assert elf_machine(_elf(tmp_path / "a.so", 183)) == ELF_MACHINES["arm64"]
    assert elf_machine(_elf(tmp_path / "b.so", 62, little=False)) == ELF_MACHINES["x86_64"]


def test_this_interpreter_is_an_elf_for_this_machine() -> None:
    expected = {"x86_64": ELF_MACHINES["x86_64"], "aarch64": ELF_MACHINES["arm64"]}
    assert elf_machine(Path(sys.executable).resolve()) == expected[platform.machine()]


def test_a_file_that_is_not_elf_is_reported(tmp_path: Path) -> None:
    (tmp_path / "fake.so").write_text("not a library, not even twenty bytes long")
    with pytest.raises(AssertionError, match="fake.so is not an ELF file"):
        elf_machine(tmp_path / "fake.so")


def test_compiled_files_and_sizes_are_found_at_any_depth(tmp_path: Path) -> None:
    (tmp_path / "pkg" / ".libs").mkdir(parents=True)
    (tmp_path / "pkg" / "_core.cpython-311-x86_64-linux-gnu.so").write_bytes(b"x" * 10)
    (tmp_path / "pkg" / ".libs" / "libz.so.1.2").write_bytes(b"x" * 5)
    (tmp_path / "pkg" / "sonnet.py").write_bytes(b"x" * 3)
    assert [p.name for p in shared_objects(tmp_path)] == [
        "libz.so.1.2",
        "_core.cpython-311-x86_64-linux-gnu.so",
    ]
    assert size_bytes(tmp_path) == 18


def test_a_wheelhouse_filled_for_the_same_requirements_is_kept(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.17.0\n")
    wheelhouse = tmp_path / "wheelhouse"
    wheelhouse.mkdir()
    (wheelhouse / STAMP).write_text("six==1.17.0\n")
    (wheelhouse / "six-1.17.0-py2.py3-none-any.whl").write_text("kept")
    assert fill_wheelhouse(requirements, wheelhouse) == wheelhouse  # no download
    assert (wheelhouse / "six-1.17.0-py2.py3-none-any.whl").read_text() == "kept"


def test_sam_runs_offline_on_the_wheelhouse_without_telemetry(tmp_path: Path) -> None:
    env = sam_environment(tmp_path / "wheels", tmp_path / "settings")
    assert env["PIP_NO_INDEX"] == "1" and env["PIP_FIND_LINKS"] == str(tmp_path / "wheels")
    assert env["SAM_CLI_TELEMETRY"] == "0"
    assert env["PATH"].split(":")[0] == str(Path(sys.executable).parent)
    assert '"lastVersionCheck"' in (tmp_path / "settings" / "metadata.json").read_text()
