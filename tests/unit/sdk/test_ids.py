"""Execution ids: the rule a chosen id must follow, with messages naming the id and the rule."""

from __future__ import annotations

import pytest

from sdk.errors import InvalidExecutionIdError
from sdk.ids import check_execution_id, derived_id, new_execution_id

RULE = "an execution id may contain only ASCII letters, digits, '-', '_', '.' and ':'"


@pytest.mark.parametrize(
    "execution_id",
    ["a", "order-77", "tenant:42.retry_3", "x" * 200, new_execution_id(), derived_id("p", "k")],
)
def test_ids_of_letters_digits_and_four_marks_up_to_200_characters_are_valid(
    execution_id: str,
) -> None:
    assert check_execution_id(execution_id) == execution_id


@pytest.mark.parametrize(
    ("execution_id", "message"),
    [
        ("order 1", f"execution id 'order 1' contains ' '; {RULE}"),
        ("a/b", f"execution id 'a/b' contains '/'; {RULE}"),
        ("\u00fc", f"execution id '\u00fc' contains '\u00fc'; {RULE}"),
        ("a%20b", f"execution id 'a%20b' contains '%'; {RULE}"),
        ("line\n", "contains '\\n'"),
        ("x" * 201, "execution id '" + "x" * 40 + "...' is 201 characters long; the limit is 200"),
        ("", "an execution id must not be empty"),
        (7, "an execution id must be a string, got int"),
    ],
)
def test_an_id_breaking_the_rule_is_refused_naming_it_and_the_rule(
    execution_id: object, message: str
) -> None:
    with pytest.raises(InvalidExecutionIdError) as raised:
        check_execution_id(execution_id)
    assert message in str(raised.value)


def test_the_refusal_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="contains ' '"):
        check_execution_id("order 1")
