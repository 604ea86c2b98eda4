"""The Lambda bundle: its pinned requirements (committed fresh) and its directory of links."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from infra.bundle import (
    BUNDLE_DIR,
    BundleError,
    bundle_links,
    closure,
    requirements_text,
    write_bundle,
)
from local_emulator.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_requirements_are_the_ones_synth_writes() -> None:
    committed = (ROOT / "requirements.txt").read_text()
    assert committed == requirements_text(), "requirements.txt is stale: run `stepline synth`"


def test_the_requirements_pin_what_the_lambda_code_imports_less_the_runtimes_own() -> None:
    pins = dict(
        line.split("==")
        for line in requirements_text().splitlines()
        if line and not line.startswith("#")
    )
    assert {"aws-lambda-powertools", "pydantic", "pydantic-core", "croniter"} <= set(pins)
    assert not {"boto3", "botocore", "s3transfer"} & set(pins)
    assert not {"click", "pyyaml", "rich", "moto"} & set(pins)  # CLI and tests only
    assert all(version.strip() for version in pins.values())


def _dist(site: Path, name: str, version: str, *requires: str) -> None:
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {requirement}" for requirement in requires]
    (info / "METADATA").write_text("\n".join(lines) + "\n")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory of fake installed distributions, first on sys.path."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    return site


def test_markers_are_evaluated_for_cpython_311_on_linux_of_either_architecture(
    site: Path,
) -> None:
    _dist(site, "zz-root", "1.0",
          "zz-windows; platform_system == 'Windows'",
          "zz-old-python; python_version < '3.10'",
          "zz-arm; platform_machine == 'aarch64'",
          "zz-cpython; platform_python_implementation == 'CPython'",
          "zz-extra[fast]>=2",
          "zz-unasked; extra == 'unasked'")  # fmt: skip
    _dist(site, "zz-arm", "1.1")
    _dist(site, "zz-cpython", "1.2")
    _dist(site, "zz-extra", "2.0", "zz-fast; extra == 'fast'", "zz-slow; extra == 'slow'")
    _dist(site, "zz-fast", "3.0")
    assert closure(["zz-root"]) == {
        "zz-root": "1.0",
        "zz-arm": "1.1",
        "zz-cpython": "1.2",
        "zz-extra": "2.0",
        "zz-fast": "3.0",
    }


def test_what_the_runtime_provides_is_neither_bundled_nor_followed(site: Path) -> None:
    _dist(site, "zz-root", "1.0", "boto3", "zz-shared")
    _dist(site, "zz-shared", "1.0")
    assert closure(["zz-root"]) == {"zz-root": "1.0", "zz-shared": "1.0"}


def test_a_dependency_not_installed_is_refused(site: Path) -> None:
    _dist(site, "zz-root", "1.0", "zz-missing>=1")
    with pytest.raises(BundleError, match="zz-missing>=1 is needed on Lambda but not installed"):
        closure(["zz-root"])


def test_an_installed_version_outside_the_requirement_is_refused(site: Path) -> None:
    _dist(site, "zz-root", "1.0", "zz-old>=2")
    _dist(site, "zz-old", "1.5")
    with pytest.raises(BundleError, match="zz-old>=2 is needed on Lambda but 1.5 is installed"):
        closure(["zz-root"])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    (project / "shop").mkdir(parents=True)
    (project / "shop" / "__init__.py").write_text("")
    (project / "billing.py").write_text("")
    return project


def _links(bundle: Path) -> dict[str, str]:
    return {entry.name: os.readlink(entry) for entry in bundle.iterdir()}


def test_the_bundle_links_the_app_relatively_and_the_installed_packages(project: Path) -> None:
    bundle = write_bundle(project, ["shop.orders", "shop", "billing"])
    assert bundle == project / BUNDLE_DIR
    links = _links(bundle)
    assert links == {
        "shop": "../../shop",
        "billing.py": "../../billing.py",
        "requirements.txt": "../../requirements.txt",
        "sdk": str(ROOT / "sdk"),
        "handlers": str(ROOT / "handlers"),
    }
    assert (bundle / "sdk" / "engine.py").is_file() and (bundle / "shop").is_dir()


def test_writing_the_bundle_again_replaces_stale_links_and_keeps_the_rest(project: Path) -> None:
    bundle = write_bundle(project, ["shop", "billing"])
    kept = (bundle / "sdk").lstat().st_ino
    (bundle / "billing.py").unlink()
    (bundle / "billing.py").symlink_to("../../elsewhere.py")
    (bundle / "old_app").symlink_to("../../old_app")
    write_bundle(project, ["shop", "billing"])
    assert _links(bundle) == bundle_links(project, ["shop", "billing"])
    assert (bundle / "sdk").lstat().st_ino == kept
    write_bundle(project, ["shop"])
    assert "billing.py" not in _links(bundle)


def test_a_file_in_the_bundle_directory_is_refused_and_left_alone(project: Path) -> None:
    bundle = write_bundle(project, ["shop"])
    (bundle / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match="notes.txt is not a link"):
        write_bundle(project, ["shop"])
    assert (bundle / "notes.txt").read_text() == "mine"


def test_an_app_module_named_like_a_bundled_package_is_refused(project: Path) -> None:
    with pytest.raises(BundleError, match="an app module cannot be named 'sdk'"):
        bundle_links(project, ["sdk.workflows"])


def test_synth_writes_the_template_the_requirements_and_the_bundle(tmp_path: Path) -> None:
    output = tmp_path / "template.yaml"
    result = CliRunner().invoke(main, ["synth", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert output.read_text().startswith("# Generated by `stepline synth`")
    assert (tmp_path / "requirements.txt").read_text() == requirements_text()
    bundle = tmp_path / BUNDLE_DIR
    assert _links(bundle) == bundle_links(tmp_path, ["examples"])
    assert (bundle / "requirements.txt").read_text() == requirements_text()
    assert (bundle / "examples" / "orders.py").is_file()


def test_synth_refuses_an_app_it_cannot_bundle(tmp_path: Path) -> None:
    output = tmp_path / "template.yaml"
    (tmp_path / BUNDLE_DIR / "stray").mkdir(parents=True)
    result = CliRunner().invoke(main, ["synth", "-o", str(output)])
    assert result.exit_code == 1
    assert "stray is not a link" in result.output
