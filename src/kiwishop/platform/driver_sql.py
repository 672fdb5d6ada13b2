"""Hot-path SQL straight through the driver (asyncmy), inside a unit of work (``UnitOfWork.run``).

A statement is still written once, as a SQLAlchemy statement (a module constant beside its row builders), but
it is compiled for asyncmy once and then sent by the driver itself: SQLAlchemy's execution machinery (the
greenlet bridge, the execution context, result processing) costs about 100 µs of CPU per statement here, more
than the driver and the round trip together. The same compiled text is what the benchmark's DB-limit replay
sends (``sql``).

What SQLAlchemy would do around a statement is kept: driver errors become SQLAlchemy's exceptions
(``IntegrityError``, ``OperationalError``…, with the MySQL error in ``orig``), so the callers' handling of key
clashes, deadlocks and outages doesn't change; a connection that dropped, or a statement interrupted half-way
(a cancelled request), invalidates the connection so the pool never hands it out again. Enum parameters are
sent by value, as SQLAlchemy's bind processing does. Rows come back as named tuples.
"""

from __future__ import annotations

import enum
import functools
from collections import namedtuple
from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy.dialects.mysql.asyncmy import dialect as asyncmy_dialect
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

DIALECT = asyncmy_dialect()  # the services' driver: its SQL text, its %s markers


@functools.lru_cache(maxsize=512)
def compiled(clause: ClauseElement, columns: tuple[str, ...] = ()) -> SQLCompiler:
    """``clause`` compiled for asyncmy; an INSERT or UPDATE without ``values()`` sets ``columns``."""
    return cast(SQLCompiler, clause.compile(dialect=DIALECT, column_keys=list(columns) or None))


def driver_args(args: Sequence[Any]) -> list[Any]:
    """The arguments as SQLAlchemy's bind processing hands them to the driver (enums by value)."""
    return [a.value if isinstance(a, enum.Enum) else a for a in args]


@functools.lru_cache(maxsize=512)
def _plan(clause: ClauseElement, columns: tuple[str, ...]) -> tuple[str, tuple[str, ...], dict[str, Any]] | None:
    """The text, its parameters' names in order, and the values the statement itself holds (``status == 'INIT'``);
    None when the statement has lists to expand (``IN``) or values rendered at run time."""
    c = compiled(clause, columns)
    if c.literal_execute_params or c.post_compile_params:
        return None
    names = tuple(c.positiontup or ())
    fixed = {name: c.binds[name].effective_value for name in names if name not in columns and name in c.binds}
    return c.string, names, fixed


def sql(clause: ClauseElement, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """``clause`` with ``params`` (expanding ``IN`` lists included) as the driver receives it: SQL text with %s
    markers, and the arguments in their order — ready for ``cursor.execute(*sql(...))``. An INSERT or UPDATE
    without ``values()`` sets the columns named in ``params``, as SQLAlchemy does when executing it."""
    columns = tuple(params)
    plan = _plan(clause, columns)
    if plan is not None:
        text, names, fixed = plan
        return text, driver_args([params[name] if name in params else fixed[name] for name in names])
    state = compiled(clause, columns).construct_expanded_state(params)
    return state.statement, driver_args([state.parameters[name] for name in state.positiontup or ()])


def many(insert: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> tuple[str, list[list[Any]]]:
    """A batched INSERT of ``rows`` (all with the same keys): the text and each row's arguments — the driver's
    ``executemany`` makes it one multi-row INSERT."""
    c = compiled(insert, tuple(rows[0]))
    names = c.positiontup or ()
    return c.string, [driver_args([row[name] for name in names]) for row in rows]


@functools.lru_cache(maxsize=256)
def row_type(names: tuple[str, ...]) -> type[tuple[Any, ...]]:
    return namedtuple("Row", names, rename=True)  # the names are known at run time only


class DriverResult:
    """What a statement returned: its rows (named tuples) and the rows it matched (``rowcount``)."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Any]:
        return self.rows

    def scalar(self) -> Any | None:
        return self.rows[0][0] if self.rows else None

    def __iter__(self) -> Any:
        return iter(self.rows)


def result_of(description: Sequence[Sequence[Any]] | None, raw: Sequence[Sequence[Any]], rowcount: int) -> DriverResult:
    if not description:
        return DriverResult([], rowcount)
    make = row_type(tuple(d[0] for d in description))
    return DriverResult([make(*r) for r in raw], rowcount)


def translated(dialect: Dialect, statement: str | None, args: Any, exc: Exception) -> tuple[BaseException, bool]:
    """The exception SQLAlchemy would raise for the driver's ``exc`` (a ``DBAPIError`` with the driver's error in
    ``orig``), and whether the connection is lost and must be invalidated — any error that isn't the driver's
    leaves the connection in an unknown state."""
    dbapi = dialect.loaded_dbapi
    if isinstance(exc, AttributeError):  # asyncmy's way of failing on a closed socket (as SQLAlchemy's adapter)
        exc = dbapi.InternalError("network operation failed due to asyncmy attribute error")
    if not isinstance(exc, dbapi.Error):
        return exc, True
    lost = bool(dialect.is_disconnect(exc, None, None))
    return DBAPIError.instance(statement, args, exc, dbapi.Error, connection_invalidated=lost), lost
