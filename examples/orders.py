"""Order processing: validate, then reserve stock and charge the card in parallel, then confirm."""

from __future__ import annotations

import asyncio

from pydantic import BaseModel, Field

from sdk import TerminalError, WorkflowContext, workflow


class OrderInput(BaseModel):
    order_id: str
    amount: int = Field(gt=0, description="amount in cents")


class OrderOutput(BaseModel):
    order_id: str
    status: str
    payment_id: str
    reservation_id: str


def validate_order(order: OrderInput) -> OrderInput:
    if order.order_id.strip() == "":
        raise TerminalError("an order needs an id")
    return order


def reserve_stock(order: OrderInput) -> str:
    return f"res-{order.order_id}"


async def charge_card(order: OrderInput, payment_id: str) -> str:
    return payment_id


def send_confirmation(order_id: str, payment_id: str) -> bool:
    return True


@workflow(id="process-order")
async def process_order(ctx: WorkflowContext, order: OrderInput) -> OrderOutput:
    checked = await ctx.step.run("validate", validate_order, order)
    payment_id = await ctx.step.uuid("payment-id")
    reservation, payment = await asyncio.gather(
        ctx.step.run("reserve", reserve_stock, checked),
        ctx.step.run("charge", charge_card, checked, f"pay-{payment_id}", max_retries=3),
    )
    await ctx.step.run("confirm", send_confirmation, checked.order_id, payment)
    return OrderOutput(
        order_id=checked.order_id,
        status="completed",
        payment_id=payment,
        reservation_id=reservation,
    )
