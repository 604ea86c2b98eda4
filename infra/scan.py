"""The security scan's findings left in the template, each with the reason it stays.

CI runs checkov on ``template.yaml`` (``.ci/run``); what it still reports is suppressed in
the resource's ``Metadata`` (``checkov: skip: [{id, comment}]``) with a one-line reason,
and only here, so every exception to the scan can be reviewed in one place.
"""

from __future__ import annotations

from typing import Any

SQS_MANAGED_ENCRYPTION = (
    "CKV_AWS_27",
    "encrypted at rest with SQS-managed SSE (SqsManagedSseEnabled); the check counts only "
    "KMS keys, which every sender (Lambda, Scheduler) would then need grants for",
)
AWS_MANAGED_TABLE_KEY = (
    "CKV_AWS_119",
    "encrypted at rest with the AWS managed KMS key (SSEEnabled); a customer managed key is "
    "an operator's choice that adds key administration and KMS costs",
)
LOG_GROUP_DEFAULT_ENCRYPTION = (
    "CKV_AWS_158",
    "CloudWatch Logs encrypts log data at rest by default; the logs hold ids and errors, "
    "never workflow values, so no customer managed key is required",
)
BUCKET_ACCESS_LOGS = (
    "CKV_AWS_18",
    "only the stack's functions read and write it, through their IAM roles; CloudTrail S3 "
    "data events audit that without a second bucket for access logs",
)
BUCKET_VERSIONING = (
    "CKV_AWS_21",
    "each object is written once under its execution's key and checked against the digest "
    "the journal records; old versions would only keep garbage",
)
NO_VPC = (
    "CKV_AWS_117",
    "the functions call only AWS APIs over TLS with IAM; a VPC would add NAT or endpoints "
    "and cold-start cost and no isolation",
)
NO_SECRETS_IN_ENVIRONMENT = (
    "CKV_AWS_173",
    "the variables hold resource names and settings, no secrets; Lambda encrypts them at "
    "rest with its AWS managed key",
)
NO_RESERVED_CONCURRENCY = (
    "CKV_AWS_115",
    "reserved concurrency comes out of the account's pool (new accounts cannot reserve any) "
    "and would throttle fan-out; async retries and the sweeper absorb throttling",
)
FUNCTION_DLQ = "CKV_AWS_116"
DLQ_REASONS = {
    "RunnerFunction": "failed async invocations go to its on-failure destination, the "
    "failure function, which fails or re-drives the execution",
    "FailureFunction": "failed async invocations go to FailureDeadLetterQueue through its "
    "on-failure destination, which keeps the error too, unlike a DLQ",
    "WakeupsFunction": "invoked by an SQS event source mapping, not asynchronously: "
    "undelivered wake-ups go to the timer queue's dead-letter queue",
    "SweeperFunction": "each run is idempotent and the next one a minute later redoes its "
    "work; what the schedule cannot deliver goes to ScheduleDeadLetterQueue",
    "ApiFunction": "invoked synchronously through its function URL: the caller gets the error",
    "BatchFunction": "invoked by SQS event source mappings, not asynchronously: batch "
    "messages that keep failing go to BatchDeadLetterQueue",
    "EventRouterFunction": "failed async invocations go to EventRouterDeadLetterQueue through "
    "its on-failure destination, which keeps the error too, unlike a DLQ",
    "SchedulesFunction": "failed async invocations go to ScheduleDeadLetterQueue through its "
    "on-failure destination, which keeps the error too, unlike a DLQ",
    "LifecycleFunction": "invoked by the journal stream's event source mapping, not "
    "asynchronously: batches that keep failing go to LifecycleDeadLetterQueue",
}
FUNCTION_SKIPS = (NO_VPC, NO_SECRETS_IN_ENVIRONMENT, NO_RESERVED_CONCURRENCY)


def metadata(*skips: tuple[str, str]) -> dict[str, Any]:
    """A resource's ``Metadata`` suppressing the checks ``skips`` names, with their reasons."""
    return {"checkov": {"skip": [{"id": check, "comment": reason} for check, reason in skips]}}


def function_metadata(logical_id: str) -> dict[str, Any]:
    """What checkov reports for every function, and why each function has no DLQ."""
    return metadata(*FUNCTION_SKIPS, (FUNCTION_DLQ, DLQ_REASONS[logical_id]))
