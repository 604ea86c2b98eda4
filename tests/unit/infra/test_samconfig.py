"""``samconfig.toml``: what SAM reads, and whether stepline may rewrite a file it finds."""

from __future__ import annotations

import tomllib

import pytest

from infra.samconfig import SamSettings, is_untouched, may_write, override_token, render

SETTINGS = SamSettings("shop", "eu-west-1", (("MemorySize", "1024"), ("Stage", "prod blue")))


def test_samconfig_holds_what_stepline_deploy_passes_to_sam() -> None:
    config = tomllib.loads(render(SETTINGS))

    assert config["version"] == 0.1
    assert config["default"]["build"]["parameters"] == {"cached": False, "use_container": False}
    assert config["default"]["deploy"]["parameters"] == {
        "stack_name": "shop",
        "region": "eu-west-1",
        "capabilities": "CAPABILITY_IAM CAPABILITY_NAMED_IAM",
        "resolve_s3": True,
        "parameter_overrides": 'MemorySize=1024 Stage="prod blue"',
    }


def test_without_a_stack_name_samconfig_leaves_it_out() -> None:
    config = tomllib.loads(render(SamSettings()))

    assert "stack_name" not in config["default"]["deploy"]["parameters"]
    assert "parameter_overrides" not in config["default"]["deploy"]["parameters"]


def test_what_stepline_wrote_may_be_rewritten() -> None:
    assert is_untouched(render(SETTINGS))
    assert may_write(render(SETTINGS))
    assert may_write(None)


def test_an_edited_samconfig_is_never_rewritten_even_with_the_header() -> None:
    edited = render(SETTINGS).replace('stack_name = "shop"', 'stack_name = "shop-prod"')

    assert not may_write(edited)


def test_a_samconfig_without_the_header_is_never_rewritten() -> None:
    without_header = render(SETTINGS).split("\n", 2)[2]

    assert not may_write(without_header)
    assert not may_write('version = 0.1\n[default.deploy.parameters]\nstack_name = "x"\n')


@pytest.mark.parametrize(
    ("value", "token"),
    [
        ("1024", "MemorySize=1024"),
        ("", 'MemorySize=""'),
        ("a b", 'MemorySize="a b"'),
        ('say "hi"', 'MemorySize="say \\"hi\\""'),
    ],
)
def test_parameter_override_tokens_are_quoted_when_sam_needs_it(value: str, token: str) -> None:
    assert override_token("MemorySize", value) == token


def test_a_parameter_name_must_be_alphanumeric() -> None:
    with pytest.raises(ValueError, match="'Memory-Size' is not a template parameter name"):
        override_token("Memory-Size", "1")
