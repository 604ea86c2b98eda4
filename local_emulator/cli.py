"""The ``stepline`` command: a thin click layer over functions of the packages.

Exit codes: 0 success; 1 the workflow failed, the API refused the request or a deployment
failed; 2 bad usage, including a stack, stack output, region, credentials or ``sam`` that
cannot be found; 3 the API cannot be reached; 4 a wait timed out.

The API commands talk to ``--endpoint`` (the emulator on loopback by default) or, with the
group option ``--stack NAME``, to the ``ApiUrl`` output of that deployed stack. Requests to a
host other than loopback are signed with SigV4 (``local_emulator.remote``); ``--sign`` and
``--no-sign`` override that rule.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from click.core import ParameterSource

from sdk.errors import ResultTimeoutError, SteplineError

if TYPE_CHECKING:
    from local_emulator.remote import Target

EXIT_FAILED, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_TIMEOUT = 1, 2, 3, 4
# ``stepline deploy`` hands its template parameters to the ``synth`` it runs through here.
PARAMETERS_META = "stepline.parameters"
TAIL_WAIT = 10.0  # seconds one long poll of ``stepline tail`` may wait for events


class CliError(click.ClickException):
    """The workflow failed or the API refused the request."""

    exit_code = EXIT_FAILED


class SetupError(CliError):
    """The stack, its output, a region, credentials or ``sam`` cannot be found."""

    exit_code = EXIT_USAGE


class UnreachableError(CliError):
    exit_code = EXIT_UNREACHABLE


class WaitTimeoutError(CliError):
    exit_code = EXIT_TIMEOUT


@contextmanager
def errors_as_exits() -> Iterator[None]:
    """Domain errors become one-line messages with their exit code."""
    from local_emulator.api_client import EndpointSetupError, EndpointUnreachableError
    from local_emulator.deploy import SamNotFoundError

    try:
        yield
    except (EndpointSetupError, SamNotFoundError) as exc:
        raise SetupError(str(exc)) from exc
    except EndpointUnreachableError as exc:
        raise UnreachableError(str(exc)) from exc
    except ResultTimeoutError as exc:
        raise WaitTimeoutError(str(exc)) from exc
    except SteplineError as exc:
        raise CliError(str(exc)) from exc


def _modules(app: str) -> list[str]:
    return [m.strip() for m in app.split(",") if m.strip()]


endpoint_option = click.option(
    "--endpoint",
    envvar="STEPLINE_ENDPOINT",
    default="http://127.0.0.1:8765",
    show_default=True,
    help="The HTTP API of a running emulator or stack (env STEPLINE_ENDPOINT).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _target() -> Target:
    """The group's ``--stack``, ``--region`` and ``--sign``."""
    from local_emulator.remote import Target

    return click.get_current_context().find_object(Target) or Target()


def _api(endpoint: str) -> Any:
    """The API client for a command's ``--endpoint`` and the group's ``--stack``/``--sign``."""
    from local_emulator.remote import connect

    target = _target()
    source = click.get_current_context().get_parameter_source("endpoint")
    if target.stack is not None and source is not ParameterSource.DEFAULT:
        raise click.UsageError(
            f"--stack {target.stack} and --endpoint name two APIs (or STEPLINE_STACK and "
            "STEPLINE_ENDPOINT are both set): give one"
        )
    return connect(endpoint, target)


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2))


@click.group()
@click.version_option(package_name="stepline")
@click.option("--stack", envvar="STEPLINE_STACK", default=None,
              help="A deployed stack: API commands use its ApiUrl output, deploy and synth "
              "its name (env STEPLINE_STACK).")  # fmt: skip
@click.option("--region", default=None,
              help="AWS region of the stack [from AWS_REGION or the profile].")  # fmt: skip
@click.option("--sign/--no-sign", default=None,
              help="Sign API requests with SigV4 [default: off loopback].")  # fmt: skip
