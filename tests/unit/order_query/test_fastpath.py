"""Which history requests the fast path may answer itself: only the canonical spellings."""

from __future__ import annotations

import pytest

from kiwishop.order_query.fastpath import parse_query


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (b"", (None, 10)),
        (b"limit=25", (None, 25)),
        (b"paymentEventNo=123&limit=100", (123, 100)),
        (b"limit=1&paymentEventNo=9223372036854775807", (9223372036854775807, 1)),
    ],
)
def test_canonical_queries_are_parsed(query: bytes, expected: tuple[int | None, int]) -> None:
    assert parse_query(query) == expected


@pytest.mark.parametrize(
    "query",
    [
        b"limit=0", b"limit=101", b"limit=x", b"limit=", b"limit=010", b"limit=+5", b"limit=10&limit=5",
        b"paymentEventNo=0", b"paymentEventNo=9223372036854775808", b"paymentEventNo=-1", b"other=1", b"limit",
        b"limit=1%30",
    ],
)  # fmt: skip
def test_anything_else_is_left_to_the_route(query: bytes) -> None:
    assert parse_query(query) is None
