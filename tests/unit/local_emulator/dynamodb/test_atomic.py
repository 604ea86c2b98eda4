"""Conditional writes on moto are atomic under concurrent requests, in-process and behind
the emulator's gateway: of eight racing writers exactly one wins, round after round."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from local_emulator.accounts import drop_account, new_account_id
from local_emulator.dynamodb import serialize_writes, writes_are_serialized
from local_emulator.gateway import GatewayServer
from sdk.journal.schema import table_definition
from tests.support import TABLE

RACERS = 8
ROUNDS = 20


@pytest.fixture
def through_gateway() -> Iterator[Any]:
    """A DynamoDB client at the emulator's AWS endpoint (moto behind waitress threads)."""
    account = new_account_id()
    server = GatewayServer("127.0.0.1", 0, account)
    server.start()
    client = boto3.client(
        "dynamodb",
        endpoint_url=server.url,
        region_name="us-east-1",
        config=Config(max_pool_connections=RACERS),
    )
    client.create_table(**table_definition(TABLE))
    yield client
    server.stop()
    drop_account(account)


@pytest.fixture(params=["mock_aws", pytest.param("gateway", marks=pytest.mark.slow)])
def dynamodb(request: pytest.FixtureRequest, moto_race_window: None) -> Any:
    if request.param == "mock_aws":
        return request.getfixturevalue("dynamodb_client")
    return request.getfixturevalue("through_gateway")


def winners_of_a_race(attempt: Callable[[str], None]) -> list[str]:
    """Run ``attempt(racer)`` for eight racers at once; the racers whose write went through."""
    start = threading.Barrier(RACERS)

    def one(racer: str) -> bool:
        start.wait(timeout=10)
        try:
            attempt(racer)
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return False
        return True

    racers = [f"racer-{i}" for i in range(RACERS)]
    with ThreadPoolExecutor(RACERS) as pool:
        won = list(pool.map(one, racers))
    return [racer for racer, ok in zip(racers, won, strict=True) if ok]


def key(round_: int) -> dict[str, Any]:
    return {"pk": {"S": f"round-{round_}"}, "sk": {"S": "item"}}


def test_of_eight_racing_conditional_puts_exactly_one_wins(dynamodb: Any) -> None:
    for round_ in range(ROUNDS):

        def put_if_absent(racer: str, round_: int = round_) -> None:
            dynamodb.put_item(
                TableName=TABLE,
                Item={**key(round_), "writer": {"S": racer}},
                ConditionExpression="attribute_not_exists(pk)",
            )

        winners = winners_of_a_race(put_if_absent)
        assert len(winners) == 1, f"round {round_}: {winners} all won"
        stored = dynamodb.get_item(TableName=TABLE, Key=key(round_), ConsistentRead=True)
        assert stored["Item"]["writer"]["S"] == winners[0]


def test_of_eight_racing_lease_takers_exactly_one_holds_the_lease(dynamodb: Any) -> None:
    for round_ in range(ROUNDS):
        dynamodb.put_item(TableName=TABLE, Item={**key(round_), "lease_expires": {"N": "0"}})

        def take_lease(racer: str, round_: int = round_) -> None:
            dynamodb.update_item(
                TableName=TABLE,
                Key=key(round_),
                UpdateExpression="SET lease_owner = :me, lease_expires = :until",
                ConditionExpression=(
                    "attribute_exists(pk) AND "
                    "(attribute_not_exists(lease_owner) OR lease_expires < :now)"
                ),
                ExpressionAttributeValues={
                    ":me": {"S": racer},
                    ":until": {"N": "2000"},
                    ":now": {"N": "1000"},
                },
            )

        winners = winners_of_a_race(take_lease)
        assert len(winners) == 1, f"round {round_}: {winners} all took the lease"
        stored = dynamodb.get_item(TableName=TABLE, Key=key(round_), ConsistentRead=True)
        assert stored["Item"]["lease_owner"]["S"] == winners[0]


def test_serialize_writes_is_idempotent() -> None:
    from moto.dynamodb.responses import DynamoHandler

    serialize_writes()
    installed = DynamoHandler.call_action
    serialize_writes()
    assert DynamoHandler.call_action is installed
    assert writes_are_serialized()
