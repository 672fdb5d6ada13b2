"""Fixtures of the seller, wallet and seller↔wallet integration tests (imported by their conftest files)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kiwishop.platform.db import Database
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.settings import InfraSettings
from tests.integration.seller_wallet.support import SELLER_DB, WALLET_DB, database, migrate_seller, migrate_wallet


@pytest.fixture(scope="session")
async def seller_schema(infra: InfraSettings) -> str:
    await migrate_seller(infra)
    return SELLER_DB


@pytest.fixture(scope="session")
async def wallet_schema(infra: InfraSettings) -> str:
    await migrate_wallet(infra)
    return WALLET_DB


@pytest.fixture
async def seller_db(infra: InfraSettings, seller_schema: str) -> AsyncIterator[Database]:
    async with database(infra, seller_schema) as db:
        yield db


@pytest.fixture
async def wallet_db(infra: InfraSettings, wallet_schema: str) -> AsyncIterator[Database]:
    async with database(infra, wallet_schema) as db:
        yield db


@pytest.fixture
async def publisher(infra: InfraSettings) -> AsyncIterator[KafkaPublisher]:
    pub = KafkaPublisher(infra)
    yield pub
    await pub.close()
