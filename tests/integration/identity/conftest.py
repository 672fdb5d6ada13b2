from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.identity.app import SERVICE, create_app
from kiwishop.identity.keys import generate_private_pem
from kiwishop.identity.settings import IdentitySettings
from kiwishop.platform.migrations import migrate
from kiwishop.platform.settings import InfraSettings
from tests.support import running_app, unique


@pytest.fixture(scope="session")
async def identity_settings(infra: InfraSettings) -> IdentitySettings:
    """The seed accounts (members 1-3, seller 1, ops) in a schema of this session, and a key of its own."""
    settings = IdentitySettings(
        infra=infra,
        db_name=unique("it_identity").replace("-", "_"),
        node_id=108,
        signing_key=generate_private_pem(),
    )
    await migrate(infra, settings.db_name, SERVICE.migrations, SERVICE.seed)
    return settings


@pytest.fixture
async def identity(identity_settings: IdentitySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(identity_settings)) as client:
        yield client
