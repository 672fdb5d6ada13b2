"""The services' notion of now."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    """Now in UTC, naive (DATETIME columns hold UTC), at millisecond precision (what DATETIME(3) stores)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def utcnow_aware() -> dt.datetime:
    """Now in UTC, timezone-aware, full precision: for clocks read as instants (timestamps, ISO-8601 stamps)."""
    return dt.datetime.now(dt.UTC)
