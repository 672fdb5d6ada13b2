"""Re-runnable, versioned schema migrations: one schema per service, one ``schema_migrations`` table in it.

A service lists its migrations in order (``MIGRATIONS`` in its ``migrations.py``); each is applied once,
under a named lock so that two starters never race. Statements are plain MySQL/MariaDB DDL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from kiwishop.platform.db import connect_args, database_url
from kiwishop.platform.settings import InfraSettings


@dataclass(frozen=True)
class Migration:
    version: str
    statements: tuple[str, ...]


def _quote_ident(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe schema name: {name!r}")
    return f"`{name}`"


async def migrate(
    infra: InfraSettings,
    db_name: str,
    migrations: Sequence[Migration],
    seed: Sequence[str] = (),
) -> list[str]:
    """Create the schema if needed, apply pending migrations, then run the (idempotent) seed statements.

    Returns the versions applied by this call.
    """
    schema = _quote_ident(db_name)
    server = create_async_engine(
        database_url(infra, None), isolation_level="AUTOCOMMIT", connect_args=connect_args(infra)
    )
    try:
        async with server.connect() as conn:
            await conn.execute(
                text(f"CREATE DATABASE IF NOT EXISTS {schema} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
            )
    finally:
        await server.dispose()

    engine = create_async_engine(
        database_url(infra, db_name),
        isolation_level="AUTOCOMMIT",
        connect_args=connect_args(infra),
    )
    applied: list[str] = []
    try:
        async with engine.connect() as conn:
            lock = f"kiwishop-migrate-{db_name}"
            got = (await conn.execute(text("SELECT GET_LOCK(:n, 60)"), {"n": lock})).scalar()
            if got != 1:
                raise RuntimeError(f"could not take the migration lock for {db_name}")
            try:
                await conn.execute(
                    text(
                        "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version VARCHAR(100) NOT NULL PRIMARY KEY,"
                        " applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3))"
                    )
                )
                done = set((await conn.execute(text("SELECT version FROM schema_migrations"))).scalars())
                for migration in migrations:
                    if migration.version in done:
                        continue
                    for statement in migration.statements:
                        await conn.execute(text(statement))
                    await conn.execute(
                        text("INSERT INTO schema_migrations (version) VALUES (:v)"), {"v": migration.version}
                    )
                    applied.append(migration.version)
                for statement in seed:
                    await conn.execute(text(statement))
            finally:
                await conn.execute(text("SELECT RELEASE_LOCK(:n)"), {"n": lock})
    finally:
        await engine.dispose()
    return applied
