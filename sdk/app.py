"""An app: the set of workflows found in named modules.

There is no global registry. ``App.from_modules(["examples"])`` imports the
modules (and a package's submodules) and collects the ``Workflow`` objects
they define; tests build apps from plain lists.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable, Iterator, Sequence
from types import ModuleType
from typing import Any

from sdk.errors import AppLoadError, WorkflowNotFoundError
from sdk.workflow import Workflow


class App:
    """Workflows by id; ids are unique."""

    def __init__(self, workflows: Iterable[Workflow[Any]]) -> None:
        self._workflows: dict[str, Workflow[Any]] = {}
        for wf in workflows:
            other = self._workflows.get(wf.id)
            if other is not None and other is not wf:
                raise AppLoadError(f"two workflows share the id {wf.id!r}: {other!r} and {wf!r}")
            self._workflows[wf.id] = wf

    @classmethod
    def from_modules(cls, names: Sequence[str]) -> App:
        """Import ``names`` (packages include their submodules) and collect their workflows."""
        found: list[Workflow[Any]] = []
        for name in names:
            for module in _walk(name):
                found += [v for v in vars(module).values() if isinstance(v, Workflow)]
        return cls(found)

    def get(self, workflow_id: str) -> Workflow[Any]:
        try:
            return self._workflows[workflow_id]
        except KeyError:
            known = ", ".join(sorted(self._workflows)) or "none"
            raise WorkflowNotFoundError(
                f"unknown workflow {workflow_id!r} (known: {known})"
            ) from None

    def __contains__(self, workflow_id: object) -> bool:
        return workflow_id in self._workflows

    def __iter__(self) -> Iterator[Workflow[Any]]:
        return iter(sorted(self._workflows.values(), key=lambda wf: wf.id))

    def __len__(self) -> int:
        return len(self._workflows)


def _walk(name: str) -> Iterator[ModuleType]:
    try:
        module = importlib.import_module(name)
    except ImportError as exc:
        raise AppLoadError(f"cannot import app module {name!r}: {exc}") from exc
    yield module
    path = getattr(module, "__path__", None)
    if path is not None:
        for info in pkgutil.walk_packages(path, prefix=f"{name}."):
            yield importlib.import_module(info.name)
