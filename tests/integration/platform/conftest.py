from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kiwishop.platform.db import Database
from kiwishop.platform.inbox import inbox_migration
from kiwishop.platform.kafka import KafkaPublisher, ensure_topics
from kiwishop.platform.migrations import Migration, migrate
from kiwishop.platform.outbox import outbox_migration
from kiwishop.platform.settings import InfraSettings
from tests.support import unique

EFFECTS = Migration(
    "0003_effects",
    ("CREATE TABLE IF NOT EXISTS effects (name VARCHAR(100) NOT NULL PRIMARY KEY, hits INT NOT NULL DEFAULT 0)",),
)
PLATFORM_MIGRATIONS = (outbox_migration("0001_outbox"), inbox_migration("0002_inbox"), EFFECTS)


@pytest.fixture
async def schema(infra: InfraSettings) -> str:
    """A fresh schema with the platform's outbox and inbox tables and a scratch ``effects`` table."""
    name = unique("plat").replace("-", "_")
    await migrate(infra, name, PLATFORM_MIGRATIONS)
    return name


@pytest.fixture
async def db(infra: InfraSettings, schema: str) -> AsyncIterator[Database]:
    database = Database.connect(infra, schema)
    yield database
    await database.close()


@pytest.fixture
async def publisher(infra: InfraSettings) -> AsyncIterator[KafkaPublisher]:
    """A publisher for the ConsumerRunner tests' records (and the runner's dead letters)."""
    pub = KafkaPublisher(infra)
    yield pub
    await pub.close()


@pytest.fixture
async def topic(infra: InfraSettings) -> str:
    """A fresh one-partition topic and its dead-letter topic ``<topic>.DLT``."""
    name = unique("cons")
    await ensure_topics(infra, [name, f"{name}.DLT"], partitions=1)
    return name
