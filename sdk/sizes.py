"""Sizes and limits of what Stepline stores, computed the way DynamoDB computes them.

A DynamoDB item holds at most 400 KB: the UTF-8 lengths of its attribute names plus
the sizes of their values. Every journal write is measured with ``item_size`` before
it is sent (both journals refuse what AWS would refuse), long texts such as error
tracebacks are cut with a visible marker (``truncated``), and values past the item
limit go to a value store (``sdk.values``) up to its own maximum.

This module imports nothing from Stepline, so the records at the bottom can use it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

ITEM_LIMIT = 400 * 1024  # DynamoDB's item size limit, in bytes
# The largest value a journal item holds inline; the rest of the item (keys up to
# 900 bytes, names, timestamps, a type tag) fits in what is left under ``ITEM_LIMIT``.
MAX_INLINE_VALUE = 400_000
# Values up to this size stay on the execution item itself (no extra item, no extra
# read to start it); longer inputs and outputs get an item of their own.
EXECUTION_INLINE_VALUE = 256
DEFAULT_MAX_VALUE = 10 * 1024 * 1024  # the largest value a value store takes by default
# Recorded errors keep this much of their message and of their traceback.
MAX_ERROR_MESSAGE = 16 * 1024
MAX_ERROR_TRACEBACK = 32 * 1024


def utf8_len(text: str) -> int:
    """The UTF-8 length of ``text`` (cheap for ASCII-only text)."""
    return len(text) if text.isascii() else len(text.encode())


def truncated(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, ending with a visible marker."""
    size = utf8_len(text)
    if size <= limit:
        return text
    marker = f"…[truncated {size} bytes]"
    keep = max(limit - utf8_len(marker), 0)
    head = text.encode()[:keep].decode(errors="ignore")
    cut = size - utf8_len(head)
    return f"{head}…[truncated {cut} bytes]"


def _number_size(text: str) -> int:
    """DynamoDB's size of a number: about one byte per two significant digits, plus one."""
    digits = Decimal(text).normalize().as_tuple().digits
    return (len(digits) + 1) // 2 + 1


def attribute_size(attr: dict[str, Any]) -> int:
    """The size DynamoDB counts for one typed attribute value (``{"S": ...}``, ...)."""
    ((kind, value),) = attr.items()
    if kind == "S":
        return utf8_len(value)
    if kind == "N":
        return _number_size(value)
    if kind == "B":
        return len(value)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "M":
        return 3 + sum(utf8_len(name) + attribute_size(v) + 1 for name, v in value.items())
    if kind == "L":
        return 3 + sum(attribute_size(v) + 1 for v in value)
    if kind == "SS":
        return sum(utf8_len(v) for v in value)
    if kind == "NS":
        return sum(_number_size(v) for v in value)
    return sum(len(v) for v in value)  # BS


def item_size(item: dict[str, Any]) -> int:
    """The size DynamoDB counts for ``item``: names plus values, in bytes."""
    return sum(utf8_len(name) + attribute_size(attr) for name, attr in item.items())
