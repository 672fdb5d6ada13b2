from __future__ import annotations

from fastapi import FastAPI

from kiwishop.catalog.api import router
from kiwishop.catalog.consumers import seller_event_handlers
from kiwishop.catalog.migrations import MIGRATIONS, SEED
from kiwishop.catalog.settings import CatalogSettings
from kiwishop.contracts.events import on_topics
from kiwishop.contracts.topics import SELLER
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition


def create_app(settings: CatalogSettings) -> FastAPI:
    runtime = Runtime("catalog", settings)
    runtime.consume(
        group_id=settings.seller_group_id,
        topics=[settings.seller_topic],
        handlers=seller_event_handlers(runtime.database()),
        contract=on_topics(SELLER),
    )
    app = runtime.build_app(title="kiwi-shop catalog", routers=[router])
    app.state.settings = settings
    return app


SERVICE = ServiceDefinition(
    name="catalog",
    settings_class=CatalogSettings,
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
    seed=SEED,
    topics=(SELLER,),
)
