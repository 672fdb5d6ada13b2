"""Async engine and unit of work.

``async with db.uow() as uow:`` opens a connection and a transaction; nothing is committed unless the
handler calls ``await uow.commit()``; leaving the block otherwise rolls back. Never hold a unit of work
across a network call.
"""

from __future__ import annotations

import asyncio
import logging
import random
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import ClauseElement

from kiwishop.platform import driver_sql
from kiwishop.platform.driver_sql import DriverResult
from kiwishop.platform.settings import InfraSettings

T = TypeVar("T")
log = logging.getLogger("kiwishop.db")


class ConflictError(Exception):
    """An optimistic-lock check failed (0 rows matched ``WHERE ... AND version = :v``)."""


_TRANSIENT_MYSQL_ERRORS = {1205, 1213}  # lock wait timeout, deadlock: the transaction was rolled back


def is_transient(exc: BaseException) -> bool:
    """A conflict or a deadlock/lock timeout: the whole transaction may simply be run again."""
    if isinstance(exc, ConflictError):
        return True
    if isinstance(exc, DBAPIError) and exc.orig is not None and exc.orig.args:
        return exc.orig.args[0] in _TRANSIENT_MYSQL_ERRORS
    return False


# can't connect, server shutting down / gone away / lost connection, connection killed, too many connections,
# read-only (a failover in progress: --read-only 1290, read-only mode 1836)
_UNAVAILABLE_MYSQL_ERRORS = {2002, 2003, 2005, 2006, 2013, 1053, 1927, 4031, 1040, 1290, 1836}


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or dropped the connection: nothing is wrong with the work itself,
    and the same work will succeed once the server is back."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    return exc.orig is not None and bool(exc.orig.args) and exc.orig.args[0] in _UNAVAILABLE_MYSQL_ERRORS


def database_url(infra: InfraSettings, db_name: str | None) -> URL:
    return URL.create(
        "mysql+asyncmy",
        username=infra.db_user,
        password=infra.db_password.get_secret_value(),
        host=infra.db_host,
        port=infra.db_port,
        database=db_name or None,
        query={"charset": "utf8mb4"},
    )


def ssl_context(infra: InfraSettings) -> ssl.SSLContext | None:
    """TLS to MySQL, or None (the local stack). With TLS the server's certificate is always verified — against
    ``db_ssl_ca``, else the system's CAs — and its name against ``db_host`` unless ``db_ssl_verify_identity`` is
    off (MySQL's VERIFY_CA): encryption without verification would not stop a man in the middle. asyncmy sends
    the TLS request whatever the server announces, so a server without TLS is refused, never used in clear."""
    if not (infra.db_ssl_required or infra.db_ssl_ca):
        return None
    context = ssl.create_default_context(cafile=infra.db_ssl_ca or None)
    context.check_hostname = infra.db_ssl_verify_identity
    return context


def connect_args(infra: InfraSettings) -> dict[str, Any]:
    """asyncmy's connect() arguments of every engine (services and migrations): sessions in UTC, TLS if set."""
    args: dict[str, Any] = {"init_command": "SET time_zone = '+00:00'"}
    context = ssl_context(infra)
    if context is not None:
        args["ssl"] = context
    return args


def create_engine(infra: InfraSettings, db_name: str | None, *, pool_size: int, max_overflow: int) -> AsyncEngine:
    """An engine whose sessions run in UTC with READ COMMITTED (no gap locks for SKIP LOCKED claims)."""
    return create_async_engine(
        database_url(infra, db_name),
        pool_size=pool_size,
        max_overflow=max_overflow,
        # No pre-ping (a round trip per checkout): a connection found dead is invalidated on first use and
        # the request answers 503 (see web.py); consumers and workers retry.
        pool_recycle=1800,
        # A Connection ends its own transaction when closed (commit, or rollback of anything left open),
        # so the pool's extra ROLLBACK on every check-in would only cost a round trip.
        pool_reset_on_return=None,
        isolation_level="READ COMMITTED",
        connect_args=connect_args(infra),
    )


