"""The journal table's schema, defined once.

``infra`` puts it in the SAM template, tests and the emulator create the table
from it. One partition per execution: the execution item (``sk = "#execution"``)
and one item per step (``sk = "step#<key>"``). Indexes list executions by workflow,
status and parent, and (sparse) those the sweeper must look at; only execution items
carry their key attributes, so steps never appear in them.
"""

from __future__ import annotations

from typing import Any

BY_WORKFLOW_INDEX = "by-workflow"
BY_STATUS_INDEX = "by-status"
BY_PARENT_INDEX = "by-parent"  # sparse: only child executions carry ``parent_id``
# sparse: only executions the sweeper must look at carry ``sweep`` (and ``due_at``)
BY_DUE_INDEX = "by-due"
# DynamoDB's time-to-live attribute (epoch seconds): items of finished executions expire
# a retention period after they finish (see ``sdk.journal.retention``).
EXPIRES_AT = "expires_at"


def time_to_live() -> dict[str, Any]:
    """The table's ``TimeToLiveSpecification``: DynamoDB deletes items once ``EXPIRES_AT``
    has passed (within days; moto never does)."""
    return {"AttributeName": EXPIRES_AT, "Enabled": True}


def table_definition(table_name: str) -> dict[str, Any]:
    """Keyword arguments for ``CreateTable`` (and, minus ``TableName``, the CFN properties)."""

    def index(name: str, partition: str, sort: str = "created_at") -> dict[str, Any]:
        return {
            "IndexName": name,
            "KeySchema": [
                {"AttributeName": partition, "KeyType": "HASH"},
                {"AttributeName": sort, "KeyType": "RANGE"},
            ],
            "Projection": {"ProjectionType": "ALL"},
        }

    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"}
            for name in (
                "pk", "sk", "workflow_id", "status", "created_at", "parent_id", "sweep", "due_at"
            )
        ],
        # Every change, old and new image, for the lifecycle publisher (``handlers.lifecycle``)
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        "GlobalSecondaryIndexes": [
            index(BY_WORKFLOW_INDEX, "workflow_id"),
            index(BY_STATUS_INDEX, "status"),
            index(BY_PARENT_INDEX, "parent_id"),
            index(BY_DUE_INDEX, "sweep", "due_at"),
        ],
    }
