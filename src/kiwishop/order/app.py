"""Order's wiring: ``create_app(settings)`` builds the adapters (the SQL payment store, the Toss client,
catalog; wallet and order-query for the seller page; identity for the pages' login), hands them to the handlers
as their ports, and registers the routes and pages, the WALLET_SETTLED consumer and the background loops;
``SERVICE`` describes the service to the registry."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI

from kiwishop.contracts.events import on_topics
from kiwishop.contracts.topics import WALLET
from kiwishop.order import api, api_ops, pages, pages_login, pages_orders, pages_pay, pages_seller, workers
from kiwishop.order.cancel_store import SqlCancelStore
from kiwishop.order.catalog_client import CatalogClient
from kiwishop.order.consumers import wallet_result_handlers
from kiwishop.order.handlers.cancel import CancelPayment
from kiwishop.order.handlers.cancel_record import RecordCancel
from kiwishop.order.handlers.cancel_recovery import RecoverCancels
from kiwishop.order.handlers.confirm import ConfirmPayment
from kiwishop.order.handlers.ops import OpsActions
from kiwishop.order.handlers.recovery import RecoverPayments
from kiwishop.order.handlers.settlement import RepublishUnsettled
from kiwishop.order.handlers.verdict import RecordVerdict
from kiwishop.order.handlers.webhook import SyncFromPsp
from kiwishop.order.metrics import PaymentMetrics
from kiwishop.order.migrations import MIGRATIONS
from kiwishop.order.page_session import PageRefusal
from kiwishop.order.psp import TossClient
from kiwishop.order.seller_reads import SellerReads
from kiwishop.order.services import OrderServices
from kiwishop.order.settings import OrderSettings
from kiwishop.order.store import SqlPaymentStore
from kiwishop.order.verdicts import Policy, Timing
from kiwishop.platform import ops_api
from kiwishop.platform.httpclient import HttpClient, create_http_client
from kiwishop.platform.ratelimit import RateLimiter
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition


def timing_of(settings: OrderSettings) -> Timing:
    seconds = dt.timedelta
    policy = Policy(
        authorization_window=seconds(seconds=settings.authorization_window_s),
        horizon=seconds(seconds=settings.recovery_horizon_s),
        backoff_base=seconds(seconds=settings.recovery_backoff_base_s),
        backoff_max=seconds(seconds=settings.recovery_backoff_max_s),
    )
    return Timing(
        policy=policy,
        lease=seconds(seconds=settings.executing_stale_s),
        quarantine_recheck=seconds(seconds=settings.quarantine_recheck_s),
        settlement_grace=seconds(seconds=settings.settlement_grace_s),
    )


def toss_http_client(settings: OrderSettings) -> HttpClient:
    return create_http_client(
        settings.toss_api_url,
        connect_timeout_s=settings.psp_connect_timeout_s,
        read_timeout_s=settings.psp_read_timeout_s,
        max_connections=500,
        basic_auth=(settings.toss_secret_key.get_secret_value(), ""),
    )


def create_app(settings: OrderSettings) -> FastAPI:
    runtime = Runtime("order", settings)
    metrics = PaymentMetrics(runtime.metrics.registry)
    catalog_http = create_http_client(settings.catalog_url, read_timeout_s=3.0)
    hot_catalog_http = create_http_client(settings.hot_catalog_url, connect_timeout_s=0.3, read_timeout_s=0.5)
    # The seller page's peers: short timeouts, so a peer that is down costs the page a moment, never a 500.
    wallet_http = create_http_client(settings.wallet_url, connect_timeout_s=0.5, read_timeout_s=2.0)
    order_query_http = create_http_client(settings.order_query_url, connect_timeout_s=0.5, read_timeout_s=2.0)
    identity_http = create_http_client(settings.identity_url, connect_timeout_s=0.5, read_timeout_s=5.0)  # /login
    toss_http = toss_http_client(settings)
    gateway = TossClient(toss_http, max_attempts=settings.psp_max_attempts, retry_base_s=settings.psp_retry_base_s)
    db, outbox = runtime.database(), runtime.outbox()
    store = SqlPaymentStore(db, runtime.ids, outbox, topic=settings.payment_topic)
    timing = timing_of(settings)
    record_verdict = RecordVerdict(store, gateway, runtime.ids, timing, counters=metrics)
    confirm_payment = ConfirmPayment(store, gateway, record_verdict, lease=timing.lease, wait_s=settings.confirm_wait_s)
    recovery = RecoverPayments(store, gateway, record_verdict, lease=timing.lease)
    cancel_store = SqlCancelStore(db, runtime.ids, outbox, topic=settings.payment_topic)
    record_cancel = RecordCancel(cancel_store, runtime.ids, timing)
    cancel_payment = CancelPayment(cancel_store, gateway, record_cancel, lease=timing.lease)
    cancel_recovery = RecoverCancels(cancel_store, gateway, record_cancel, lease=timing.lease)
    sync_from_psp = SyncFromPsp(cancel_store, gateway, record_verdict, runtime.ids, lease=timing.lease)
    settlement = RepublishUnsettled(
        store, grace_s=settings.settlement_grace_s, republish_max_s=settings.settlement_republish_max_s,
        batch_size=settings.settlement_republish_batch, counters=metrics,
    )  # fmt: skip
    runtime.produces(settings.payment_topic)
    runtime.consume(
        group_id=settings.wallet_group_id,
        topics=[settings.wallet_topic],
        handlers=wallet_result_handlers(db, store),
        contract=on_topics(WALLET),
        money_topics=[settings.wallet_topic],
    )
    runtime.worker(
        workers.recovery_loop(recovery, cancel_recovery, db, metrics, interval_s=settings.recovery_interval_s)
    )
    runtime.worker(workers.settlement_loop(settlement, db, metrics, interval_s=settings.settlement_interval_s))
    runtime.on_shutdown(catalog_http.aclose)
    runtime.on_shutdown(hot_catalog_http.aclose)
    runtime.on_shutdown(toss_http.aclose)
    runtime.on_shutdown(wallet_http.aclose)
    runtime.on_shutdown(order_query_http.aclose)
    runtime.on_shutdown(identity_http.aclose)

    page_routers = [pages.router, pages_pay.router, pages_login.router, pages_orders.router, pages_seller.router]
    routers = [api.router, api_ops.router, ops_api.router, *page_routers]
    app = runtime.build_app(title="kiwi-shop order", routers=routers)
    app.add_exception_handler(PageRefusal, pages.refusal_page)
    app.state.identity_login = pages_login.IdentityLogin(identity_http)
    app.state.services = OrderServices(
        settings, db, runtime.ids, store, CatalogClient(catalog_http), confirm_payment, catalog_http, hot_catalog_http,
        cancel_payment, sync_from_psp, SellerReads(wallet_http, order_query_http),
        RateLimiter(runtime.redis(ready_without=True), "order"),  # fail-open: order sells while Redis is down
        OpsActions(gateway, record_verdict, recovery),
    )  # fmt: skip
    app.state.recovery = recovery
    app.state.cancel_recovery = cancel_recovery
    app.state.settlement = settlement
    return app


SERVICE = ServiceDefinition(
    name="order",
    settings_class=OrderSettings,
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
)
