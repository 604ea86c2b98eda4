"""Settings the Lambda handlers read from their environment, read once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class HandlerSettings:
    """``STEPLINE_APP`` (comma-separated modules) and ``STEPLINE_TABLE`` (the journal table)."""

    app_modules: tuple[str, ...]
    table_name: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> HandlerSettings:
        env = os.environ if environ is None else environ
        missing = [name for name in ("STEPLINE_APP", "STEPLINE_TABLE") if not env.get(name)]
        if missing:
            raise RuntimeError(f"missing environment variables: {', '.join(missing)}")
        modules = tuple(m.strip() for m in env["STEPLINE_APP"].split(",") if m.strip())
        return cls(app_modules=modules, table_name=env["STEPLINE_TABLE"])
