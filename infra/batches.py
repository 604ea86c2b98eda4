"""The batched workflows' side of the stack: a queue each, and the function they feed.

Every workflow with ``batch_size`` gets a queue (``BatchQueue<Workflow>``) that the
publishers (runner, API, event router, sweeper) send its events to, named to them by
``STEPLINE_BATCH_QUEUES``, and an event source mapping onto ``BatchFunction`` with
``BatchSize`` = ``batch_size``, ``MaximumBatchingWindowInSeconds`` =
``batch_timeout_seconds`` and ``ReportBatchItemFailures``. Messages that fail
``BATCH_MAX_RECEIVE_COUNT`` times go to ``BatchDeadLetterQueue``. An app without
batched workflows gets none of this.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from infra import resources
from infra.names import get_att, sub
from sdk.app import App
from sdk.workflow import Workflow

BATCH_FUNCTION = "BatchFunction"
BATCH_DLQ = "BatchDeadLetterQueue"
BATCH_TIMEOUT_SECONDS = 60
BATCH_MAX_RECEIVE_COUNT = 5
# Lambda takes more than 10 messages per batch from a standard queue only with a window.
MIN_WINDOW_FOR_LARGE_BATCHES = 1
QUEUES_VARIABLE = "STEPLINE_BATCH_QUEUES"


def batched(app: App) -> list[Workflow[Any]]:
    return [wf for wf in app if wf.batch_size is not None]


def queue_id(workflow_id: str) -> str:
    """``batch-processor`` -> ``BatchQueueBatchProcessor`` (distinct per workflow)."""
    words = re.split(r"[-_]", workflow_id)
    camel = "".join(word[:1].upper() + word[1:] for word in words)
    return f"BatchQueue{camel}"


def queue_ids(app: App) -> dict[str, str]:
    """Each batched workflow's queue logical id; ids that would clash get a suffix."""
    ids: dict[str, str] = {}
    for wf in batched(app):
        logical = queue_id(wf.id)
        if logical in ids.values():
            logical += str(sum(1 for taken in ids.values() if taken.startswith(logical)) + 1)
        ids[wf.id] = logical
    return ids


def window_seconds(wf: Workflow[Any]) -> int:
    """The mapping's ``MaximumBatchingWindowInSeconds`` (whole seconds, rounded up)."""
    window = math.ceil(wf.batch_timeout_seconds or 0)
    if (wf.batch_size or 0) > 10:
        window = max(window, MIN_WINDOW_FOR_LARGE_BATCHES)
    return window


def queues(app: App) -> dict[str, Any]:
    ids = queue_ids(app)
    if not ids:
        return {}
    found: dict[str, Any] = {}
    for wf in batched(app):
        found[ids[wf.id]] = resources.queue(
            # Lambda requires at least the function's timeout; AWS advises six times it
            VisibilityTimeout=6 * BATCH_TIMEOUT_SECONDS + window_seconds(wf),
            RedrivePolicy={
                "deadLetterTargetArn": get_att(BATCH_DLQ),
                "maxReceiveCount": BATCH_MAX_RECEIVE_COUNT,
            },
        )
    found[BATCH_DLQ] = resources.queue(
        MessageRetentionPeriod=resources.DEAD_LETTER_RETENTION_SECONDS
    )
    return found



def environment(app: App) -> dict[str, Any]:
    """``STEPLINE_BATCH_QUEUES``: the JSON object of workflow ids to queue URLs."""
    ids = queue_ids(app)
    if not ids:
        return {}
    text = json.dumps({wf: "${" + logical + "}" for wf, logical in ids.items()}, sort_keys=True)
    return {QUEUES_VARIABLE: sub(text)}


def send_statements(app: App) -> list[dict[str, Any]]:
    """What a publisher needs to queue events for the batched workflows."""
    ids = queue_ids(app)
    if not ids:
        return []
    arns = [get_att(logical) for logical in ids.values()]
    return [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": arns}]


def events(app: App) -> dict[str, Any]:
    """``BatchFunction``'s SAM events: one SQS event source mapping per batched workflow."""
    ids = queue_ids(app)
    return {
        ids[wf.id].removeprefix("BatchQueue"): {
            "Type": "SQS",
            "Properties": {
                "Queue": get_att(ids[wf.id]),
                "BatchSize": wf.batch_size,
                "MaximumBatchingWindowInSeconds": window_seconds(wf),
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
            },
        }
        for wf in batched(app)
    }

