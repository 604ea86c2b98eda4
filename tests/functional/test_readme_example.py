"""The user test shown in the README: a workflow tested in-process, no AWS needed."""

from examples.orders import OrderOutput, process_order
from sdk import App, Client, Engine, InlineInvoker, MemoryJournal


def test_process_order_completes() -> None:
    app = App.from_modules(["examples"])
    journal = MemoryJournal()
    client = Client(app, journal, InlineInvoker(Engine(app, journal)))

    handle = process_order.invoke(client, {"order_id": "o-1", "amount": 42})

    result = handle.result(timeout=5)
    assert isinstance(result, OrderOutput) and result.status == "completed"
    assert sorted(journal.load_steps(handle.id)) == [
        "charge", "confirm", "payment-id", "reserve", "validate",
    ]  # fmt: skip
