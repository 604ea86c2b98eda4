"""The SAM template: generated from the app, deterministic, valid, and committed fresh."""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.template import synth
from infra.validate import lint
from sdk.journal.schema import table_definition

ROOT = Path(__file__).resolve().parents[3]


def test_the_committed_template_is_the_one_synth_writes() -> None:
    committed = (ROOT / "template.yaml").read_text()
    assert committed == synth(["examples"]), "template.yaml is stale: run `stepline synth`"


def test_synth_is_deterministic() -> None:
    assert synth(["examples"]) == synth(["examples"])


def test_the_template_passes_cfn_lint() -> None:
    assert lint(synth(["examples"])) == []


def test_the_table_is_the_journal_schema() -> None:
    template = yaml.safe_load(synth(["examples"]))
    expected = table_definition("x")
    del expected["TableName"]
    assert template["Resources"]["JournalTable"]["Properties"] == expected


def test_the_runner_is_retried_twice_then_sends_failures_to_the_failure_handler() -> None:
    runner = yaml.safe_load(synth(["examples"]))["Resources"]["RunnerFunction"]["Properties"]
    config = runner["EventInvokeConfig"]
    assert config["MaximumRetryAttempts"] == 2
    destination = config["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["FailureFunction", "Arn"]}


def test_the_functions_know_the_app_and_its_table() -> None:
    variables = yaml.safe_load(synth(["examples", "tests.apps.crashy"]))["Globals"]["Function"][
        "Environment"
    ]["Variables"]
    assert variables["STEPLINE_APP"] == "examples,tests.apps.crashy"
    assert variables["STEPLINE_TABLE"] == {"Ref": "JournalTable"}
