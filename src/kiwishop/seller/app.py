from __future__ import annotations

from fastapi import FastAPI

from kiwishop.contracts.events import WALLET_CREATED, WALLET_CREATION_FAILED, on_topics
from kiwishop.contracts.topics import SELLER, WALLET
from kiwishop.platform import ops_api
from kiwishop.platform.ratelimit import RateLimiter
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition
from kiwishop.seller import api_ops
from kiwishop.seller.api import router
from kiwishop.seller.consumers import wallet_reply_handler
from kiwishop.seller.migrations import MIGRATIONS, SEED
from kiwishop.seller.settings import SellerSettings
from kiwishop.seller.workers import registration_sweeper, seller_announcer


def create_app(settings: SellerSettings) -> FastAPI:
    runtime = Runtime("seller", settings)
    runtime.produces(SELLER)
    db, outbox = runtime.database(), runtime.outbox()
    on_reply = wallet_reply_handler(db, outbox)
    runtime.consume(
        group_id=settings.reply_group_id,
        topics=[WALLET],
        handlers={WALLET_CREATED: on_reply, WALLET_CREATION_FAILED: on_reply},
        contract=on_topics(WALLET),
        money_topics=[WALLET],
    )
    sweeper = registration_sweeper(db, outbox, settings)
    announcer = seller_announcer(db, outbox, settings)
    for worker in (sweeper, announcer):
        runtime.on_startup(worker.start)
        runtime.on_shutdown(worker.stop)
    app = runtime.build_app(title="kiwi-shop seller", routers=[router, api_ops.router, ops_api.router])
    app.state.settings = settings
    app.state.limits = RateLimiter(runtime.redis(ready_without=True), "seller")
    app.state.sweeper = sweeper
    app.state.announcer = announcer
    return app


SERVICE = ServiceDefinition(
    name="seller",
    settings_class=SellerSettings,
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
    seed=SEED,
    topics=(SELLER, WALLET),
)
