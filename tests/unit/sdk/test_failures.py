"""Recorded errors: what is stored, and what replay rebuilds from it."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from sdk import failure_values
from sdk.errors import ChildWorkflowFailedError, StepFailedError, WorkflowFailedError
from sdk.failures import MESSAGE_BYTES, TRACEBACK_BYTES, ErrorInfo
from sdk.journal import StepRecord, StepStatus

RESPONSE: Any = {
    "Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
    "ResponseMetadata": {"HTTPStatusCode": 400, "RetryAttempts": 2},
}


class PaymentDeclined(Exception):
    def __init__(self, order_id: str, amount: float) -> None:
        super().__init__(f"payment of {amount} for {order_id} declined")
        self.order_id = order_id
        self.amount = amount


class Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text")


class BadRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def stored(exc: BaseException) -> ErrorInfo:
    """``exc`` recorded, then read back from a DynamoDB step item as JSON."""
    record = StepRecord("k", "run", "fn", StepStatus.FAILED, error=ErrorInfo.from_exception(exc))
    item = json.loads(json.dumps(record.to_item("e-1")))
    error = StepRecord.from_item(item).error
    assert error is not None
    return error


def replayed(exc: BaseException) -> Exception:
    return stored(exc).rebuild(step_key="k")


def raised(exc: BaseException) -> BaseException:
    """``exc`` after it was raised, so it has a traceback."""
    try:
        raise exc
    except BaseException as caught:
        return caught


def test_a_key_error_comes_back_as_itself() -> None:
    rebuilt = replayed(KeyError("sku-42"))
    assert (type(rebuilt), rebuilt.args, str(rebuilt)) == (KeyError, ("sku-42",), "'sku-42'")


def test_a_value_error_keeps_all_its_args() -> None:
    rebuilt = replayed(ValueError("bad", 3, [1.5, None], {"k": True}))
    assert type(rebuilt) is ValueError
    assert rebuilt.args == ("bad", 3, [1.5, None], {"k": True})


def test_an_os_error_keeps_errno_strerror_and_filename() -> None:
    rebuilt = replayed(OSError(2, "No such file or directory", "/tmp/in.csv"))
    assert type(rebuilt) is FileNotFoundError
    assert isinstance(rebuilt, FileNotFoundError)
    assert (rebuilt.errno, rebuilt.strerror, rebuilt.filename) == (
        2,
        "No such file or directory",
        "/tmp/in.csv",
    )


def test_a_unicode_decode_error_keeps_its_bytes_and_positions() -> None:
    with pytest.raises(UnicodeDecodeError) as failed:
        b"ok\xff".decode("utf-8")
    rebuilt = replayed(failed.value)
    assert isinstance(rebuilt, UnicodeDecodeError)
    assert (rebuilt.encoding, rebuilt.object, rebuilt.start, rebuilt.end) == (
        "utf-8",
        b"ok\xff",
        2,
        3,
    )
    assert str(rebuilt) == str(failed.value)


def test_a_client_error_keeps_its_response_and_operation() -> None:
    rebuilt = replayed(ClientError(RESPONSE, "PutItem"))
    assert type(rebuilt) is ClientError
    assert isinstance(rebuilt, ClientError)
    assert rebuilt.response == RESPONSE
    assert rebuilt.response["Error"]["Code"] == "ThrottlingException"
    assert rebuilt.operation_name == "PutItem"
    assert str(rebuilt) == str(ClientError(RESPONSE, "PutItem"))


def test_a_modeled_botocore_error_comes_back_as_client_error_saying_so() -> None:
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    exc = dynamodb.exceptions.ConditionalCheckFailedException(RESPONSE, "PutItem")
    error = stored(exc)
    assert error.type == "botocore.errorfactory:ConditionalCheckFailedException"
    assert error.base == "botocore.exceptions:ClientError"
    rebuilt = error.rebuild(step_key="k")
    assert type(rebuilt) is ClientError
    assert rebuilt.__notes__[0] == (
        "recorded as botocore.errorfactory:ConditionalCheckFailedException, "
        "rebuilt as its importable base botocore.exceptions:ClientError"
    )


def test_a_user_error_with_its_own_constructor_keeps_its_attributes() -> None:
    rebuilt = replayed(PaymentDeclined("o-7", 12.5))
    assert isinstance(rebuilt, PaymentDeclined)
    assert (rebuilt.order_id, rebuilt.amount) == ("o-7", 12.5)
    assert rebuilt.args == ("payment of 12.5 for o-7 declined",)


def test_a_child_failure_comes_back_with_its_ids() -> None:
    rebuilt = replayed(ChildWorkflowFailedError("c-1", "square", "ValueError", "no"))
    assert isinstance(rebuilt, ChildWorkflowFailedError)
    assert (rebuilt.execution_id, rebuilt.workflow_id, rebuilt.error_type, rebuilt.message) == (
        "c-1",
        "square",
        "ValueError",
        "no",
    )


def test_the_cause_chain_comes_back_as_the_cause() -> None:
    try:
        try:
            raise KeyError("sku-42")
        except KeyError as missing:
            raise PaymentDeclined("o-7", 1.0) from missing
    except PaymentDeclined as declined:
        rebuilt = replayed(declined)
    assert repr(rebuilt.__cause__) == "KeyError('sku-42')"
    assert rebuilt.__suppress_context__


def test_a_cause_chain_is_recorded_at_most_three_deep() -> None:
    exc: BaseException = ValueError("0")
    for n in range(1, 6):
        outer = ValueError(str(n))
        outer.__cause__ = exc
        exc = outer
    assert [cause.message for cause in stored(exc).causes] == ["4", "3", "2"]


def test_an_error_whose_str_raises_is_recorded_with_a_placeholder() -> None:
    error = stored(raised(Unprintable("x")))
    assert error.message == "<unprintable Unprintable>"
    assert "Unprintable" in error.traceback


def test_an_error_whose_str_raises_comes_back_as_itself() -> None:
    assert type(replayed(Unprintable("x"))) is Unprintable


def test_an_error_whose_argument_repr_raises_is_recorded_and_replays_as_step_failed() -> None:
    error = stored(KeyError(BadRepr()))
    assert (error.message, error.omitted) == ("<unprintable KeyError>", ("args",))
    rebuilt = error.rebuild(step_key="k")
    assert isinstance(rebuilt, StepFailedError)
    assert str(rebuilt) == "KeyError: <unprintable KeyError>"


def test_an_attribute_that_is_not_json_is_left_out_and_named() -> None:
    exc = PaymentDeclined("o-7", 1.0)
    exc.lock = object()  # type: ignore[attr-defined]
    rebuilt = replayed(exc)
    assert isinstance(rebuilt, PaymentDeclined) and rebuilt.order_id == "o-7"
    assert not hasattr(rebuilt, "lock")
    assert "not recorded (not JSON or too large): lock" in rebuilt.__notes__


def test_a_type_that_cannot_be_imported_replays_as_step_failed_naming_it() -> None:
    class Local(Exception):
        pass

    rebuilt = replayed(Local("odd"))
    assert isinstance(rebuilt, StepFailedError)
    assert (rebuilt.error_type, rebuilt.message) == (
        "test_a_type_that_cannot_be_imported_replays_as_step_failed_naming_it.<locals>.Local",
        "odd",
    )


def test_a_workflow_error_that_cannot_be_rebuilt_is_a_workflow_failed_error() -> None:
    rebuilt = ErrorInfo("gone.module:Missing", "lost").rebuild()
    assert isinstance(rebuilt, WorkflowFailedError)
    assert str(rebuilt) == "Missing: lost"


def test_a_local_subclass_comes_back_as_its_importable_base() -> None:
    class LocalKeyError(KeyError):
        pass

    rebuilt = replayed(LocalKeyError("k"))
    assert type(rebuilt) is KeyError and rebuilt.args == ("k",)


def test_a_first_format_record_rebuilds_from_its_message_as_before() -> None:
    old = {"type": "builtins:ValueError", "message": "bad value", "traceback": "tb"}
    rebuilt = ErrorInfo.from_dict(old).rebuild(step_key="k")
    assert (type(rebuilt), rebuilt.args) == (ValueError, ("bad value",))


def test_a_first_format_record_of_a_key_error_is_step_failed_as_before() -> None:
    old = {"type": "builtins:KeyError", "message": "'sku-42'", "traceback": "tb"}
    rebuilt = ErrorInfo.from_dict(old).rebuild(step_key="k")
    assert isinstance(rebuilt, StepFailedError)
    assert str(rebuilt) == "KeyError: 'sku-42'"


def test_the_record_is_a_map_of_strings_naming_only_what_it_holds() -> None:
    error = ErrorInfo.from_exception(PaymentDeclined("o-7", 12.5)).to_dict()
    assert sorted(error) == ["args", "attrs", "message", "traceback", "type"]
    assert all(isinstance(value, str) for value in error.values())
    assert json.loads(error["attrs"]) == {"order_id": "o-7", "amount": 12.5}


def test_a_huge_message_and_traceback_are_clipped_with_a_marker() -> None:
    error = stored(raised(ValueError("x" * 100_000)))
    assert len(error.message.encode()) < MESSAGE_BYTES + 100
    assert error.message.endswith("...[stepline: 91808 more bytes truncated]")
    assert len(error.traceback.encode()) < TRACEBACK_BYTES + 100
    assert "bytes truncated]..." in error.traceback


def test_a_record_stays_small_whatever_the_error_holds() -> None:
    exc = PaymentDeclined("o" * 50_000, 1.0)
    exc.blobs = ["b" * 5_000] * 20  # type: ignore[attr-defined]
    exc.__cause__ = ValueError("c" * 50_000)
    size = len(json.dumps(ErrorInfo.from_exception(raised(exc)).to_dict()).encode())
    assert size < 100_000


def test_a_huge_key_error_still_comes_back_as_a_key_error_marked_as_clipped() -> None:
    rebuilt = replayed(KeyError("k" * 100_000))
    assert type(rebuilt) is KeyError
    assert rebuilt.args[0].endswith("...[stepline: 91808 more characters truncated]")


def test_a_lone_surrogate_in_a_message_is_stored_escaped() -> None:
    error = stored(FileNotFoundError(2, "No such file", "bad-\udcff.txt"))
    error.message.encode("utf-8")  # DynamoDB takes only valid UTF-8
    rebuilt = error.rebuild(step_key="k")
    assert isinstance(rebuilt, FileNotFoundError) and rebuilt.filename == "bad-\udcff.txt"


def test_each_rebuild_is_a_fresh_exception() -> None:
    error = stored(KeyError("k"))
    first, second = error.rebuild(step_key="k"), error.rebuild(step_key="k")
    assert first is not second and len(first.__notes__) == len(second.__notes__) == 1


def test_the_record_round_trips_through_its_dict() -> None:
    exc = raised(OSError(13, "Permission denied", "/etc/shadow"))
    exc.__cause__ = PaymentDeclined("o-1", 2.0)
    error = ErrorInfo.from_exception(exc)
    assert ErrorInfo.from_dict(json.loads(json.dumps(error.to_dict()))) == error


@pytest.mark.parametrize(
    "value",
    [
        b"\x00\xff",
        ("a", (1, 2), [None, True]),
        {1: "int key", ("t",): "tuple key"},
        {"$tuple": "a tag-like key"},
        {"nested": {"$bytes": "looks tagged"}},
        [1.5, -0, "é", "\udcff"],
    ],
)
def test_exception_values_round_trip_through_json(value: Any) -> None:
    text = failure_values.dumps(value, 10_000)
    assert text is not None
    assert failure_values.loads(text) == value


@pytest.mark.parametrize("value", [object(), float("nan"), {"s": {1, 2}}])
def test_a_value_json_cannot_hold_is_not_stored(value: Any) -> None:
    assert failure_values.dumps(value, 10_000) is None


def test_a_cycle_is_not_stored() -> None:
    cycle: list[Any] = []
    cycle.append(cycle)
    assert failure_values.dumps(cycle, 10_000) is None
