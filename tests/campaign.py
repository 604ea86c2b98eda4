"""The fault campaign driver: run executions to quiescence under faults, from one seed.

``run_campaign(seed, starts, ...)`` wires the parts and reports what happened:

1. ``random.Random(seed)`` seeds two streams: one for the ``FaultInjector`` (which attempts
   fail, and how) and one for the ``AsyncLambda`` model (duplicates, order, kills, deadlines),
   so that changing one leaves the other's decisions alone.
2. The injector is attached to every client in ``clients`` (the DynamoDB clients the
   handlers use) and, if ``lambda_client`` is given, to that client too, answered by the
   model: the handlers then start invocations through the production ``LambdaInvoker`` and
   its ``Invoke`` calls meet faults as well (a lost response queues the event twice).
3. ``build_runner(invoker)`` and ``build_destination()`` build the handlers
   (``handlers.runner.Runner`` and ``handlers.failures.FailureRecorder`` or anything with the
   Lambda handler signature); the driver knows nothing else of the engine.
4. Each ``start(invoker)`` creates an execution (with faults paused) and returns its id,
   typically ``lambda invoker: Client(app, journal, invoker).invoke(wf, data).id``; the
   model queues the invocation.
5. ``drain()`` runs until nothing is queued. Then ``on_quiet(invoker)``, if given, may do
   what time would do (advance a virtual clock, fire due timers, run a sweeper), with
   faults paused, and returns whether it did anything; if so the model drains again.
6. ``read_status(execution_id)`` (faults paused) gives each execution's final status.

botocore's retry backoff is recorded, not slept (``skip_backoff``), during the whole run.
A test then asserts on the report, for example::

    @pytest.mark.parametrize("seed", range(50))
    def test_orders_survive_faults(seed):
        with mock_aws():
            dynamodb = boto3.client("dynamodb", config=client_config())  # as deployed
            dynamodb.create_table(**table_definition(TABLE))
            journal = DynamoJournal(dynamodb, TABLE)
            starts = [
                lambda inv, i=i: Client(app, journal, inv).invoke(order, i).id
                for i in range(20)
            ]
            report = run_campaign(
                seed,
                starts,
                clients=[dynamodb],
                build_runner=lambda inv: Runner(Engine(app, journal, invoker=inv), inv),
                build_destination=lambda: FailureRecorder(journal),
                read_status=lambda eid: journal.get_execution(eid).status.value,
                settings=CampaignSettings(fault_rate=0.1, kill_rate=0.05),
            )
        print(report.summary())
        assert report.faults.by_kind()[FaultKind.LOST_RESPONSE] > 0
        assert set(report.statuses.values()) == {"completed"}

A failing seed replays the same decisions (exactly so with ``duplicate_timing="late"``:
concurrent duplicates leave the interleaving of their requests to the thread scheduler).
The report also holds the fault log, the faulted calls' endings and every delivery.
"""

from __future__ import annotations

import collections
import random
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from sdk.client import Invoker, LambdaInvoker
from tests.faults import INJECTABLE, FaultInjector, FaultKind, skip_backoff
from tests.lambda_model import AsyncLambda, Handler

Start = Callable[[Invoker], str]


@dataclass(frozen=True)
class CampaignSettings:
    """How hostile the campaign is. The defaults keep botocore's retry quota from running out."""

    fault_rate: float = 0.05
    fault_kinds: Sequence[FaultKind] = INJECTABLE
    fault_operations: Collection[str] | None = None
    faults_per_call: int | None = None
    duplicate_rate: float = 0.5
    duplicate_timing: Literal["concurrent", "late", "mixed"] = "mixed"
    max_retries: int = 2
    shuffle: bool = True
    kill_rate: float = 0.0
    kill_window: int = 20
    remaining_ms: int | Callable[[random.Random], int] = 60_000
    max_deliveries: int = 10_000
    max_quiet_rounds: int = 100


@dataclass
class CampaignReport:
    """What a campaign did: the faults, the deliveries, and where each execution ended."""

    seed: int
    statuses: dict[str, str]
    faults: FaultInjector
    lambda_model: AsyncLambda
    backoff: list[float] = field(default_factory=list)
    quiet_rounds: int = 0

    def summary(self) -> str:
        statuses = collections.Counter(self.statuses.values())
        lines = [
            f"campaign seed {self.seed}: {len(self.statuses)} executions "
            + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items())),
            self.faults.summary(),
            f"botocore backoff skipped: {len(self.backoff)} waits, {sum(self.backoff):.2f} s",
        ]
        for name, stats in sorted(self.lambda_model.stats.items()):
            lines.append(f"lambda {name}: {stats}")
        if self.lambda_model.undelivered:
            lines.append(f"destination records lost: {len(self.lambda_model.undelivered)}")
        return "\n".join(lines)


def run_campaign(
    seed: int,
    starts: Sequence[Start],
    *,
    clients: Iterable[Any],
    build_runner: Callable[[Invoker], Handler],
    build_destination: Callable[[], Handler] | None,
    read_status: Callable[[str], str],
    lambda_client: Any = None,
    on_quiet: Callable[[Invoker], bool] | None = None,
    settings: CampaignSettings | None = None,
) -> CampaignReport:
    """Run ``starts`` to quiescence under the faults of ``settings``; see the module doc."""
    settings = settings or CampaignSettings()
    rng = random.Random(seed)
    injector = FaultInjector(
        random.Random(rng.getrandbits(64)),
        settings.fault_rate,
        settings.fault_kinds,
        operations=settings.fault_operations,
        faults_per_call=settings.faults_per_call,
    )
    handlers: dict[str, Handler] = {}
    model = AsyncLambda(
        lambda event, context: handlers["runner"](event, context),
        rng=random.Random(rng.getrandbits(64)),
        destination=(
            None
            if build_destination is None
            else lambda event, context: handlers["destination"](event, context)
        ),
        duplicate_rate=settings.duplicate_rate,
        duplicate_timing=settings.duplicate_timing,
        max_retries=settings.max_retries,
        shuffle=settings.shuffle,
        remaining_ms=settings.remaining_ms,
        kill_rate=settings.kill_rate,
        kill_window=settings.kill_window,
        max_deliveries=settings.max_deliveries,
    )
    attached = [injector.attach(client) for client in clients]
    invoker: Invoker = model
    if lambda_client is not None:
        attached.append(injector.attach(lambda_client, backend=model.lambda_api))
        invoker = LambdaInvoker(lambda_client, model.function_name)
    handlers["runner"] = build_runner(invoker)
    if build_destination is not None:
        handlers["destination"] = build_destination()
    report = CampaignReport(seed, {}, injector, model)
    try:
        with skip_backoff() as backoff:
            with injector.paused():
                execution_ids = [start(invoker) for start in starts]
            model.drain()
            while on_quiet is not None and report.quiet_rounds < settings.max_quiet_rounds:
                report.quiet_rounds += 1
                with injector.paused():
                    busy = on_quiet(invoker)
                if not busy:
                    break
                model.drain()
            with injector.paused():
                report.statuses = {eid: read_status(eid) for eid in execution_ids}
        report.backoff = backoff.delays
    finally:
        for client in attached:
            injector.detach(client)
    return report
