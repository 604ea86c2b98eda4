"""A signup handler, triggered by ``user/signup`` events."""

from __future__ import annotations

from sdk import EventPayload, WorkflowContext, workflow


def send_welcome_email(user_id: str, email: str) -> str:
    return f"welcome mail queued for {email}"


def create_sample_data(user_id: str) -> int:
    return 3


@workflow(id="user-signup-handler", trigger_on_event="user/signup")
async def user_signup_handler(ctx: WorkflowContext, payload: EventPayload) -> dict[str, str]:
    user_id = payload.data["user_id"]
    await ctx.step.run("send_welcome", send_welcome_email, user_id, payload.data["email"])
    await ctx.step.run("setup_account", create_sample_data, user_id)
    return {"status": "onboarded", "user_id": user_id}
