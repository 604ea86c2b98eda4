"""Order fulfilment: reserve the items, ship them through a child workflow, notify the customer.

The child books a courier and waits for the pickup slot, holding no compute. A courier
that refuses the address fails the shipment with a ``TerminalError``; the parent releases
the reservation and fails too. Cancelling a fulfilment while its parcel waits for pickup
cancels the shipment with it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from sdk import TerminalError, WorkflowContext, workflow
from sdk.errors import ChildWorkflowFailedError

UNSERVED_PREFIX = "PO Box"


class Parcel(BaseModel):
    order_id: str
    address: str
    pickup_in_seconds: float = Field(default=1, ge=0, description="until the courier's slot")


class Shipment(BaseModel):
    order_id: str
    booking_id: str
    tracking_id: str


class FulfilmentInput(BaseModel):
    order_id: str
    items: list[str] = Field(min_length=1)
    address: str
    pickup_in_seconds: float = Field(default=1, ge=0)


class FulfilmentOutput(BaseModel):
    order_id: str
    reservation_id: str
    tracking_id: str
    notified: bool


def book_courier(parcel: Parcel) -> str:
    if parcel.address.startswith(UNSERVED_PREFIX):
        raise TerminalError(f"no courier delivers to {parcel.address!r}")
    return f"booking-{parcel.order_id}"


def hand_over(booking_id: str) -> str:
    return f"track-{booking_id.removeprefix('booking-')}"


def reserve_items(order_id: str, items: list[str]) -> str:
    return f"res-{order_id}-{len(items)}"


def release_items(reservation_id: str) -> bool:
    return True


def notify_customer(order_id: str, tracking_id: str) -> bool:
    return True


@workflow(id="ship-parcel")
async def ship_parcel(ctx: WorkflowContext, parcel: Parcel) -> Shipment:
    booking_id = await ctx.step.run("book-courier", book_courier, parcel)
    await ctx.step.wait_for("pickup-slot", seconds=parcel.pickup_in_seconds)
    tracking_id = await ctx.step.run("hand-over", hand_over, booking_id)
    return Shipment(order_id=parcel.order_id, booking_id=booking_id, tracking_id=tracking_id)


@workflow(id="fulfil-order")
async def fulfil_order(ctx: WorkflowContext, order: FulfilmentInput) -> FulfilmentOutput:
    reservation_id = await ctx.step.run("reserve", reserve_items, order.order_id, order.items)
    parcel = Parcel(
        order_id=order.order_id, address=order.address, pickup_in_seconds=order.pickup_in_seconds
    )
    try:
        shipment = await ctx.step.invoke_and_wait("ship", ship_parcel, parcel)
    except ChildWorkflowFailedError:
        await ctx.step.run("release", release_items, reservation_id)
        raise
    notified = await ctx.step.run("notify", notify_customer, order.order_id, shipment.tracking_id)
    return FulfilmentOutput(
        order_id=order.order_id,
        reservation_id=reservation_id,
        tracking_id=shipment.tracking_id,
        notified=notified,
    )
