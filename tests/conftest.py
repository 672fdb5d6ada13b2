"""The test runner starts its own MariaDB, Redis and Tansu broker on free ports with throw-away data
(never the `make run` stack), once per session, only when a test asks for them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.scratch import ScratchServers


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchServers]:
    with ScratchServers(tmp_path_factory.mktemp("servers")) as started:
        yield started


@pytest.fixture(scope="session")
def infra(servers: ScratchServers) -> InfraSettings:
    return servers.infra
