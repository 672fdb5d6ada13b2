"""Schemas, migrations, seed rows and topics for every service (re-runnable): `kiwishop migrate` and
`kiwishop topics`, and the local stack before it starts the services."""

from __future__ import annotations

from collections.abc import Iterable

from kiwishop.contracts.topics import all_topics
from kiwishop.platform.kafka import ensure_topics
from kiwishop.platform.migrations import migrate
from kiwishop.platform.service import ServiceDefinition
from kiwishop.platform.settings import InfraSettings


async def migrate_all(
    services: Iterable[ServiceDefinition], infra: InfraSettings, *, seed: bool
) -> dict[str, list[str]]:
    applied: dict[str, list[str]] = {}
    for service in services:
        settings = service.settings_class(infra=infra)
        if not settings.db_name or not service.migrations:
            continue
        applied[service.name] = await migrate(infra, settings.db_name, service.migrations, service.seed if seed else ())
    return applied


async def create_topics(infra: InfraSettings) -> list[str]:
    topics = all_topics()
    await ensure_topics(infra, topics)
    return topics
