"""Template validation with cfn-lint (a dev dependency, imported only here)."""

from __future__ import annotations

from typing import Any


def lint(template_text: str, *, regions: tuple[str, ...] = ("us-east-1",)) -> list[str]:
    """cfn-lint's errors and warnings for a template, one line each; empty when clean."""
    from cfnlint.api import ManualArgs
    from cfnlint.api import lint as cfn_lint

    matches: list[Any] = cfn_lint(template_text, config=ManualArgs(regions=list(regions)))
    return [f"{m.rule.id} {m.message} ({m.path_string})" for m in matches]
