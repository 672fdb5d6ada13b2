"""Events order consumes, by type → handler, each run once per event id in the inbox's unit of work:
WALLET_SETTLED → ``handlers.wallet_result.record_wallet_settled``."""

from __future__ import annotations

from collections.abc import Mapping

from kiwishop.contracts.events import WALLET_SETTLED, EventType
from kiwishop.order.handlers.wallet_result import record_wallet_settled
from kiwishop.order.store import SqlPaymentStore
from kiwishop.platform.db import Database, UnitOfWork
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.inbox import Handler, idempotent


def wallet_result_handlers(db: Database, store: SqlPaymentStore) -> Mapping[EventType, Handler]:
    async def wallet_settled(uow: UnitOfWork, envelope: Envelope) -> None:
        await record_wallet_settled(store.within(uow), envelope)

    return {WALLET_SETTLED: idempotent(db, "order-wallet-result", wallet_settled)}
