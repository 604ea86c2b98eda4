"""Queries on moto read only their partition (``local_emulator.dynamodb.queries``), with
moto's own key conditions, order, limits and pages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_emulator.dynamodb import serialize_writes
from sdk.journal.schema import table_definition


@pytest.fixture
def table() -> Iterator[Any]:
    serialize_writes()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**table_definition("t"))
        for pk in ("a", "b", "c"):
            for n in range(10):
                item = {"pk": {"S": pk}, "sk": {"S": f"s#{n:02d}"}, "n": {"N": str(n)}}
                client.put_item(TableName="t", Item=item)
        yield client


def query(client: Any, **request: Any) -> list[tuple[str, int]]:
    """Every page of a query, as (pk, n)."""
    found: list[tuple[str, int]] = []
    while True:
        response = client.query(TableName="t", **request)
        found += [(i["pk"]["S"], int(i["n"]["N"])) for i in response["Items"]]
        if "LastEvaluatedKey" not in response:
            return found
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def test_a_query_returns_its_partition_only_in_key_order(table: Any) -> None:
    found = query(
        table,
        KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
        ExpressionAttributeValues={
            ":pk": {"S": "b"},
            ":low": {"S": "s#03"},
            ":high": {"S": "s#07"},
        },
        Limit=2,
        ConsistentRead=True,
    )
    assert found == [("b", n) for n in range(3, 8)]


def test_a_backward_query_with_a_limit_takes_the_last_items(table: Any) -> None:
    response = table.query(
        TableName="t",
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "c"}},
        ScanIndexForward=False,
        Limit=3,
    )
    assert [int(i["n"]["N"]) for i in response["Items"]] == [9, 8, 7]


def test_a_query_looks_at_its_partition_only(table: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    def whole_table(self: Any) -> Any:
        raise AssertionError("the query walked the whole table")

    monkeypatch.setattr(Table, "all_items", whole_table)
    found = query(
        table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "a"}},
        ConsistentRead=True,
    )
    assert found == [("a", n) for n in range(10)]


def test_a_query_of_an_empty_partition_finds_nothing(table: Any) -> None:
    assert query(table, KeyConditionExpression="pk = :pk",
                 ExpressionAttributeValues={":pk": {"S": "zzz"}}) == []  # fmt: skip
