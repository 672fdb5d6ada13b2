"""Query parameters the original accepted in two forms."""

from __future__ import annotations

MAX_ID = 2**63 - 1


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
