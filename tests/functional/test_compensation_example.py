"""The compensation example on the stepline fixture: a failed payment is refunded once."""

from __future__ import annotations

from typing import Any

import pytest

from examples.compensation import Invoice, pay_invoice
from sdk import TerminalError


def test_a_failed_payment_is_refunded_once_with_its_input_and_error(stepline: Any) -> None:
    handle = stepline.invoke(pay_invoice, Invoice(invoice_id="inv-7", amount=5_000))
    with pytest.raises(TerminalError, match="card limit exceeded"):
        handle.result(timeout=5)
    [refund] = stepline.client.list_executions(workflow_id="refund-invoice")
    assert stepline.client.output_of(stepline.client.wait(refund.execution_id, timeout=5)) == {
        "failed_execution": handle.id, "released": "released hold-inv-7",
    }  # fmt: skip
    assert [s.key for s in stepline.steps(refund.execution_id)] == ["release", "notify"]
    stepline.advance(minutes=5)  # whatever else happens, it ran once
    assert len(stepline.client.list_executions(workflow_id="refund-invoice")) == 1


def test_a_payment_that_succeeds_starts_no_refund(stepline: Any) -> None:
    handle = stepline.invoke(pay_invoice, Invoice(invoice_id="inv-8", amount=50))
    assert handle.result(timeout=5) == "captured-hold-inv-8"
    assert stepline.client.list_executions(workflow_id="refund-invoice") == []
