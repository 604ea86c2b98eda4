"""The event-triggered workflows page: a notification handler, a workflow publishing an
event, and handlers of one topic: one per event, one per batch, one by prefix and type."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sdk import BatchEventPayload, EventPayload, WorkflowContext, workflow


def send_notification(notification: dict[str, str]) -> str:
    return f"sent to {notification['user_id']}: {notification['message']}"


@workflow(id="notification-handler", trigger_on_event="notifications/new")
async def notification_handler(ctx: WorkflowContext, payload: EventPayload) -> str:
    return str(await ctx.step.run("send", send_notification, payload.data))


class CreateUserInput(BaseModel):
    name: str
    email: str


class User(BaseModel):
    id: str
    name: str
    email: str


def create_user_record(user_input: CreateUserInput, user_id: str) -> User:
    return User(id=user_id, name=user_input.name, email=user_input.email)


@workflow(id="create-user")
async def create_user(ctx: WorkflowContext, user_input: CreateUserInput) -> dict[str, str]:
    user_id = await ctx.step.uuid("user-id")
    user = await ctx.step.run("create", create_user_record, user_input, user_id)
    # starts user-signup-handler (examples/signups.py), once, however often this replays
    await ctx.step.publish_event(
        "publish_signup",
        topic="user/signup",
        data={"user_id": user.id, "email": user.email, "name": user.name},
        event_type="user_created",
    )
    return {"user_id": user.id}


def send_order_confirmation(order_id: str) -> str:
    return f"confirmation for {order_id}"


def record_order_metrics(order_id: str, total: float) -> float:
    return total


@workflow(id="immediate-handler", trigger_on_event="order/created")
async def immediate_handler(ctx: WorkflowContext, payload: EventPayload) -> dict[str, str]:
    """Process each order at once."""
    await ctx.step.run("send_confirmation", send_order_confirmation, payload.data["order_id"])
    return {"handler": "immediate"}


def update_analytics(order_ids: list[str]) -> int:
    return len(order_ids)


@workflow(
    id="batched-handler",
    trigger_on_event="order/created",
    batch_size=5,
    batch_timeout_seconds=60,
)
async def batched_handler(ctx: WorkflowContext, payload: BatchEventPayload) -> dict[str, Any]:
    """Orders in batches for analytics: up to 5 events, or what came within 60 seconds."""
    order_ids = [event.data["order_id"] for event in payload.events]
    await ctx.step.run("batch_analytics", update_analytics, order_ids)
    return {"handler": "batched", "count": len(payload.events)}


@workflow(id="order-metrics-handler", trigger_on_event="order/*", event_types=["created"])
async def order_metrics_handler(ctx: WorkflowContext, payload: EventPayload) -> dict[str, str]:
    """Every order topic, only events of type ``created``: a prefix and a type filter."""
    await ctx.step.run(
        "metrics", record_order_metrics, payload.data["order_id"], payload.data["total"]
    )
    return {"handler": "metrics", "topic": payload.topic}
