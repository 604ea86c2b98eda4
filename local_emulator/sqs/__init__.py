"""The SQS parts moto does not run: event source mappings from queues to functions."""

from local_emulator.sqs.models import EventSourceMapping, event_source_mappings
from local_emulator.sqs.poller import QueuePoller

__all__ = ["EventSourceMapping", "QueuePoller", "event_source_mappings"]
