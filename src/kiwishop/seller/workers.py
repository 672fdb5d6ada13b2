"""Seller's background loops, each a ``Periodic`` that runs one handler step until the app stops: the
registration sweeper (``handlers.sweep``) and the seller announcer (``handlers.announce``). A step that did
a full batch runs again at once."""

from __future__ import annotations

from kiwishop.platform.db import Database
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.periodic import Periodic
from kiwishop.seller.handlers import announce_sellers, sweep_registrations
from kiwishop.seller.settings import SellerSettings


def registration_sweeper(db: Database, outbox: Outbox, settings: SellerSettings) -> Periodic:
    async def step() -> bool:
        result = await sweep_registrations(
            db,
            outbox,
            timeout_s=settings.registration_timeout_s,
            max_attempts=settings.registration_max_attempts,
            batch_size=settings.sweep_batch_size,
        )
        return result.resent + result.compensated >= settings.sweep_batch_size

    return Periodic("seller-registration-sweeper", step, settings.sweep_interval_s)


def seller_announcer(db: Database, outbox: Outbox, settings: SellerSettings) -> Periodic:
    async def step() -> bool:
        return (
            await announce_sellers(db, outbox, batch_size=settings.announce_batch_size) >= settings.announce_batch_size
        )

    return Periodic("seller-announcer", step, settings.announce_interval_s)
