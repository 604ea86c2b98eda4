"""Topic events through the emulator: the AWS CLI's put-events on its bus, stepline publish
and topics, and a wait ended by an event, all in worker processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from infra.template import synth
from local_emulator.api_client import ApiClient
from local_emulator.cli import main
from local_emulator.emulator import CREDENTIALS, Emulator
from sdk.events.publisher import triggered_id
from tests.support import eventually

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator(synth(["examples"]), workdir=str(ROOT)) as running:
        yield running


@pytest.fixture
def api(emulator: Emulator) -> ApiClient:
    assert emulator.endpoints is not None
    return ApiClient(emulator.endpoints.api)



def aws_cli(emulator: Emulator, *args: str) -> Any:
    assert emulator.endpoints is not None
    aws = Path(sys.executable).with_name("aws")
    env = {**os.environ, **CREDENTIALS}
    done = subprocess.run(
        [str(aws), "--endpoint-url", emulator.endpoints.aws, "--output", "json", *args],
        env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return json.loads(done.stdout)


def test_put_events_with_the_aws_cli_starts_the_signup_handler(
    emulator: Emulator, api: ApiClient
) -> None:
    assert emulator.stack is not None
    entry = {
        "Source": "my.website",
        "DetailType": "user/signup",
        "Detail": json.dumps({"user_id": "u-cli", "email": "cli@example.com"}),
        "EventBusName": emulator.stack.bus_name,
    }
    answer = aws_cli(emulator, "events", "put-events", "--entries", json.dumps([entry]))
    assert answer["FailedEntryCount"] == 0
    [event_id] = [e["EventId"] for e in answer["Entries"]]
    execution_id = triggered_id("user-signup-handler", "user/signup", event_id)
    done = eventually(
        lambda: _status(api, execution_id), lambda s: s in ("completed", "failed")
    )
    assert done == "completed"
    assert api.execution(execution_id)["output"] == {"status": "onboarded", "user_id": "u-cli"}


def _status(api: ApiClient, execution_id: str) -> str | None:
    try:
        return str(api.execution(execution_id, steps=False)["status"])
    except Exception:  # not created yet
        return None


def test_stepline_publish_ends_an_approval_and_topics_lists_it(
    emulator: Emulator, api: ApiClient
) -> None:
    assert emulator.endpoints is not None
    endpoint = ["--endpoint", emulator.endpoints.api]
    started = api.invoke("approval-workflow", {"request_id": "r-9", "action": "deploy"})
    execution_id = started["execution_id"]
    eventually(lambda: _status(api, execution_id), lambda s: s == "suspended")
    cli = CliRunner()
    published = cli.invoke(
        main, ["publish", "approval.response/r-9", "--data", '{"approved": true}', *endpoint]
    )
    assert published.exit_code == 0, published.output
    assert published.output.startswith("approval.response/r-9 #1 evt_")
    done = eventually(lambda: _status(api, execution_id), lambda s: s in ("completed", "failed"))
    assert done == "completed"
    assert api.execution(execution_id)["output"] == "executed deploy"
    topics = cli.invoke(main, ["topics", "--json", *endpoint])
    assert topics.exit_code == 0, topics.output
    listed = {t["topic"]: t for t in json.loads(topics.output)}
    assert listed["approval.response/r-9"]["last_sequence_id"] == 1
    assert listed["user/signup"]["subscribers"] == ["user-signup-handler"]
    bad = cli.invoke(main, ["publish", "approval.response/r-9", "--data", "[1]", *endpoint])
    assert bad.exit_code == 1 and "must be a JSON object" in bad.output
