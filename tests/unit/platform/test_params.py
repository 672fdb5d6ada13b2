from __future__ import annotations

import pytest

from kiwishop.platform.params import parse_id_list


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "3"], [1, 3]),
        (["1,2"], [1, 2]),
        (["3,1", "2", "1"], [1, 2, 3]),
        ([""], []),
        (["1,,2,"], [1, 2]),
        ([" 2 "], [2]),
    ],
)
def test_repeated_and_comma_forms_give_sorted_unique_ids(values: list[str], expected: list[int]) -> None:
    assert parse_id_list(values) == expected


@pytest.mark.parametrize("bad", ["x", "1.5", "-1", "0", "9223372036854775808", "١", "1e3"])
def test_a_non_positive_or_non_numeric_element_is_returned_as_the_culprit(bad: str) -> None:
    assert parse_id_list(["1", bad]) == bad
