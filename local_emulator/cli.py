"""The ``stepline`` command: a thin click layer over functions of the packages."""

from __future__ import annotations

import click

from sdk.errors import SteplineError


@click.group()
@click.version_option(package_name="stepline")
def main() -> None:
    """Stepline: durable Python workflows on AWS serverless."""


@main.command()
@click.option("--app", "app_modules", default="examples", show_default=True,
              help="Comma-separated modules whose workflows make the app.")  # fmt: skip
def demo(app_modules: str) -> None:
    """Run the app's workflows on DynamoDB in moto and print their step timelines."""
    from local_emulator.demo import run_demo

    try:
        failed = run_demo([m.strip() for m in app_modules.split(",") if m.strip()], click.echo)
    except SteplineError as exc:
        raise click.ClickException(str(exc)) from exc
    if failed:
        raise click.ClickException(f"{failed} workflow(s) did not complete")
