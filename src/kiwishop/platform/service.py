"""How a service describes itself to the tooling that runs it (``kiwishop serve``, the local stack, tests)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fastapi import FastAPI

from kiwishop.platform.migrations import Migration
from kiwishop.platform.settings import ServiceSettings


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    settings_class: type[ServiceSettings]
    create_app: Callable[[ServiceSettings], FastAPI]
    migrations: Sequence[Migration] = ()
    seed: Sequence[str] = ()
    topics: Sequence[str] = field(default_factory=tuple)

    def settings(self) -> ServiceSettings:
        return self.settings_class()
