from __future__ import annotations

import gc

from fastapi import FastAPI
from starlette.middleware import Middleware

from kiwishop.contracts.events import on_topics
from kiwishop.contracts.topics import PAYMENT
from kiwishop.order_query import api, consumers
from kiwishop.order_query.cache import OriginCache
from kiwishop.order_query.fastpath import HistoryFastPath
from kiwishop.order_query.order_client import OrderClient
from kiwishop.order_query.queries import OrderReads
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.order_query.store import ReadModelStore
from kiwishop.platform.httpclient import create_http_client
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition


async def freeze_gc() -> None:
    gc.collect()
    gc.freeze()


def create_app(settings: OrderQuerySettings) -> FastAPI:
    """Redis and the broker only: no SQL database, no outbox (G3)."""
    runtime = Runtime("order-query", settings)
    redis = runtime.redis()
    store = ReadModelStore.for_settings(redis, settings)
    order_http = create_http_client(
        settings.order_url,
        connect_timeout_s=settings.order_connect_timeout_s,
        read_timeout_s=settings.order_read_timeout_s,
    )
    cache = OriginCache(
        redis,
        store.keys,
        logical_ttl_s=settings.cache_logical_ttl_s,
        physical_ttl_s=settings.cache_physical_ttl_s,
        lock_ttl_s=settings.cache_lock_ttl_s,
        wait_s=settings.cache_wait_s,
    )
    runtime.consume(
        group_id=settings.consumer_group,
        topics=[settings.payment_topic],
        handlers=consumers.handlers(store),
        contract=on_topics(PAYMENT),
        money_topics=[settings.payment_topic],
    )
    runtime.on_shutdown(order_http.aclose)
    if settings.freeze_gc_after_startup:
        runtime.on_startup(freeze_gc)
    app = runtime.build_app(title="kiwi-shop order-query", routers=[api.router])
    # innermost middleware: after the request id and latency metric, before FastAPI's routing
    app.user_middleware.append(Middleware(HistoryFastPath, store=store, route_path=api.HISTORY_PATH))
    app.state.reads = OrderReads(store, cache, OrderClient(order_http), fill_page_size=settings.fill_page_size)
    return app


SERVICE = ServiceDefinition(
    name="order-query",
    settings_class=OrderQuerySettings,
    create_app=create_app,  # type: ignore[arg-type]
)
