"""What an invocation costs in DynamoDB requests (counted with botocore's event hooks)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sdk import App, Client, Engine, InlineInvoker, VirtualClock
from sdk.journal.dynamodb import DynamoJournal
from tests.support import TABLE
from tests.workflows import order_workflow


def count_requests(dynamodb_client: Any) -> Counter[str]:
    seen: Counter[str] = Counter()

    def count(model: Any, **_: Any) -> None:
        seen[model.name] += 1

    dynamodb_client.meta.events.register("before-call.dynamodb.*", count)
    return seen


def client_on(dynamodb_client: Any, *, always_replay: bool) -> Client:
    app, journal, clock = (
        App([order_workflow]),
        DynamoJournal(dynamodb_client, TABLE),
        VirtualClock(),
    )
    engine = Engine(app, journal, clock, always_replay=always_replay)
    return Client(app, journal, InlineInvoker(engine), clock=clock)


def test_a_first_invocation_writes_once_per_step_and_reads_nothing(dynamodb_client: Any) -> None:
    client = client_on(dynamodb_client, always_replay=False)
    seen = count_requests(dynamodb_client)
    client.invoke("order", {"order_id": "o-1", "amount": 1})
    # create, lease, one conditional put per step (3), outcome
    assert seen == Counter({"PutItem": 4, "UpdateItem": 2})


def test_each_resumption_loads_the_journal_with_one_query(dynamodb_client: Any) -> None:
    client = client_on(dynamodb_client, always_replay=True)
    seen = count_requests(dynamodb_client)
    client.invoke("order", {"order_id": "o-1", "amount": 1})
    # four invocations: the first reads nothing, each of the three resumptions one Query
    assert seen["Query"] == 3 and seen["GetItem"] == 0
