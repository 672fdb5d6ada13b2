"""Each table is written twice — the DDL of a service's migrations and the SQLAlchemy ``Table`` its code reads
and writes through — so here every service with a database builds a fresh schema through its migrations and
Alembic compares it with that service's ``MetaData`` (its own tables and the platform's ``outbox`` and
``processed_messages``): tables, columns, exact MySQL types, nullability, server defaults, indexes and unique
keys; a generated column's expression differing is an Alembic warning, made an error here.

The diff must be empty; a drift is fixed in the ``Table`` or, where the DDL is the wrong one, by a new
migration (an applied migration's DDL never changes). CHECK constraints are not compared."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, DateTime, DefaultClause, Integer, MetaData
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.ext.asyncio import create_async_engine

import kiwishop
from kiwishop.platform.db import database_url
from kiwishop.platform.migrations import Migration, migrate
from kiwishop.platform.settings import InfraSettings
from tests.support import unique

# The migrations' own bookkeeping (platform/migrations.py); no service reads or writes it.
BOOKKEEPING = "schema_migrations"
# Every service known to have a database today: discovery must find at least these.
KNOWN = {"catalog", "catalog_like", "catalog_review", "seller", "wallet", "order", "identity"}


@dataclass(frozen=True)
class DatabaseService:
    package: str  # kiwishop.<package>
    migrations: Sequence[Migration]
    metadata: MetaData


def database_services() -> list[DatabaseService]:
    """Every service package whose ``app.SERVICE`` has migrations, with the ``metadata`` of its ``tables``."""
    found = []
    for module in pkgutil.iter_modules(kiwishop.__path__):
        if not module.ispkg or importlib.util.find_spec(f"kiwishop.{module.name}.app") is None:
            continue
        service = importlib.import_module(f"kiwishop.{module.name}.app").SERVICE
        if service.migrations:
            tables = importlib.import_module(f"kiwishop.{module.name}.tables")
            found.append(DatabaseService(module.name, service.migrations, tables.metadata))
    return found


SERVICES = database_services()


_DISPLAY_WIDTH = re.compile(r"^(TINYINT|SMALLINT|MEDIUMINT|INTEGER|BIGINT)\(\d+\)")


def column_ddl(type_: Any, dialect: Dialect) -> str:
    """A column type as MySQL DDL, with what reflection adds and the synonyms MySQL itself treats as one:
    integer display widths (``BIGINT(20)`` is ``BIGINT``), ``BOOL`` = ``TINYINT(1)``, ``NUMERIC`` = ``DECIMAL``."""
    ddl = str(type_.compile(dialect=dialect)).upper()
    if ddl in ("BOOL", "BOOLEAN", "TINYINT(1)"):
        return "TINYINT(1)"
    return _DISPLAY_WIDTH.sub(r"\1", ddl).replace("NUMERIC(", "DECIMAL(")


def _type_differs(
    context: MigrationContext, inspected: Column[Any], meta: Column[Any], inspected_type: Any, meta_type: Any
) -> bool:
    """Stricter than Alembic's own check, which lets a generic type pass for any size of its kind (``DateTime``
    for ``DATETIME(3)``, ``Text`` for ``LONGTEXT``): the DDL of both must be the same."""
    return column_ddl(inspected_type, context.dialect) != column_ddl(meta_type, context.dialect)


def _include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    return not (type_ == "table" and name == BOOKKEEPING)


def _compare(conn: Connection, metadata: MetaData) -> list[Any]:
    opts = {"compare_type": _type_differs, "compare_server_default": True, "include_name": _include_name}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Computed default on sellers.active_seller_id cannot be modified"
        return list(compare_metadata(MigrationContext.configure(conn, opts=opts), metadata))


async def schema_diff(infra: InfraSettings, db_name: str, metadata: MetaData) -> list[Any]:
    """What Alembic would change in ``db_name`` to make it match ``metadata`` (empty: they agree)."""
    engine = create_async_engine(database_url(infra, db_name))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_compare, metadata)
    finally:
        await engine.dispose()


async def migrated(infra: InfraSettings, service: DatabaseService) -> str:
    name = unique(f"schema_{service.package}").replace("-", "_")
    await migrate(infra, name, service.migrations)
    return name


def test_every_service_with_a_database_is_compared() -> None:
    assert {s.package for s in SERVICES} >= KNOWN


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.package)
async def test_tables_match_what_the_migrations_build(infra: InfraSettings, service: DatabaseService) -> None:
    diff = await schema_diff(infra, await migrated(infra, service), service.metadata)
    assert diff == [], "\n".join(map(repr, diff))


def _copy(metadata: MetaData) -> MetaData:
    copy = MetaData()
    for table in metadata.sorted_tables:
        table.to_metadata(copy)
    return copy


def _summary(diff: list[Any]) -> set[tuple[str, str, str]]:
    """(operation, table, column or index) for each difference; column changes come as lists of them."""
    found = set()
    for entry in diff:
        for op in entry if isinstance(entry, list) else [entry]:
            if op[0] in ("add_column", "remove_column"):
                found.add((op[0], op[2], op[3].name))
            elif op[0] in ("add_index", "remove_index"):
                found.add((op[0], op[1].table.name, op[1].name))
            else:
                found.add((op[0], op[2], op[3]))
    return found


async def test_the_comparison_reports_what_only_a_table_has(infra: InfraSettings) -> None:
    """The check can fail: a copy of catalog's metadata is changed (the migrations are not) in each way the
    comparison covers, and each change is reported."""
    catalog = next(s for s in SERVICES if s.package == "catalog")
    schema = await migrated(infra, catalog)
    assert await schema_diff(infra, schema, catalog.metadata) == []

    drifted = _copy(catalog.metadata)
    products, sellers, inbox = (drifted.tables[t] for t in ("products", "sellers", "processed_messages"))
    products.append_column(Column("drifted", Integer, nullable=False))
    products.indexes.clear()
    sellers.c.updated_at.type = DateTime()  # the DDL says DATETIME(3)
    sellers.c.seller_id.nullable = True
    inbox.c.event_type.server_default = DefaultClause("none")

    assert _summary(await schema_diff(infra, schema, drifted)) == {
        ("add_column", "products", "drifted"),
        ("remove_index", "products", "uk_products_seller_product_id"),
        ("modify_type", "sellers", "updated_at"),
        ("modify_nullable", "sellers", "seller_id"),
        ("modify_default", "processed_messages", "event_type"),
    }
