"""``TransactWriteItems`` honours its client token on moto as on DynamoDB
(``local_emulator.dynamodb.tokens``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local_emulator.dynamodb import serialize_writes
from sdk.journal.schema import table_definition


@pytest.fixture
def client() -> Iterator[Any]:
    serialize_writes()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(**table_definition("t"))
        yield client


def put_new(client: Any, value: str, token: str) -> Any:
    item = {"pk": {"S": "p"}, "sk": {"S": "s"}, "v": {"S": value}}
    return client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": "t",
                    "Item": item,
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            }
        ],
        ClientRequestToken=token,
    )


def test_the_same_request_sent_again_with_its_token_succeeds_without_writing(client: Any) -> None:
    put_new(client, "first", "token-1")
    put_new(client, "first", "token-1")  # its condition would fail: the token answers first
    with pytest.raises(ClientError, match="TransactionCanceled"):
        put_new(client, "first", "token-2")


def test_another_request_with_a_used_token_is_refused(client: Any) -> None:
    put_new(client, "first", "token-3")
    with pytest.raises(ClientError) as refused:
        put_new(client, "second", "token-3")
    assert refused.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    item = client.get_item(TableName="t", Key={"pk": {"S": "p"}, "sk": {"S": "s"}})["Item"]
    assert item["v"] == {"S": "first"}
