from __future__ import annotations

import pytest

from kiwishop.platform.outbox import backoff_delay


@pytest.mark.parametrize(
    ("attempts", "expected"), [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (40, 30.0), (10_000, 30.0)]
)
def test_failed_rows_back_off_exponentially_up_to_a_cap(attempts: int, expected: float) -> None:
    assert backoff_delay(attempts, 0.5, 30.0) == expected
