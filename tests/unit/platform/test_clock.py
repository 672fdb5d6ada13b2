from __future__ import annotations

import datetime as dt

from kiwishop.platform.clock import utcnow, utcnow_aware


def test_row_times_are_naive_utc_with_millisecond_precision() -> None:
    now = utcnow()
    assert now.tzinfo is None
    assert now.microsecond % 1000 == 0
    assert abs(now - dt.datetime.now(dt.UTC).replace(tzinfo=None)) < dt.timedelta(seconds=5)


def test_the_aware_clock_is_utc() -> None:
    now = utcnow_aware()
    assert now.utcoffset() == dt.timedelta(0)
    assert abs(now - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=5)
