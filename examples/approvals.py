"""The workflows page's approval: a request waits, holding no compute, for its answer."""

from __future__ import annotations

from pydantic import BaseModel

from sdk import EventWaitTimeoutError, WorkflowContext, workflow


class ApprovalWorkflowInput(BaseModel):
    request_id: str
    action: str


def process_request(request: ApprovalWorkflowInput) -> dict[str, str]:
    return {"request_id": request.request_id, "action": request.action}


def execute_action(request: dict[str, str]) -> str:
    return f"executed {request['action']}"


@workflow(id="approval-workflow")
async def approval_workflow(ctx: WorkflowContext, request: ApprovalWorkflowInput) -> str:
    processed = await ctx.step.run("process", process_request, request)
    try:
        # each request has its own topic: an answer for another request never satisfies it
        approval = await ctx.step.wait_for_event(
            "wait_approval", topic=f"approval.response/{request.request_id}", timeout=86_400
        )
    except EventWaitTimeoutError:
        return "expired: nobody answered within a day"
    if approval.data["approved"]:
        return str(await ctx.step.run("execute", execute_action, processed))
    return "rejected"
