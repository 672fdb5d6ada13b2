"""The console against the session's real servers: its own schema, the real broker, and the services a test
serves itself (every other service's URL is a dead address: the console must show that part's error)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import httpx
import jwt
import pytest

from kiwishop.catalog_like.app import SERVICE as LIKE
from kiwishop.catalog_like.settings import CatalogLikeSettings
from kiwishop.console.app import SERVICE as CONSOLE
from kiwishop.console.app import create_app
from kiwishop.console.settings import ConsoleSettings
from kiwishop.platform.db import Database
from kiwishop.platform.migrations import Migration, migrate
from kiwishop.platform.settings import InfraSettings
from tests.support import as_ops, dead_url, running_app, served_app, tokens, unique

ConsoleFactory = Callable[..., ConsoleSettings]
URLS = ("order_url", "catalog_url", "wallet_url", "seller_url", "hot_catalog_url", "catalog_review_url",
        "catalog_like_url", "order_query_url", "identity_url")  # fmt: skip


def ops_actor() -> str:
    """The audit's actor of ``as_ops()``'s requests: ops, with the token's subject."""
    claims = jwt.decode(tokens().ops(), options={"verify_signature": False})
    return f"ops:{claims['sub']}"


@pytest.fixture(scope="session")
async def console_schema(infra: InfraSettings) -> str:
    await migrate(infra, "it_console", CONSOLE.migrations)
    return "it_console"


@pytest.fixture
def console_settings(infra: InfraSettings, console_schema: str) -> ConsoleFactory:
    """Settings with every service down unless a test gives its URL; no scheduled reconcile, a collection loop
    that runs once at start (the gauges' test runs its own rounds)."""

    def make(**override: Any) -> ConsoleSettings:
        values: dict[str, Any] = {
            "infra": infra, "db_name": console_schema, "node_id": 188, "reconcile_interval_s": 0,
            "collect_interval_s": 3600, "peer_timeout_s": 2.0, "kafka_timeout_s": 20.0,
            **{name: dead_url() for name in URLS},
        }  # fmt: skip
        return ConsoleSettings(**(values | override))

    return make


@pytest.fixture
async def console(console_settings: ConsoleFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(console_settings())) as client:
        yield client


async def overview(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/ops/overview", headers=as_ops(), timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def fresh_schema(infra: InfraSettings, prefix: str, migrations: Sequence[Migration]) -> str:
    name = unique(prefix).replace("-", "_")
    await migrate(infra, name, migrations)
    return name


@pytest.fixture
async def likes(infra: InfraSettings) -> AsyncIterator[tuple[str, Database]]:
    """catalog-like over HTTP on a schema of its own; its database."""
    db_name = await fresh_schema(infra, "con_like", LIKE.migrations)
    settings = CatalogLikeSettings(infra=infra, db_name=db_name, node_id=189, catalog_url=dead_url(),
                                   topic=unique("con-like"))  # fmt: skip
    db = Database.connect(infra, db_name)
    try:
        async with served_app(LIKE.create_app(settings)) as url:
            yield url, db
    finally:
        await db.close()
