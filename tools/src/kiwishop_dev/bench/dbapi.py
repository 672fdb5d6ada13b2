"""A product's SQLAlchemy statement as the services' driver (asyncmy) receives it: for replays that talk to
MariaDB without SQLAlchemy yet send the services' own statements — one copy of each, in the product."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy.dialects.mysql.asyncmy import dialect as asyncmy_dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

_DIALECT = asyncmy_dialect()  # the services' driver: its SQL text, its %s markers


@functools.lru_cache(maxsize=256)
def _compiled(clause: ClauseElement, columns: tuple[str, ...] = ()) -> SQLCompiler:
    return cast(SQLCompiler, clause.compile(dialect=_DIALECT, column_keys=list(columns) or None))


def sql(clause: ClauseElement, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """``clause`` with ``params`` (expanding ``IN`` lists included) as the driver receives it: SQL text with %s
    markers, and the arguments in their order — ready for ``cursor.execute(*sql(...))``. An INSERT or UPDATE
    without ``values()`` sets the columns named in ``params``, as SQLAlchemy does when executing it."""
    state = _compiled(clause, tuple(params)).construct_expanded_state(params)
    return state.statement, [state.parameters[name] for name in state.positiontup or ()]


async def execute_many(cur: Any, insert: ClauseElement, rows: list[dict[str, Any]]) -> None:
    """A batched INSERT of ``rows`` as the services send it: the driver makes it one multi-row INSERT."""
    compiled = _compiled(insert, tuple(rows[0]))
    await cur.executemany(compiled.string, [[row[name] for name in compiled.positiontup or ()] for row in rows])
