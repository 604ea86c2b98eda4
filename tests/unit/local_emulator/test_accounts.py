"""One moto account per harness: pinned clients, and dropping one account's state only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_emulator.accounts import drop_account, new_account_id, pin_account
from sdk.journal.schema import table_definition


@pytest.fixture
def accounts() -> Iterator[list[str]]:
    """Two fresh accounts on moto in-process; moto is neither reset nor wiped around them."""
    mock = mock_aws()
    mock.start(reset=False)
    ids = [new_account_id(), new_account_id()]
    yield ids
    for account in ids:
        drop_account(account)
    mock.stop(remove_data=False)


def client(service: str, account: str | None = None) -> Any:
    made = boto3.client(service, region_name="us-east-1")  # type: ignore[call-overload]
    return made if account is None else pin_account(made, account)


def test_account_ids_are_fresh_twelve_digit_ids_away_from_motos_default() -> None:
    ids = [new_account_id() for _ in range(3)]
    assert len(set(ids)) == 3
    assert all(len(i) == 12 and i.isdigit() and i != "123456789012" for i in ids)


def test_a_pinned_client_works_in_its_own_account(accounts: list[str]) -> None:
    first, second = accounts
    client("dynamodb", first).create_table(**table_definition("journal"))
    arn = client("dynamodb", first).describe_table(TableName="journal")["Table"]["TableArn"]
    assert f":{first}:" in arn
    assert client("dynamodb", second).list_tables()["TableNames"] == []
    assert "journal" not in client("dynamodb").list_tables()["TableNames"]


def test_dropping_an_account_forgets_its_state_and_keeps_the_others(accounts: list[str]) -> None:
    first, second = accounts
    for account in accounts:
        client("dynamodb", account).create_table(**table_definition("journal"))
    drop_account(first)
    assert client("dynamodb", first).list_tables()["TableNames"] == []
    assert client("dynamodb", second).list_tables()["TableNames"] == ["journal"]


def test_dropping_an_account_frees_its_bucket_names(accounts: list[str]) -> None:
    first, second = accounts
    client("s3", first).create_bucket(Bucket="stepline-code")
    with pytest.raises(client("s3", second).exceptions.BucketAlreadyExists):
        client("s3", second).create_bucket(Bucket="stepline-code")
    drop_account(first)
    client("s3", second).create_bucket(Bucket="stepline-code")
    assert [b["Name"] for b in client("s3", second).list_buckets()["Buckets"]] == ["stepline-code"]
