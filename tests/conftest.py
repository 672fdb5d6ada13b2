"""The test runner starts its own MariaDB, Redis and Tansu broker on free ports with throw-away data
(never the `make run` stack), once per session, only when a test asks for them."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.scratch import ScratchServers

# An emulator a test builds sends no webhooks unless the test gives it a receiver (its default is the local
# stack's order on :8080, which a test must never reach); a fleet of processes points them at its own order.
os.environ.setdefault("KIWI_TOSS_EMULATOR_WEBHOOK_URL", "")


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchServers]:
    with ScratchServers(tmp_path_factory.mktemp("servers")) as started:
        yield started


@pytest.fixture(scope="session")
def infra(servers: ScratchServers) -> InfraSettings:
    return servers.infra
