"""The services of kiwi-shop, in start order: what `kiwishop serve`, `migrate` and `topics` know, and what the
local stack runs. A service joins by listing its app module here."""

from __future__ import annotations

import importlib

from kiwishop.platform.service import ServiceDefinition

SERVICE_MODULES = (
    "kiwishop.toss_emulator.app",
    "kiwishop.identity.app",
    "kiwishop.catalog.app",
    "kiwishop.catalog_like.app",
    "kiwishop.catalog_review.app",
    "kiwishop.hot_catalog.app",
    "kiwishop.wallet.app",
    "kiwishop.seller.app",
    "kiwishop.order.app",
    "kiwishop.order_query.app",
    "kiwishop.console.app",
)


def definitions() -> list[ServiceDefinition]:
    return [importlib.import_module(module).SERVICE for module in SERVICE_MODULES]


def definition(name: str) -> ServiceDefinition:
    for service in definitions():
        if service.name == name:
            return service
    raise KeyError(f"no service named {name!r}; known: {[s.name for s in definitions()]}")
