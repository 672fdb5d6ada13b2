"""JSON with the house conventions: Decimal as a number with its own digits (1000.00), datetimes as
ISO-8601 strings, never floats for money."""

from __future__ import annotations

import datetime as dt
import decimal
import json
from typing import Any

import orjson


def _default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return orjson.Fragment(format(value, "f"))
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, default=_default, option=orjson.OPT_PASSTHROUGH_DATETIME)


def loads(raw: bytes | str) -> Any:
    """Parse JSON keeping every non-integer number as Decimal (money stays exact)."""
    return json.loads(raw, parse_float=decimal.Decimal)


def utc_iso(moment: dt.datetime) -> str:
    """ISO-8601 in UTC with millisecond precision and a Z suffix."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
