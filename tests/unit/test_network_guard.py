"""The test suite cannot reach the network, even from a thread a failed test left behind."""

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError


def test_real_aws_is_unreachable_from_tests() -> None:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1})
    )
    with pytest.raises(EndpointConnectionError) as caught:
        client.list_tables()
    assert "tests may not reach the network" in str(caught.value.kwargs["error"])
