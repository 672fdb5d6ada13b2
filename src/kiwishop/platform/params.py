"""Query parameters shared by every service: id lists in two forms, and the one paging rule.

Paging: every paged list takes ``limit`` from 1 to ``PAGE_LIMIT_MAX`` (anything else — 0, 101, -1, abc — is
a 400, never clamped; each list keeps its own default) and answers ``nextCursor``: a string to pass back as
the list's cursor parameter for the next page, or null when there is none.
"""

from __future__ import annotations

MAX_ID = 2**63 - 1
PAGE_LIMIT_MAX = 100  # routes take it as ``limit: PageLimit = <default>`` (platform/deps.py)


def next_cursor(last_seen: int | None) -> str | None:
    """``nextCursor`` as every list writes it: the last item's number as a string, or None (no next page)."""
    return None if last_seen is None else str(last_seen)


def parse_id_list(values: list[str]) -> list[int] | str:
    """Ids in the repeated (``?p=1&p=2``) and comma (``?p=1,2``) forms; sorted, unique.

    Returns the first offending element instead when one is not a positive 64-bit integer.
    """
    ids: set[int] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if not part:
                continue
            if not part.isascii() or not part.isdigit() or len(part) > 19 or not 1 <= int(part) <= MAX_ID:
                return part
            ids.add(int(part))
    return sorted(ids)
