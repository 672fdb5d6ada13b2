from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kiwishop.platform import jsonutil


def test_decimals_are_written_as_exact_numbers_and_read_back_as_decimals() -> None:
    raw = jsonutil.dumps({"a": Decimal("0.10"), "b": Decimal("0.20"), "c": Decimal("1000.00")})
    assert raw == b'{"a":0.10,"b":0.20,"c":1000.00}'
    back = jsonutil.loads(raw)
    assert back["a"] + back["b"] == Decimal("0.30")
    assert isinstance(back["c"], Decimal)


def test_datetimes_are_iso_strings_in_utc() -> None:
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone(dt.timedelta(hours=9)))
    assert jsonutil.utc_iso(moment) == "2026-01-01T18:04:05.678Z"
    assert jsonutil.dumps({"t": moment}) == b'{"t":"2026-01-02T03:04:05.678000+09:00"}'
