"""Workflows the tests run (module level, so recorded type tags resolve on replay)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime

from pydantic import BaseModel

from sdk import TerminalError, WorkflowContext, workflow
from tests.support import CALLS, effect


class Order(BaseModel):
    order_id: str
    amount: int


class Receipt(BaseModel):
    order_id: str
    total: int
    charged_at: datetime


@dataclasses.dataclass(frozen=True)
class Parcel:
    weight: float
    label: str


def validate(order: Order) -> Order:
    CALLS["validate"] += 1
    if order.amount <= 0:
        raise TerminalError(f"order {order.order_id} has a non-positive amount")
    return order


async def charge(order: Order, *, fee: int) -> Receipt:
    CALLS["charge"] += 1
    return Receipt(
        order_id=order.order_id, total=order.amount + fee, charged_at=datetime(2030, 1, 2)
    )


def pack(order: Order) -> Parcel:
    CALLS["pack"] += 1
    return Parcel(weight=order.amount / 10, label=f"parcel-{order.order_id}")


@workflow(id="order")
async def order_workflow(ctx: WorkflowContext, order: Order) -> Receipt:
    checked = await ctx.step.run("validate", validate, order)
    receipt = await ctx.step.run("charge", charge, checked, fee=1)
    parcel = await ctx.step.run("pack", pack, checked)
    assert isinstance(parcel, Parcel) and isinstance(receipt.charged_at, datetime)
    return receipt


@workflow(id="falsy")
async def falsy_workflow(ctx: WorkflowContext) -> list[object]:
    values: list[object] = []
    for key, value in [("zero", 0), ("empty-str", ""), ("false", False), ("none", None),
                       ("empty-list", []), ("empty-dict", {}), ("zero-float", 0.0)]:  # fmt: skip
        values.append(await ctx.step.run(key, effect, key, value))
    return values


@workflow(id="ten-steps")
async def ten_steps(ctx: WorkflowContext, crash_at: int | None = None) -> int:
    total = 0
    for i in range(1, 11):
        total += await ctx.step.run(f"step-{i}", effect, f"step-{i}", i)
    return total


@workflow(id="fan-out")
async def fan_out(ctx: WorkflowContext, width: int) -> list[int]:
    return list(
        await asyncio.gather(
            *(ctx.step.run(f"part-{i}", effect, f"part-{i}", i) for i in range(width))
        )
    )


@workflow(id="helpers")
async def helpers(ctx: WorkflowContext) -> dict[str, object]:
    return {
        "uuid": await ctx.step.uuid("id"),
        "random": await ctx.step.random("dice"),
        "now": (await ctx.step.now("clock")).isoformat(),
    }