class UnitOfWork:
    """One connection, one transaction; explicit commit, rollback by default. ``run`` / ``run_many`` send a
    statement straight through the driver (``driver_sql``): the hot paths' way; ``conn`` is SQLAlchemy's."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._conn: AsyncConnection | None = None
        self._driver: Any = None
        self._committed = False
        self.wrote_outbox = False

    async def run(self, clause: ClauseElement, params: Mapping[str, Any] | None = None) -> DriverResult:
        """``clause`` with ``params``, sent by the driver inside this transaction."""
        statement, args = driver_sql.sql(clause, params or {})
        return await self._send(statement, args, many=False)

    async def run_many(self, insert: ClauseElement, rows: Sequence[Mapping[str, Any]]) -> None:
        """A batched INSERT of ``rows`` (one multi-row statement); nothing for no rows."""
        if rows:
            statement, args = driver_sql.many(insert, rows)
            await self._send(statement, args, many=True)

    async def _send(self, statement: str, args: Any, *, many: bool) -> DriverResult:
        if self._driver is None:
            self._driver = (await self.conn.get_raw_connection()).driver_connection
        try:
            async with self._driver.cursor() as cursor:
                if many:
                    await cursor.executemany(statement, args)
                else:
                    await cursor.execute(statement, args)
                rows = await cursor.fetchall() if cursor.description else ()
                return driver_sql.result_of(cursor.description, rows, cursor.rowcount)
        except Exception as exc:
            raise await self._translated(statement, args, exc) from exc
        except BaseException:
            await self._invalidate()  # interrupted half-way (cancelled): the protocol state is unknown
            raise

    async def _translated(self, statement: str, args: Any, exc: Exception) -> BaseException:
        """The error SQLAlchemy would have raised for ``exc``; a lost connection is invalidated first."""
        dbapi = self._db.engine.dialect.loaded_dbapi
        if isinstance(exc, AttributeError):  # asyncmy's way of failing on a closed socket (as SQLAlchemy's adapter)
            exc = dbapi.InternalError("network operation failed due to asyncmy attribute error")
        if not isinstance(exc, dbapi.Error):
            await self._invalidate()
            return exc
        lost = self._db.engine.dialect.is_disconnect(exc, None, None)
        if lost:
            await self._invalidate()
        return DBAPIError.instance(statement, args, exc, dbapi.Error, connection_invalidated=lost)

    async def _invalidate(self) -> None:
        self._driver = None
        if self._conn is not None:
            try:
                await self._conn.invalidate()
            except Exception:
                log.debug("invalidating a broken connection failed", exc_info=True)

    @property
    def conn(self) -> AsyncConnection:
        if self._conn is None:
            raise RuntimeError("unit of work is not open")
        return self._conn

    async def __aenter__(self) -> UnitOfWork:
        self._conn = await self._db.engine.connect()
        await self._conn.begin()
        return self

    async def commit(self) -> None:
        await self.conn.commit()
        self._committed = True
        if self.wrote_outbox:
            self._db.notify_outbox_commit()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, self._conn, self._driver = self._conn, None, None
        if conn is None:
            return
        try:
            try:
                if not self._committed and conn.in_transaction():
                    await conn.rollback()
            finally:
                await conn.close()
        except Exception:
            if exc is None:
                raise
            # the block failed already (a lost connection, typically): that error is the answer, not this one
            log.debug("cleaning up a failed unit of work failed too", exc_info=True)


class Database:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._outbox_listeners: list[Callable[[], None]] = []

    @classmethod
    def connect(cls, infra: InfraSettings, db_name: str, *, pool_size: int = 10, max_overflow: int = 10) -> Database:
        return cls(create_engine(infra, db_name, pool_size=pool_size, max_overflow=max_overflow))

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self)

    def on_outbox_commit(self, listener: Callable[[], None]) -> None:
        self._outbox_listeners.append(listener)

    def notify_outbox_commit(self) -> None:
        """Wake the relay. The commit has happened: a listener that fails must not fail the caller's request
        (the relay polls anyway), so its error is logged, not raised."""
        for listener in self._outbox_listeners:
            try:
                listener()
            except Exception:
                log.exception("an outbox commit listener failed; the relay will find the rows when it polls")

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        await self.engine.dispose()


async def retry_on_conflict(
    operation: Callable[[], Awaitable[T]],
    *,
    attempts: int = 5,
    base_delay_s: float = 0.005,
    max_delay_s: float = 0.2,
) -> T:
    """Re-run the whole operation (a fresh unit of work each time) on a version conflict or deadlock."""
    for attempt in range(attempts):
        try:
            return await operation()
        except Exception as exc:
            if not is_transient(exc) or attempt == attempts - 1:
                raise
            delay = min(max_delay_s, base_delay_s * (2**attempt))
            await asyncio.sleep(random.uniform(0, delay))
    raise AssertionError("unreachable")
