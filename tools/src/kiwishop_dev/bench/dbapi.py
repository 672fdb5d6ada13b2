"""A product's statement sent the way the services send it (``kiwishop.platform.driver_sql``), on a bare asyncmy
cursor: for replays that talk to MariaDB without the services yet send their own statements."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.sql.expression import ClauseElement

from kiwishop.platform.driver_sql import many, sql


async def run(cur: Any, clause: ClauseElement, params: Mapping[str, Any]) -> Any:
    """``clause`` with ``params`` on ``cur``, as ``UnitOfWork.run`` sends it."""
    await cur.execute(*sql(clause, params))
    return cur


async def execute_many(cur: Any, insert: ClauseElement, rows: list[dict[str, Any]]) -> None:
    """A batched INSERT of ``rows`` as ``UnitOfWork.run_many`` sends it: one multi-row INSERT."""
    await cur.executemany(*many(insert, rows))
