"""Compensation: when an invoice payment fails, a workflow subscribed to its lifecycle
events refunds what was taken and tells the customer.

``refund-invoice`` subscribes to ``lifecycle/pay-invoice`` (the lifecycle topic of
``pay-invoice``) for ``workflow_fail`` only. It runs once per failed payment, with the
failed execution's id, input and error.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from sdk import EventPayload, TerminalError, WorkflowContext, workflow


class Invoice(BaseModel):
    invoice_id: str
    amount: int
    card_limit: int = 1_000


def hold_funds(invoice: Invoice) -> str:
    return f"hold-{invoice.invoice_id}"


def capture_funds(invoice: Invoice, hold: str) -> str:
    if invoice.amount > invoice.card_limit:
        raise TerminalError(f"card limit exceeded: {invoice.amount} > {invoice.card_limit}")
    return f"captured-{hold}"


def release_hold(invoice_id: str) -> str:
    return f"released hold-{invoice_id}"


def notify_customer(invoice_id: str, reason: str) -> bool:
    return True


@workflow(id="pay-invoice")
async def pay_invoice(ctx: WorkflowContext, invoice: Invoice) -> str:
    hold = await ctx.step.run("hold", hold_funds, invoice)
    captured: str = await ctx.step.run("capture", capture_funds, invoice, hold)
    return captured


@workflow(id="refund-invoice", trigger_on_event="lifecycle/pay-invoice",
          event_types=["workflow_fail"])  # fmt: skip
async def refund_invoice(ctx: WorkflowContext, event: EventPayload) -> dict[str, Any]:
    failed = event.data  # the failed execution: its id, workflow, input and error
    invoice_id = failed["input"]["invoice_id"]
    released = await ctx.step.run("release", release_hold, invoice_id)
    await ctx.step.run("notify", notify_customer, invoice_id, failed["error"]["message"])
    return {"failed_execution": failed["execution_id"], "released": released}
