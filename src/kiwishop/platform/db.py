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

from sqlalchemy import URL, Connection, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import ClauseElement
from sqlalchemy.util import greenlet_spawn

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
    statement straight through the driver (``driver_sql``): the hot paths' way. ``conn`` is SQLAlchemy's on the
    same connection and transaction, made the first time it is asked for: a unit of work that only runs driver
    statements never pays for SQLAlchemy's connection (about 100 µs of CPU here)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pooled: Any = None  # the pool's connection
        self._driver: Any = None  # its asyncmy connection
        self._conn: AsyncConnection | None = None
        self._sent = False  # a driver statement opened the transaction
        self._committed = False
        self.wrote_outbox = False

    @property
    def conn(self) -> AsyncConnection:
        if self._pooled is None:
            raise RuntimeError("unit of work is not open")
        if self._conn is None:
            sync = Connection(self._db.engine.sync_engine, connection=self._pooled)
            self._conn = AsyncConnection(self._db.engine, sync)
        return self._conn

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
            raise RuntimeError("unit of work is not open")
        self._sent = True
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
        error, lost = driver_sql.translated(self._db.engine.dialect, statement, args, exc)
        if lost:
            await self._invalidate()
        return error

    async def _invalidate(self) -> None:
        """The connection is closed and never goes back to the pool."""
        self._driver = None
        try:
            if self._conn is not None:
                await self._conn.invalidate()
            elif self._pooled is not None:
                await greenlet_spawn(self._pooled.invalidate)
        except Exception:
            log.debug("invalidating a broken connection failed", exc_info=True)

    async def __aenter__(self) -> UnitOfWork:
        try:
            self._pooled = await self._db.engine.raw_connection()
        except Exception as exc:  # as SQLAlchemy's connect() raises it: a DBAPIError, invalidated if unreachable
            raise driver_sql.translated(self._db.engine.dialect, None, None, exc)[0] from exc
        self._driver = self._pooled.driver_connection
        return self

    async def commit(self) -> None:
        if self._conn is not None and self._conn.in_transaction():
            await self._conn.commit()  # the driver's statements are in the same transaction
        else:
            driver = self._driver
            if driver is None:
                raise RuntimeError("unit of work is not open")
            try:
                await driver.commit()
            except Exception as exc:
                raise await self._translated("COMMIT", (), exc) from exc
        self._committed = True
        if self.wrote_outbox:
            self._db.notify_outbox_commit()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        pooled, conn, driver = self._pooled, self._conn, self._driver
        self._pooled = self._conn = self._driver = None
        if pooled is None:
            return
        try:
            try:
                if self._committed:
                    pass
                elif conn is not None and conn.in_transaction():
                    await conn.rollback()
                elif self._sent and driver is not None:
                    try:
                        await driver.rollback()
                    except Exception as failed:  # the connection is in no state to be used again
                        await greenlet_spawn(pooled.invalidate)
                        raise driver_sql.translated(self._db.engine.dialect, "ROLLBACK", (), failed)[0] from failed
                    except BaseException:
                        await greenlet_spawn(pooled.invalidate)
                        raise
            finally:
                if conn is not None:
                    await conn.close()
                else:
                    await greenlet_spawn(pooled.close)
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
