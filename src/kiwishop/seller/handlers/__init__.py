"""Seller's writes, one module per use case; each owns its unit of work (the reply runs inside the inbox's):

- ``registration``: register a seller (HTTP), wallet's reply moving the saga, the guarded transition and
  its compensation;
- ``sweep``: the saga's deadline — re-send the wallet request or compensate (``workers`` runs it);
- ``announce``: lifecycle events for sellers that never had one (``workers`` runs it).

They work through ``ports`` (SQL and the outbox in ``repository``); the reads are in ``queries``.
"""

from __future__ import annotations

from kiwishop.seller.handlers.announce import announce_sellers, announce_unannounced
from kiwishop.seller.handlers.registration import (
    apply_wallet_reply,
    move_registration,
    on_wallet_reply,
    register_seller,
    start_registration,
)
from kiwishop.seller.handlers.sweep import SweepResult, sweep_due, sweep_registrations

__all__ = [
    "SweepResult",
    "announce_sellers",
    "announce_unannounced",
    "apply_wallet_reply",
    "move_registration",
    "on_wallet_reply",
    "register_seller",
    "start_registration",
    "sweep_due",
    "sweep_registrations",
]