@click.pass_context
def main(ctx: click.Context, stack: str | None, region: str | None, sign: bool | None) -> None:
    """Stepline: durable Python workflows on AWS serverless."""
    from local_emulator.remote import Target

    ctx.obj = Target(stack=stack, region=region, sign=sign)


@main.command()
@click.option("--app", "app_modules", default="examples", show_default=True,
              help="Comma-separated modules whose workflows make the app.")  # fmt: skip
def demo(app_modules: str) -> None:
    """Run the app's workflows on DynamoDB in moto and print their step timelines."""
    from local_emulator.demo import run_demo

    with errors_as_exits():
        failed = run_demo(_modules(app_modules), click.echo)
    if failed:
        raise CliError(f"{failed} workflow(s) did not complete")


def _writes_samconfig(command: Callable[..., None]) -> Callable[..., None]:
    """After ``command`` wrote its template, write ``samconfig.toml`` beside it (if ours)."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        command(*args, **kwargs)
        from infra.samconfig import SamSettings
        from local_emulator.deploy import write_samconfig

        target = _target()
        parameters = click.get_current_context().meta.get(PARAMETERS_META, ())
        settings = SamSettings(target.stack, target.region, parameters)
        click.echo(write_samconfig(Path(kwargs["output"]).parent, settings))

    return wrapper


@main.command()
@click.option("--app", "app_modules", default="examples", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("template.yaml"), show_default=True)  # fmt: skip
@_writes_samconfig
def synth(app_modules: str, output: Path) -> None:
    """Write the SAM template of the app, the bundle's requirements.txt beside it, and the bundle.

    The bundle (``.stepline/bundle`` beside the template, the functions' code) is links to
    the app's modules, ``sdk``, ``handlers`` and ``requirements.txt``.
    """
    from infra.bundle import REQUIREMENTS_FILE, requirements_text, write_bundle
    from infra.template import synth as build

    modules = _modules(app_modules)
    requirements = output.parent / REQUIREMENTS_FILE
    with errors_as_exits():
        output.write_text(build(modules))
        requirements.write_text(requirements_text())
        bundle = write_bundle(output.parent, modules)
    click.echo(f"wrote {output}, {requirements} and {bundle}")


@main.command()
@click.option("--app", "app_modules", default=None,
              help="Modules of the app; default: template.yaml here, else 'examples'.")  # fmt: skip
@click.option("--port", default=8765, show_default=True, help="Port of the HTTP API (0: any).")
@click.option("--aws-port", default=None, type=int, help="Port of the AWS endpoint [port+1].")
@click.option("--host", default="127.0.0.1", show_default=True)
def dev(app_modules: str | None, port: int, aws_port: int | None, host: str) -> None:
    """Start the emulator: moto, the stack, its functions and the HTTP API."""
    from local_emulator.emulator import Emulator

    with errors_as_exits():
        template = _template_for(app_modules)
        if aws_port is None:
            aws_port = port + 1 if port else 0  # --port 0: any free ports
        emulator = Emulator(template, host=host, api_port=port, aws_port=aws_port)
        endpoints = emulator.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    assert emulator.stack is not None
    click.echo(f"Stepline emulator ready in {emulator.ready_seconds:.1f} s")
    click.echo(f"  HTTP API       {endpoints.api}   (export STEPLINE_ENDPOINT={endpoints.api})")
    click.echo(f"  web page       {endpoints.api}/   (executions, live step timelines)")
    click.echo(f"  AWS endpoint   {endpoints.aws}   (boto3 endpoint_url=, aws --endpoint-url; "
               "any credentials, region us-east-1)")  # fmt: skip
    click.echo(f"  journal table  {emulator.stack.table_name}")
    click.echo(f"  functions      {', '.join(sorted(emulator.stack.functions))}")
    click.echo("Press Ctrl-C to stop.")
    try:
        stop.wait()
    finally:
        emulator.stop()
        click.echo("stopped")


@main.command()
@click.option("--app", "app_modules", default="examples", show_default=True,
              help="Comma-separated modules whose workflows make the app.")  # fmt: skip
@click.option("--template", "-t", "template", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("template.yaml"), show_default=True,
              help="Where synth writes the template; SAM runs in its directory.")  # fmt: skip
@click.option("--parameter", "given", multiple=True, metavar="KEY=VALUE",
              help="A template parameter (repeatable).")  # fmt: skip
@click.option("--memory", type=click.IntRange(128, 10240), help="MB of memory of each function.")
@click.option("--architecture", type=click.Choice(["x86_64", "arm64"]))
@click.option("--retention-days", type=click.IntRange(min=1),
              help="Days a finished execution stays in the journal.")  # fmt: skip
@click.option("--log-retention-days", type=click.IntRange(min=1),
              help="Days the functions' logs are kept (a CloudWatch Logs retention).")  # fmt: skip
@click.option("--log-level", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
              case_sensitive=False))  # fmt: skip
@click.option("--use-container", is_flag=True, help="Build in SAM's Lambda-like container.")
@click.pass_context
def deploy(ctx: click.Context, /, app_modules: str, template: Path, given: tuple[str, ...],
           use_container: bool, **named: Any) -> None:  # fmt: skip
    """Synthesize the app, then `sam build` and `sam deploy` it to the --stack named."""
    # ``named``: the options that set one template parameter each (deploy.NAMED_PARAMETERS).
    from infra.samconfig import SamSettings
    from local_emulator.deploy import Deployment, parameters, run

    target = _target()
    if target.stack is None:
        raise click.UsageError("deploy needs a stack name: stepline --stack NAME deploy "
                               "(or STEPLINE_STACK=NAME)")  # fmt: skip
    try:
        ctx.meta[PARAMETERS_META] = parameters(given, named)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--parameter") from exc
    ctx.invoke(synth, app_modules=app_modules, output=template)
    settings = SamSettings(target.stack, target.region, ctx.meta[PARAMETERS_META])
    with errors_as_exits():
        run(Deployment(template, settings, use_container=use_container))
    click.echo(f"deployed stack {target.stack}; its workflows: stepline --stack {target.stack} "
               "workflows")  # fmt: skip


def _template_for(app_modules: str | None) -> str:
    from infra.template import synth as build

    if app_modules is None and Path("template.yaml").is_file():
        return Path("template.yaml").read_text()
    return build(_modules(app_modules or "examples"))


@main.command()
@endpoint_option
@json_option
def workflows(endpoint: str, as_json: bool) -> None:
    """List the app's workflows."""
    with errors_as_exits():
        found = _api(endpoint).workflows()
    if as_json:
        return _print_json(found)
    from local_emulator.tables import workflows_table

    workflows_table(found)


@main.command()
@click.argument("workflow_id")
@click.option("--payload", default="null", help="The input, as JSON.")
@click.option("--wait", is_flag=True, help="Wait for the result.")
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait.")
@endpoint_option
@json_option
def invoke(
    workflow_id: str, payload: str, wait: bool, timeout: float, endpoint: str, as_json: bool
) -> None:
    """Start WORKFLOW_ID with --payload; --wait prints its result."""
    try:
        value = json.loads(payload)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--payload") from exc
    with errors_as_exits():
        api = _api(endpoint)
        started = api.invoke(workflow_id, value)
        if not wait:
            return _print_json(started) if as_json else click.echo(started["execution_id"])
        execution = api.wait(started["execution_id"], timeout)
    if as_json:
        _print_json(execution)
    else:
        click.echo(f"{execution['execution_id']} {execution['status']}")
        click.echo(json.dumps(execution["output"] if execution["error"] is None
                              else execution["error"], indent=2))  # fmt: skip
    if execution["status"] != "completed":
        raise SystemExit(EXIT_FAILED)


@main.command()
@click.argument("topic")
@click.option("--data", required=True, help="The event's data: a JSON object.")
@click.option("--event-type", default=None, help="The event's type (triggers may filter on it).")
@click.option("--id", "event_id", default=None, help="The event's id (a repeat is a duplicate).")
@endpoint_option
@json_option
def publish(
    topic: str, data: str, event_type: str | None, event_id: str | None, endpoint: str,
    as_json: bool,
) -> None:  # fmt: skip
    """Publish an event to TOPIC: it starts the workflows triggered by TOPIC."""
    try:
        value = json.loads(data)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--data") from exc
    with errors_as_exits():
        published = _api(endpoint).publish(topic, value, event_type, event_id)
    if as_json:
        return _print_json(published)
    duplicate = " (duplicate: already published)" if published["duplicate"] else ""
    click.echo(f"{published['topic']} #{published['sequence_id']} {published['id']}{duplicate}")


@main.command()
@endpoint_option
@json_option
def topics(endpoint: str, as_json: bool) -> None:
    """List topics: last sequence id and subscribed workflows."""
    with errors_as_exits():
        found = _api(endpoint).topics()
    if as_json:
        return _print_json(found)
    from local_emulator.tables import topics_table

    topics_table(found)


@main.command()
@click.option("--workflow", "workflow_id", default=None)
@click.option("--status", default=None)
@click.option("--limit", default=50, show_default=True)
@endpoint_option
@json_option
def runs(
    workflow_id: str | None, status: str | None, limit: int, endpoint: str, as_json: bool
) -> None:
    """List executions, newest first."""
    with errors_as_exits():
        found = _api(endpoint).executions(workflow_id, status, limit)
    if as_json:
        return _print_json(found)
    from local_emulator.tables import runs_table

    runs_table(found)


@main.command()
@click.argument("execution_id")
@endpoint_option
@json_option
def cancel(execution_id: str, endpoint: str, as_json: bool) -> None:
    """Cancel EXECUTION_ID and its children."""
    with errors_as_exits():
        execution = _api(endpoint).cancel(execution_id)
    if as_json:
        return _print_json(execution)
    click.echo(f"{execution['execution_id']} {execution['status']}")


@main.command()
@click.argument("execution_id")
@endpoint_option
@json_option
def resume(execution_id: str, endpoint: str, as_json: bool) -> None:
    """Run the parked EXECUTION_ID again, once the code that parked it is fixed."""
    with errors_as_exits():
        execution = _api(endpoint).resume(execution_id)
    if as_json:
        return _print_json(execution)
    click.echo(f"{execution['execution_id']} {execution['status']}")


@main.command()
@click.argument("execution_id")
@click.option("--after", type=click.IntRange(min=0), default=None,
              help="Start after this sequence id (resume where a reader stopped).")  # fmt: skip
@endpoint_option
@json_option
def tail(execution_id: str, after: int | None, endpoint: str, as_json: bool) -> None:
    """Print EXECUTION_ID's lifecycle events (its children's nested) as they happen, until
    it ends; exits 1 if it failed or was cancelled. --json prints one envelope per line."""
    api = _api(endpoint)
    while True:
        with errors_as_exits():
            page = api.events(execution_id, after, TAIL_WAIT)
        for event in page["events"]:
            click.echo(json.dumps(event) if as_json else event_line(event))
        after = page["last_sequence_id"]
        if page["done"]:
            break
    last = page["events"][-1] if page["events"] else None
    if last is not None and last["event_type"] in ("workflow_fail", "workflow_cancel"):
        raise click.exceptions.Exit(EXIT_FAILED)


def event_line(event: dict[str, Any]) -> str:
    """One lifecycle event on one line: sequence id, time, type, workflow/step, runtime,
    message or error."""
    data = event["data"]
    where = data["_metadata"]["workflow_id"]
    if data.get("step_key") is not None:
        where += f"/{data['step_key']}"
    parts = [f"{event['sequence_id']:>5}", event["created_at"][11:23], f"{event['event_type']:<16}",
             where]  # fmt: skip
    if data.get("runtime_us") is not None:
        parts.append(f"{data['runtime_us'] / 1000:.1f} ms")
    if data.get("message") is not None:
        parts.append(repr(data["message"]))
    if data.get("error") is not None:
        parts.append(f"{data['error']['type']}: {data['error']['message']}")
    return "  ".join(parts)


@main.command()
@click.argument("execution_id")
@endpoint_option
@json_option
def show(execution_id: str, endpoint: str, as_json: bool) -> None:
    """Show an execution: status, steps with timings, output or error."""
    with errors_as_exits():
        execution = _api(endpoint).execution(execution_id)
    if as_json:
        return _print_json(execution)
    from local_emulator.tables import execution_panel

    execution_panel(execution)


# --------------------------------------------------------------------------- schedules


@main.group(invoke_without_command=True)
@click.option("--workflow", "workflow_id", default=None, help="Only this workflow's schedules.")
@endpoint_option
@json_option
@click.pass_context
def schedules(ctx: click.Context, workflow_id: str | None, endpoint: str, as_json: bool) -> None:
    """List schedules with their next three fire times; or manage them (subcommands)."""
    if ctx.invoked_subcommand is not None:
        return
    with errors_as_exits():
        found = _api(endpoint).schedules(workflow_id)
    if as_json:
        return _print_json(found)
    from local_emulator.tables import schedules_table

    schedules_table(found)


def _print_schedule(schedule: dict[str, Any], as_json: bool) -> None:
    if as_json:
        return _print_json(schedule)
    upcoming = ", ".join(schedule["next"]) or "-"
    click.echo(f"{schedule['schedule_id']} {schedule['state']} {schedule['expression']} "
               f"{schedule['timezone']}; next: {upcoming}")  # fmt: skip


key_option = click.option("--key", default="default", show_default=True,
                          help="The schedule's key among its workflow's schedules.")  # fmt: skip


@schedules.command("create")
@click.argument("workflow_id")
@click.argument("cron")
@click.option("--timezone", default="UTC", show_default=True, help="An IANA zone.")
@key_option
@click.option("--overlap", type=click.Choice(["skip", "allow"]), default="skip",
              show_default=True, help="skip: no run while the previous one runs.")  # fmt: skip
@endpoint_option
@json_option
def schedules_create(
    workflow_id: str, cron: str, timezone: str, key: str, overlap: str, endpoint: str,
    as_json: bool,
) -> None:  # fmt: skip
    """Start WORKFLOW_ID on CRON (5 fields, quoted: "0 9 * * 1-5")."""
    with errors_as_exits():
        created = _api(endpoint).create_schedule(workflow_id, cron, timezone, key, overlap)
    _print_schedule(created, as_json)


@schedules.command("delete")
@click.argument("workflow_id")
@key_option
@endpoint_option
def schedules_delete(workflow_id: str, key: str, endpoint: str) -> None:
    """Delete a schedule created at run time."""
    with errors_as_exits():
        deleted = _api(endpoint).delete_schedule(workflow_id, key)
    click.echo(f"deleted {deleted['deleted']}")


@schedules.command("pause")
@click.argument("workflow_id")
@key_option
@endpoint_option
@json_option
def schedules_pause(workflow_id: str, key: str, endpoint: str, as_json: bool) -> None:
    """Pause a schedule: its ticks start nothing until resumed."""
    with errors_as_exits():
        paused = _api(endpoint).pause_schedule(workflow_id, key)
    _print_schedule(paused, as_json)


@schedules.command("resume")
@click.argument("workflow_id")
@key_option
@endpoint_option
@json_option
def schedules_resume(workflow_id: str, key: str, endpoint: str, as_json: bool) -> None:
    """Resume a paused schedule, from its next tick on."""
    with errors_as_exits():
        resumed = _api(endpoint).resume_schedule(workflow_id, key)
    _print_schedule(resumed, as_json)

if __name__ == "__main__":
    main(prog_name=os.path.basename(__file__))
