"""Record the golden journals of the suspension patterns: ``python -m tests.record_goldens``.

Each workflow of ``tests.functional.test_suspension`` (and three of
``tests.functional.test_attacks``: ``except BaseException``, ``gather(return_exceptions)``
and ``finally`` around a wait) runs on DynamoDB in moto until it
suspends on its wait; the journal's items (the execution item and its steps) are written to
``tests/fixtures/golden_<workflow>.json``. ``tests/functional/test_golden_patterns.py``
replays them against the code of the day. Recorded once; re-record only on purpose.

Items are recorded without ``expires_at``: their time to live follows the stack's retention
policy, not the journal's meaning, and the journal sets it again when a golden is loaded
(``tests.support.load_journal_fixture``), so a change of policy never changes a golden.
"""

from __future__ import annotations

import json
import logging

import boto3
from moto import mock_aws

from sdk import VirtualClock
from sdk.journal.dynamodb import DynamoJournal
from sdk.journal.records import Item
from sdk.journal.schema import EXPIRES_AT, table_definition
from tests.functional import test_attacks as attacks
from tests.functional import test_suspension as patterns
from tests.support import FIXTURES, TABLE, Harness

WORKFLOWS = [
    patterns.task_group_wait,
    patterns.async_with_wait,
    patterns.busy_beside_a_long_wait,
    patterns.detached_task,
    attacks.swallows_suspend,
    attacks.gather_return_exceptions,
    attacks.finally_around_a_wait,
]


def without_policy(item: Item) -> Item:
    """``item`` without what the retention policy puts on it."""
    return {name: value for name, value in item.items() if name != EXPIRES_AT}


def record() -> None:
    logging.disable(logging.CRITICAL)
    for wf in WORKFLOWS:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            client.create_table(**table_definition(TABLE))
            h = Harness.build(DynamoJournal(client, TABLE), VirtualClock(), [wf])
            handle = h.client.invoke(wf, execution_id=f"golden-{wf.id}")
            items = [without_policy(item) for item in client.query(
                TableName=TABLE,
                KeyConditionExpression="pk = :id",
                ExpressionAttributeValues={":id": {"S": handle.id}},
            )["Items"]]  # fmt: skip
        execution = next(item for item in items if item["sk"]["S"] == "#execution")
        steps = [item for item in items if item["sk"]["S"].startswith("step#")]
        note = f"{wf.id}, suspended on its wait by its first invocation"
        out = {"note": note, "execution": execution, "steps": steps}
        (FIXTURES / f"golden_{wf.id}.json").write_text(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    record()
