from __future__ import annotations

from fastapi import FastAPI

from kiwishop.order import api, pages
from kiwishop.order.catalog_client import CatalogClient
from kiwishop.order.confirm import PaymentConfirmation
from kiwishop.order.consumers import IGNORED_WALLET_EVENTS, WALLET_SETTLED, on_wallet_settled
from kiwishop.order.migrations import MIGRATIONS
from kiwishop.order.psp import TossClient
from kiwishop.order.recovery import RecoveryWorker
from kiwishop.order.services import OrderServices
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.httpclient import create_http_client
from kiwishop.platform.inbox import idempotent
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition


def create_app(settings: OrderSettings) -> FastAPI:
    runtime = Runtime("order", settings)
    catalog_http = create_http_client(settings.catalog_url, read_timeout_s=3.0)
    hot_catalog_http = create_http_client(settings.hot_catalog_url, connect_timeout_s=0.3, read_timeout_s=0.5)
    toss_http = create_http_client(
        settings.toss_api_url,
        connect_timeout_s=settings.psp_connect_timeout_s,
        read_timeout_s=settings.psp_read_timeout_s,
        max_connections=500,
        basic_auth=(settings.toss_secret_key.get_secret_value(), ""),
    )
    psp = TossClient(toss_http, max_attempts=settings.psp_max_attempts, retry_base_s=settings.psp_retry_base_s)
    confirmation = PaymentConfirmation(
        runtime.db, runtime.ids, runtime.outbox, psp, wait_s=settings.confirm_wait_s, topic=settings.payment_topic
    )
    recovery = RecoveryWorker(
        runtime.db,
        runtime.ids,
        confirmation,
        psp,
        interval_s=settings.recovery_interval_s,
        min_age_s=settings.recovery_min_age_s,
        executing_stale_s=settings.executing_stale_s,
    )
    runtime.produces(settings.payment_topic)
    runtime.consume(
        group_id=settings.wallet_group_id,
        topics=[settings.wallet_topic],
        handlers={WALLET_SETTLED: idempotent(runtime.db, "order-wallet-result", on_wallet_settled)},
        ignored_types=IGNORED_WALLET_EVENTS,
    )
    runtime.on_startup(recovery.start)
    runtime.on_shutdown(recovery.stop)
    runtime.on_shutdown(catalog_http.aclose)
    runtime.on_shutdown(hot_catalog_http.aclose)
    runtime.on_shutdown(toss_http.aclose)

    app = runtime.build_app(title="kiwi-shop order", routers=[api.router, pages.router])
    app.state.services = OrderServices(
        settings, runtime.db, runtime.ids, CatalogClient(catalog_http), confirmation, catalog_http, hot_catalog_http
    )
    app.state.recovery = recovery
    return app


SERVICE = ServiceDefinition(
    name="order",
    settings_class=OrderSettings,
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
)
