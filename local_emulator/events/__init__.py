"""EventBridge in the emulator: events put on a bus reach the Lambda targets of its rules.

moto keeps the buses and answers ``PutEvents``, but a rule with a Lambda target makes
moto's ``PutEvents`` fail and moto would never run the function anyway: the stack's rules
stay with the emulator (``local_emulator.stack``), and the gateway hands each accepted
entry to ``EventDispatcher``, which matches it against them with moto's own pattern
matching and invokes the targets asynchronously, as EventBridge does.
"""

from local_emulator.events.dispatch import EventDispatcher, EventRoute, event_routes

__all__ = ["EventDispatcher", "EventRoute", "event_routes"]
