from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import FastAPI

from kiwishop.contracts.events import on_topics
from kiwishop.contracts.topics import PAYMENT, PRODUCT_LIKE, PRODUCT_REVIEW
from kiwishop.hot_catalog import consumers
from kiwishop.hot_catalog.api import router
from kiwishop.hot_catalog.catalog_client import ProductCatalog
from kiwishop.hot_catalog.queries import HotList
from kiwishop.hot_catalog.ranking import Ranking
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.platform.clock import utcnow_aware
from kiwishop.platform.httpclient import create_http_client
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition


def create_app(settings: HotCatalogSettings, *, clock: Callable[[], dt.datetime] = utcnow_aware) -> FastAPI:
    """``clock`` (aware datetimes) is the consumer's and the reader's notion of now; tests inject one."""
    runtime = Runtime("hot-catalog", settings)
    s = settings
    ranking = Ranking.for_settings(runtime.redis(), s)
    runtime.consume(
        group_id=s.consumer_group,
        topics=[s.like_topic, s.review_topic, s.payment_topic],
        handlers=consumers.handlers(ranking, clock),
        contract=on_topics(PRODUCT_LIKE, PRODUCT_REVIEW, PAYMENT),
        money_topics=[s.payment_topic],
    )
    client = create_http_client(
        s.catalog_url, connect_timeout_s=s.catalog_timeout_s, read_timeout_s=s.catalog_timeout_s
    )
    runtime.on_shutdown(client.aclose)
    app = runtime.build_app(title="kiwi-shop hot-catalog", routers=[router])
    app.state.settings = settings
    app.state.ranking = ranking
    app.state.hot_list = HotList(
        ranking,
        ProductCatalog(client, ttl_s=s.product_cache_ttl_s),
        size=s.list_size,
        candidates=s.candidates,
        cache_ttl_s=s.hot_list_cache_ttl_s,
        clock=clock,
    )
    return app


SERVICE = ServiceDefinition(
    name="hot-catalog",
    settings_class=HotCatalogSettings,
    create_app=create_app,  # type: ignore[arg-type]
)
