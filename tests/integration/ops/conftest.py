from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kiwishop.platform.db import Database
from kiwishop.platform.inbox import inbox_migration
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.migrations import Migration, migrate
from kiwishop.platform.settings import InfraSettings
from tests.support import unique

EFFECTS = Migration(
    "0002_effects",
    ("CREATE TABLE IF NOT EXISTS effects (name VARCHAR(100) NOT NULL PRIMARY KEY, hits INT NOT NULL DEFAULT 0)",),
)


@pytest.fixture
async def db(infra: InfraSettings) -> AsyncIterator[Database]:
    """A fresh schema with the inbox (``processed_messages``) and a scratch ``effects`` table."""
    name = unique("ops").replace("-", "_")
    await migrate(infra, name, (inbox_migration("0001_inbox"), EFFECTS))
    database = Database.connect(infra, name)
    yield database
    await database.close()


@pytest.fixture
async def publisher(infra: InfraSettings) -> AsyncIterator[KafkaPublisher]:
    pub = KafkaPublisher(infra)
    yield pub
    await pub.close()
