from __future__ import annotations

from fastapi import FastAPI

from kiwishop.contracts.events import PAYMENT_CANCELED, PAYMENT_CONFIRM, WALLET_CREATE_REQUESTED, on_topics
from kiwishop.contracts.topics import PAYMENT, SELLER, WALLET
from kiwishop.platform import ops_api
from kiwishop.platform.runtime import Runtime
from kiwishop.platform.service import ServiceDefinition
from kiwishop.wallet.api import router
from kiwishop.wallet.consumers import creation_handler, refund_handler, settlement_handler
from kiwishop.wallet.migrations import MIGRATIONS, SEED
from kiwishop.wallet.repository import SqlLedger
from kiwishop.wallet.settings import WalletSettings
from kiwishop.wallet.workers import HeldSettlementSweeper


def create_app(settings: WalletSettings) -> FastAPI:
    runtime = Runtime("wallet", settings)
    runtime.produces(WALLET)
    db, outbox, ids = runtime.database(), runtime.outbox(), runtime.ids
    runtime.consume(
        group_id=settings.creation_group_id,
        topics=[SELLER],
        handlers={
            WALLET_CREATE_REQUESTED: creation_handler(db, outbox, ids, refuse_pattern=settings.refuse_seller_id_pattern)
        },
        contract=on_topics(SELLER),
    )
    runtime.consume(
        group_id=settings.settlement_group_id,
        topics=[PAYMENT],
        handlers={
            PAYMENT_CONFIRM: settlement_handler(
                db, outbox, ids, conflict_attempts=settings.settlement_conflict_attempts
            ),
            PAYMENT_CANCELED: refund_handler(db, outbox, ids, conflict_attempts=settings.settlement_conflict_attempts),
        },
        contract=on_topics(PAYMENT),
        money_topics=[PAYMENT],
    )
    runtime.worker(
        HeldSettlementSweeper(
            db, SqlLedger(db, outbox, ids), registry=runtime.metrics.registry, interval_s=settings.held_sweep_interval_s
        )
    )
    app = runtime.build_app(title="kiwi-shop wallet", routers=[router, ops_api.router])
    app.state.settings = settings
    return app


SERVICE = ServiceDefinition(
    name="wallet",
    settings_class=WalletSettings,
    create_app=create_app,  # type: ignore[arg-type]
    migrations=MIGRATIONS,
    seed=SEED,
    topics=(SELLER, PAYMENT, WALLET),
)
