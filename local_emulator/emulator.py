"""The whole system on one machine: ``Emulator(template).start()``.

It serves moto behind the gateway on loopback, deploys the template into it,
runs the stack's functions in warm worker processes, and serves the function URL
as the HTTP API. ``stop()`` (or leaving the ``with`` block) ends every worker and
server it started, open connections included, and forgets the emulator's state.

Each emulator keeps its AWS state in a moto account of its own, so several can run
in one process, one after another or side by side, next to in-process fixtures.

``Emulator.built(build_dir)`` deploys what ``sam build`` wrote instead: each function runs
its built code in the emulated Lambda runtime (``local_emulator.lambda_.runtime``), isolated, with
nothing but its bundle and boto3, so a bundle that misses a module fails here as on AWS.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3

from local_emulator.accounts import drop_account, new_account_id
from local_emulator.dynamodb.streams import StreamPoller, stream_mappings
from local_emulator.events import EventDispatcher, event_routes
from local_emulator.gateway import GatewayServer
from local_emulator.http_api import HttpApiServer
from local_emulator.lambda_.runtime import LambdaRuntime, provide_runtime
from local_emulator.lambda_.service import LambdaService
from local_emulator.scheduler import (
    SWEEPER_HANDLER,
    RecurringDispatcher,
    ScheduleDispatcher,
    recurring_schedules,
)
from local_emulator.sqs import QueuePoller, event_source_mappings
from local_emulator.stack import CODE_BUCKET, Stack, deploy
from sdk.clock import Clock
from sdk.errors import SteplineError

REGION = "us-east-1"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "stepline-local",
    "AWS_SECRET_ACCESS_KEY": "stepline-local",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}


@dataclass(frozen=True)
class Endpoints:
    aws: str
    api: str


class Emulator:
    """Everything ``stepline dev`` runs, as an object tests can start and stop."""

    def __init__(
        self,
        template_text: str,
        *,
        host: str = "127.0.0.1",
        aws_port: int = 0,
        api_port: int = 0,
        stack_name: str = "stepline",
        workdir: str | None = None,
        account_id: str | None = None,
        sweep_interval: float | None = None,
        code_root: Path | None = None,
        schedule_clock: Clock | None = None,
    ) -> None:
        """``account_id``: the moto account of the emulator's resources, a fresh one by default;
        ``sweep_interval`` (seconds) runs the sweeper that often instead of every minute;
        ``code_root``: the directory of a built template (see ``built``);
        ``schedule_clock``: the clock schedules fire on (the machine's by default; a test may
        move a virtual one)."""
        self.account_id = account_id or new_account_id()
        self._code_root = code_root
        self._runtime_dir: str | None = None
        self._template = template_text
        self._host = host
        self._aws_port = aws_port
        self._api_port = api_port
        self._stack_name = stack_name
        self._workdir = workdir or os.getcwd()
        self._gateway: GatewayServer | None = None
        self._api: HttpApiServer | None = None
        self.scheduler: ScheduleDispatcher | None = None  # schedules stored in moto
        self._sweep_interval = sweep_interval
        self._schedule_clock = schedule_clock
        self.queues: QueuePoller | None = None
        self.streams: StreamPoller | None = None
        self.recurring: RecurringDispatcher | None = None
        self.lambdas: LambdaService | None = None
        self.stack: Stack | None = None
        self.endpoints: Endpoints | None = None
        self.ready_seconds = 0.0

    @classmethod
    def built(cls, build_dir: Path, **options: Any) -> Emulator:
        """An emulator of the template ``sam build`` wrote in ``build_dir``, running each
        function's built code (its ``CodeUri`` there) isolated, as Lambda does."""
        return cls((build_dir / "template.yaml").read_text(), code_root=build_dir, **options)

    def _lambda_runtime(self) -> LambdaRuntime | None:
        """The emulated Lambda runtime for built code, in a directory this emulator owns."""
        if self._code_root is None:
            return None
        self._runtime_dir = tempfile.mkdtemp(prefix="stepline-runtime-")
        return provide_runtime(Path(self._runtime_dir))

    def client(self, service: str) -> Any:
        """A boto3 client of ``service`` pointed at the emulator."""
        assert self._gateway is not None, "start() the emulator first"
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self._gateway.url,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def start(self) -> Endpoints:
        started = time.perf_counter()
        try:
            self._gateway = GatewayServer(self._host, self._aws_port, self.account_id)
            self._gateway.start()
            self.stack = deploy(
                self.client,
                self._template,
                self._stack_name,
                code_bucket=f"{CODE_BUCKET}-{self.account_id}",
                code_root=self._code_root,
            )
            worker_env = {
                **CREDENTIALS,
                "AWS_ENDPOINT_URL": self._gateway.url,
                "PYTHONPATH": os.pathsep.join(
                    p for p in (self._workdir, os.environ.get("PYTHONPATH", "")) if p
                ),
                "PYTHONUNBUFFERED": "1",
            }
            self.lambdas = LambdaService(
                self.stack.functions, worker_env, runtime=self._lambda_runtime()
            )
            self._gateway.gateway.lambdas = self.lambdas
            self._gateway.gateway.events = EventDispatcher(
                event_routes(self.stack), self.lambdas, self.account_id, REGION
            )
            url_functions = [f.name for f in self.stack.functions.values() if f.has_url]
            if len(url_functions) != 1:
                raise SteplineError(f"expected one function with a URL, found {url_functions}")
            self._api = HttpApiServer(self._host, self._api_port, self.lambdas, url_functions[0])
            self._api.start()
            self.scheduler = ScheduleDispatcher(
                self.client("scheduler"), self.lambdas, clock=self._schedule_clock
            )
            self.scheduler.start()
            self.queues = QueuePoller(
                self.client("sqs"), event_source_mappings(self.stack), self.lambdas
            )
            self.queues.start()
            self.streams = StreamPoller(
                stream_mappings(
                    self.stack, self.client("dynamodb"), self.client("dynamodbstreams"),
                    self.lambdas.invoke, self.client("sqs"),
                )
            )  # fmt: skip
            self.streams.start()
            every = {SWEEPER_HANDLER: self._sweep_interval} if self._sweep_interval else None
            schedules = recurring_schedules(self.stack, every)
            self.recurring = RecurringDispatcher(
                schedules, self.lambdas, clock=self._schedule_clock
            )
            self.recurring.start()
        except BaseException:
            self.stop()
            raise
        self.endpoints = Endpoints(aws=self._gateway.url, api=self._api.url)
        self.ready_seconds = time.perf_counter() - started
        return self.endpoints

    def stop(self) -> None:
        """Stop serving, end every execution environment, drop the state. Safe to call twice."""
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        for dispatcher in (self.queues, self.recurring, self.streams):
            if dispatcher is not None:
                dispatcher.stop()
        self.queues = self.recurring = self.streams = None
        if self._api is not None:
            self._api.stop()
            self._api = None
        if self.lambdas is not None:
            self.lambdas.shutdown()
            self.lambdas = None
        if self._runtime_dir is not None:
            shutil.rmtree(self._runtime_dir)  # links only: what they point at stays
            self._runtime_dir = None
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
            drop_account(self.account_id)

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
