from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from kiwishop.platform.db import ConflictError, Database, retry_on_conflict
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.integration.platform.conftest import PLATFORM_MIGRATIONS
from tests.support import unique


async def count(db: Database, sql: str) -> int:
    async with db.engine.connect() as conn:
        return int((await conn.execute(text(sql))).scalar_one())


async def test_migrations_are_applied_once_and_re_running_changes_nothing(infra: InfraSettings) -> None:
    name = unique("mig").replace("-", "_")
    first = await migrate(infra, name, PLATFORM_MIGRATIONS)
    second = await migrate(infra, name, PLATFORM_MIGRATIONS)
    assert first == ["0001_outbox", "0002_inbox", "0003_effects"]
    assert second == []


async def test_concurrent_migrators_apply_each_version_exactly_once(infra: InfraSettings) -> None:
    name = unique("mig").replace("-", "_")
    results = await asyncio.gather(*(migrate(infra, name, PLATFORM_MIGRATIONS) for _ in range(4)))
    applied = [v for r in results for v in r]
    assert sorted(applied) == ["0001_outbox", "0002_inbox", "0003_effects"]


async def test_seed_statements_are_idempotent(infra: InfraSettings) -> None:
    name = unique("mig").replace("-", "_")
    seed = ("INSERT IGNORE INTO effects (name, hits) VALUES ('seeded', 7)",)
    await migrate(infra, name, PLATFORM_MIGRATIONS, seed)
    await migrate(infra, name, PLATFORM_MIGRATIONS, seed)
    db = Database.connect(infra, name)
    try:
        assert await count(db, "SELECT COUNT(*) FROM effects") == 1
    finally:
        await db.close()


async def test_a_unit_of_work_commits_only_when_asked(db: Database) -> None:
    async with db.uow() as uow:
        await uow.conn.execute(text("INSERT INTO effects (name, hits) VALUES ('kept', 1)"))
        await uow.commit()
    async with db.uow() as uow:
        await uow.conn.execute(text("INSERT INTO effects (name, hits) VALUES ('forgotten', 1)"))
    assert await count(db, "SELECT COUNT(*) FROM effects WHERE name = 'kept'") == 1
    assert await count(db, "SELECT COUNT(*) FROM effects WHERE name = 'forgotten'") == 0


async def test_an_exception_inside_a_unit_of_work_rolls_back(db: Database) -> None:
    with pytest.raises(RuntimeError, match="handler failed"):  # noqa: PT012 - the block is the unit of work
        async with db.uow() as uow:
            await uow.conn.execute(text("INSERT INTO effects (name, hits) VALUES ('boom', 1)"))
            raise RuntimeError("handler failed")
    assert await count(db, "SELECT COUNT(*) FROM effects WHERE name = 'boom'") == 0


async def test_sessions_run_in_utc(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("SELECT @@session.time_zone"))).scalar_one() == "+00:00"


async def test_version_checked_updates_under_contention_lose_no_increment(db: Database) -> None:
    """The house pattern: read version, UPDATE ... WHERE version = :v, 0 rows → re-run the whole thing."""
    async with db.uow() as uow:
        await uow.conn.execute(text("INSERT INTO effects (name, hits) VALUES ('counter', 0)"))
        await uow.commit()

    async def increment() -> None:
        async with db.uow() as uow:
            hits = (await uow.conn.execute(text("SELECT hits FROM effects WHERE name = 'counter'"))).scalar_one()
            result = await uow.conn.execute(
                text("UPDATE effects SET hits = :new WHERE name = 'counter' AND hits = :old"),
                {"new": hits + 1, "old": hits},
            )
            if result.rowcount != 1:
                raise ConflictError("counter moved")
            await uow.commit()

    await asyncio.gather(*(retry_on_conflict(increment, attempts=50) for _ in range(20)))
    assert await count(db, "SELECT hits FROM effects WHERE name = 'counter'") == 20
