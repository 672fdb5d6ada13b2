"""``UnitOfWork.run`` / ``run_many``: statements sent straight through the driver behave as SQLAlchemy's would —
the same rows and counts, literals and IN lists bound, the same exceptions (a duplicate key is an
``IntegrityError``, a deadlock is transient), nothing kept without a commit, and a statement interrupted
half-way never leaves its connection in the pool."""

from __future__ import annotations

import asyncio
import enum

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError

from kiwishop.platform.db import Database, is_transient
from kiwishop.platform.settings import InfraSettings

effects = Table(
    "effects", MetaData(), Column("name", String(100), primary_key=True), Column("hits", Integer, nullable=False)
)
BY_NAMES = select(effects.c.name, effects.c.hits).where(effects.c.name.in_(bindparam("names", expanding=True)))


class Kind(enum.Enum):
    A = "kind-a"


async def test_rows_counts_literals_and_in_lists_are_what_sqlalchemy_gives(db: Database) -> None:
    async with db.uow() as uow:
        await uow.run_many(
            insert(effects), [{"name": "a", "hits": 1}, {"name": "b", "hits": 2}, {"name": "c", "hits": 3}]
        )
        await uow.run(insert(effects), {"name": Kind.A, "hits": 0})  # an enum goes by its value
        # a literal in the statement itself (hits == 2) and a value set by the statement (hits = 9)
        moved = await uow.run(update(effects).where(effects.c.hits == 2).values(hits=9))
        assert moved.rowcount == 1
        found = await uow.run(BY_NAMES, {"names": ["a", "b", "kind-a", "zzz"]})
        assert sorted((row.name, row.hits) for row in found) == [("a", 1), ("b", 9), ("kind-a", 0)]
        assert (await uow.run(text("SELECT COUNT(*) FROM effects"))).scalar() == 4
        await uow.commit()
    async with db.engine.connect() as conn:  # what SQLAlchemy reads is what was written
        assert (await conn.execute(text("SELECT SUM(hits) FROM effects"))).scalar_one() == 13


async def test_nothing_is_kept_without_a_commit(db: Database) -> None:
    async with db.uow() as uow:
        await uow.run(insert(effects), {"name": "gone", "hits": 1})
    async with db.uow() as uow:
        assert (await uow.run(text("SELECT COUNT(*) FROM effects"))).scalar() == 0


async def test_a_duplicate_key_is_sqlalchemys_integrity_error_and_the_unit_of_work_stays_usable(db: Database) -> None:
    async with db.uow() as uow:
        await uow.run(insert(effects), {"name": "x", "hits": 1})
        with pytest.raises(IntegrityError) as caught:
            await uow.run_many(insert(effects), [{"name": "y", "hits": 1}, {"name": "x", "hits": 2}])
        assert caught.value.orig is not None
        assert caught.value.orig.args[0] == 1062
        assert not is_transient(caught.value)
        await uow.commit()
    async with db.uow() as uow:
        assert [tuple(r) for r in await uow.run(text("SELECT name, hits FROM effects ORDER BY name"))] == [("x", 1)]


async def test_a_deadlock_through_the_driver_is_transient(db: Database) -> None:
    async with db.uow() as setup:
        await setup.run_many(insert(effects), [{"name": "p", "hits": 0}, {"name": "q", "hits": 0}])
        await setup.commit()
    bump = text("UPDATE effects SET hits = hits + 1 WHERE name = :n")
    first, second = db.uow(), db.uow()
    async with first, second:
        await first.run(bump, {"n": "p"})
        await second.run(bump, {"n": "q"})
        results = await asyncio.gather(
            first.run(bump, {"n": "q"}), second.run(bump, {"n": "p"}), return_exceptions=True
        )
    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1
    assert is_transient(errors[0])


async def test_a_statement_cancelled_half_way_never_returns_its_connection_to_the_pool(
    infra: InfraSettings, schema: str
) -> None:
    db = Database.connect(infra, schema, pool_size=1, max_overflow=0)  # one connection: the next uow gets it back
    try:
        async with db.uow() as uow:
            interrupted = (await uow.run(text("SELECT CONNECTION_ID()"))).scalar()
            task = asyncio.ensure_future(uow.run(text("SELECT SLEEP(5)")))
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        for _ in range(2):  # a fresh connection, answering sanely
            async with db.uow() as uow:
                assert (await uow.run(text("SELECT 7"))).scalar() == 7
                assert (await uow.run(text("SELECT CONNECTION_ID()"))).scalar() != interrupted
    finally:
        await db.close()


async def test_sqlalchemy_and_the_driver_share_one_transaction(db: Database) -> None:
    async with db.uow() as uow:
        await uow.run(insert(effects), {"name": "driver", "hits": 1})
        await uow.conn.execute(insert(effects).values(name="sqlalchemy", hits=2))
        both = await uow.run(text("SELECT COUNT(*) FROM effects"))  # each sees the other's row: one transaction
        assert both.scalar() == 2
        await uow.commit()
    async with db.uow() as uow:
        await uow.conn.execute(insert(effects).values(name="rolled-back-1", hits=0))
        await uow.run(insert(effects), {"name": "rolled-back-2", "hits": 0})
    async with db.engine.connect() as conn:
        names = (await conn.execute(text("SELECT name FROM effects ORDER BY name"))).scalars().all()
        assert names == ["driver", "sqlalchemy"]


async def test_the_connection_is_unreachable_as_sqlalchemy_says_it(infra: InfraSettings, schema: str) -> None:
    unreachable = infra.model_copy(update={"db_port": 1})
    db = Database.connect(unreachable, schema)
    try:
        with pytest.raises(OperationalError) as caught:
            async with db.uow():
                pass
        assert caught.value.orig is not None
        assert caught.value.orig.args[0] == 2003
    finally:
        await db.close()
