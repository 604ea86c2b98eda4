"""Values in and out of the journal."""

from __future__ import annotations

import dataclasses
import enum
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from pydantic import BaseModel

from sdk import serde
from sdk.errors import SerializationError


class Item(BaseModel):
    name: str
    at: datetime


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    y: int


class Color(enum.Enum):
    RED = "red"


@pytest.mark.parametrize(
    "value",
    [
        Item(name="a", at=datetime(2030, 1, 1, tzinfo=UTC)),
        Point(1, 2),
        datetime(2030, 1, 1, 12, 30, tzinfo=UTC),
        date(2030, 1, 1),
        uuid.UUID(int=7),
        Decimal("1.10"),
        Color.RED,
    ],
)
def test_typed_values_come_back_from_their_tag(value: object) -> None:
    text = serde.dumps(value, what="step 'x'")
    assert serde.loads(text, tag=serde.type_tag(value)) == value


def test_an_annotation_wins_over_the_tag() -> None:
    text = serde.dumps([Point(1, 2)], what="step 'x'")
    assert serde.loads(text, annotation=list[Point]) == [Point(1, 2)]


def test_an_unstorable_value_names_what_was_stored() -> None:
    with pytest.raises(SerializationError, match="cannot store the value of step 'x' as JSON"):
        serde.dumps({"sock": object()}, what="step 'x'")


def test_nan_is_refused() -> None:
    with pytest.raises(SerializationError, match="step 'x'"):
        serde.dumps(float("nan"), what="step 'x'")


def test_a_tag_whose_type_is_gone_gives_the_plain_json() -> None:
    assert serde.loads('{"x":1}', tag="nowhere.module:Gone") == {"x": 1}


def test_a_value_too_large_for_a_journal_record_is_refused_naming_it() -> None:
    with pytest.raises(SerializationError, match=r"step 'x' is 400002 bytes of JSON, more than"):
        serde.dumps("x" * 400_000, what="step 'x'")
