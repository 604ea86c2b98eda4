"""moto's transactions as the emulator runs them: all or nothing, a reason per item."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import TABLE


def put(pk: str, sk: str, **condition: Any) -> dict[str, Any]:
    return {"Put": {"TableName": TABLE, "Item": {"pk": {"S": pk}, "sk": {"S": sk}}, **condition}}


NEW = {"ConditionExpression": "attribute_not_exists(pk)"}


def keys(client: Any) -> list[tuple[str, str]]:
    items = client.scan(TableName=TABLE)["Items"]
    return sorted((i["pk"]["S"], i["sk"]["S"]) for i in items)


def test_one_failed_condition_cancels_every_write_with_a_reason_each(dynamodb_client: Any) -> None:
    dynamodb_client.transact_write_items(TransactItems=[put("a", "1")])
    with pytest.raises(ClientError) as refused:
        dynamodb_client.transact_write_items(
            TransactItems=[put("b", "1", **NEW), put("a", "1", **NEW), put("c", "1")]
        )
    reasons = [r["Code"] for r in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed", "None"]
    assert keys(dynamodb_client) == [("a", "1")]


def test_conditions_see_the_state_before_the_transaction(dynamodb_client: Any) -> None:
    dynamodb_client.transact_write_items(TransactItems=[put("a", "1", **NEW), put("a", "2", **NEW)])
    assert keys(dynamodb_client) == [("a", "1"), ("a", "2")]


def test_a_write_failing_part_way_puts_back_what_was_written(dynamodb_client: Any) -> None:
    dynamodb_client.transact_write_items(TransactItems=[put("a", "1")])
    bad_update = {
        "Update": {
            "TableName": TABLE,
            "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
            "UpdateExpression": "SET n = n + :one",  # n does not exist: invalid
            "ExpressionAttributeValues": {":one": {"N": "1"}},
        }
    }
    with pytest.raises(ClientError):
        dynamodb_client.transact_write_items(TransactItems=[put("b", "1"), bad_update])
    assert keys(dynamodb_client) == [("a", "1")]


def test_two_writes_to_one_item_are_refused_outright(dynamodb_client: Any) -> None:
    with pytest.raises(ClientError, match="multiple operations"):
        dynamodb_client.transact_write_items(TransactItems=[put("a", "1"), put("a", "1")])
    assert keys(dynamodb_client) == []
