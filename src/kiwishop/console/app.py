"""The console's wiring: ``create_app(settings)`` builds one HTTP client per service it reads (and a slower one
for order's payment actions), the Kafka adapter, its schema's audit and reconcile reports, the reconciler, the
routes and pages with the platform's login, and two loops — the collection for /metrics and the scheduled
reconcile; ``SERVICE`` describes it to the registry."""

from __future__ import annotations

from fastapi import FastAPI

from kiwishop.console import api, pages, pages_actions
from kiwishop.console.broker import KafkaBroker
from kiwishop.console.collector import ConsoleGauges, collect_step
from kiwishop.console.credentials import ServiceCredential
from kiwishop.console.handlers import Actions, PeerRefusal
from kiwishop.console.migrations import MIGRATIONS
from kiwishop.console.peers import HttpPeers
from kiwishop.console.queries import OverviewSources
from kiwishop.console.reconciling import Reconciler, sources_of
from kiwishop.console.services import Console
from kiwishop.console.settings import OUTBOX_SERVICES, ConsoleSettings
from kiwishop.console.store import SqlAudit, SqlClaims, SqlReconcileRuns
from kiwishop.contracts.identity import LOGIN_ID_MAX_LENGTH, PASSWORD_MAX_LENGTH
from kiwishop.platform.httpclient import HttpClient, create_http_client
from kiwishop.platform.page_login import IdentityLogin, LoginPages, login_router
from kiwishop.platform.page_session import PageRefusal
from kiwishop.platform.periodic import Periodic
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition
from kiwishop.platform.web import JSONResponse


def _clients(runtime: Runtime, settings: ConsoleSettings) -> dict[str, HttpClient]:
    timeout = settings.peer_timeout_s
    clients = {
        name: create_http_client(url, connect_timeout_s=min(timeout, 1.0), read_timeout_s=timeout, max_connections=10)
        for name, url in settings.service_urls().items()
    }
    for client in clients.values():
        runtime.on_shutdown(client.aclose)
    return clients


async def _passed_on(_: object, exc: Exception) -> JSONResponse:
    """A service's refusal of an action, as that service gave it (``handlers.PeerRefusal``)."""
    assert isinstance(exc, PeerRefusal)
    return JSONResponse(exc.body, status_code=exc.status)


def create_app(settings: ConsoleSettings) -> FastAPI:
    runtime = Runtime("console", settings)
    db = runtime.database()
    clients = _clients(runtime, settings)
    order_actions = create_http_client(settings.order_url, read_timeout_s=settings.action_timeout_s)
    runtime.on_shutdown(order_actions.aclose)
    reconciler = Reconciler(sources_of(settings), SqlReconcileRuns(db, runtime.ids))
    broker = KafkaBroker(settings.infra, settings.consumer_groups, timeout_s=settings.kafka_timeout_s)
    peers = HttpPeers(clients, order_actions)
    sources = OverviewSources(
        peers, broker, reconciler, services=list(clients), outbox_services=OUTBOX_SERVICES,
        payments_limit=settings.payments_limit, registrations_limit=settings.registrations_limit,
        peer_timeout_s=settings.peer_timeout_s + 1.0, kafka_timeout_s=settings.kafka_timeout_s,
    )  # fmt: skip
    login = IdentityLogin(clients["identity"])
    credential = ServiceCredential(
        token=settings.service_token.get_secret_value(), login=login, login_id=settings.service_login_id,
        password=settings.service_password.get_secret_value(),
    )  # fmt: skip
    gauges = ConsoleGauges(runtime.metrics.registry)
    runtime.worker(Periodic("console-collect", collect_step(sources, credential, gauges), settings.collect_interval_s))
    if settings.reconcile_interval_s > 0:
        interval = settings.reconcile_interval_s
        runtime.worker(Periodic("console-reconcile", lambda: reconciler.scheduled(interval), min(interval, 60.0)))
    login_pages = LoginPages(
        visit=pages.console_visit, render=pages.render, not_from_here=pages.not_from_here,
        login_id_max=LOGIN_ID_MAX_LENGTH, password_max=PASSWORD_MAX_LENGTH,
    )  # fmt: skip
    routers = [api.router, pages.router, pages_actions.router, login_router(login_pages)]
    app = runtime.build_app(title="kiwi-shop console", routers=routers)
    app.add_exception_handler(PageRefusal, pages.refusal_page)
    app.add_exception_handler(PeerRefusal, _passed_on)
    app.state.identity_login = login
    app.state.console = Console(
        settings, sources, Actions(peers, broker, SqlAudit(db, runtime.ids), reconciler, SqlClaims(db))
    )
    return app


SERVICE = ServiceDefinition(
    name="console",
    settings_class=ConsoleSettings,
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
)
