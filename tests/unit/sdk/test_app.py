"""Apps are assembled from modules; ids are unique."""

from __future__ import annotations

import pytest

from sdk import App, WorkflowContext, workflow
from sdk.errors import AppLoadError, WorkflowNotFoundError


async def body(ctx: WorkflowContext) -> None:
    return None


def test_an_app_collects_the_workflows_of_a_package() -> None:
    app = App.from_modules(["examples"])
    assert "process-order" in app


def test_two_workflows_with_one_id_are_refused() -> None:
    with pytest.raises(AppLoadError, match="two workflows share the id 'dup'"):
        App([workflow(id="dup")(body), workflow(id="dup")(body)])


def test_an_unknown_id_lists_the_known_ones() -> None:
    app = App([workflow(id="known")(body)])
    with pytest.raises(WorkflowNotFoundError, match=r"unknown workflow 'nope' \(known: known\)"):
        app.get("nope")


def test_a_missing_module_is_a_clear_error() -> None:
    with pytest.raises(AppLoadError, match="cannot import app module 'no_such_module'"):
        App.from_modules(["no_such_module"])
