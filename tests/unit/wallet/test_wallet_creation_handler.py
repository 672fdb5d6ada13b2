"""Wallet creation for the seller saga (``handlers.create_wallet``) against the in-memory ledger."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest

from kiwishop.contracts.events import WALLET_CREATED, WALLET_CREATION_FAILED
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.handlers import REFUSED_REASON, create_wallet, settle
from tests.unit.wallet.fakes import FakeLedger, paid


def request(event_id: int, seller_no: int, seller_id: str = "seller-a", saga_id: int = 77) -> Envelope:
    payload: dict[str, Any] = {"sagaId": saga_id, "sellerNo": seller_no, "sellerId": seller_id}
    return Envelope(event_id=event_id, type="WALLET_CREATE_REQUESTED", payload=payload, key=str(seller_no))


async def test_a_new_seller_gets_an_empty_wallet_and_the_saga_hears_its_number() -> None:
    ledger = FakeLedger()
    await create_wallet(ledger, request(1, seller_no=5))
    wallet = ledger.state.wallets[5]
    assert (wallet.balance, wallet.version) == (Decimal("0.00"), 0)
    [reply] = ledger.messages(WALLET_CREATED)
    assert (reply.key, reply.payload) == (
        "5",
        {"sagaId": 77, "sellerNo": 5, "walletNo": wallet.wallet_no, "success": True},
    )
    assert list(ledger.state.outbox) == ["wallet-reply:1"]


async def test_the_wallet_credits_the_lines_held_for_its_seller_in_the_same_transaction() -> None:
    ledger = FakeLedger()
    await settle(ledger, paid("o-1", (11, 5, "2.50", "SUCCESS")))
    commits = ledger.commits
    await create_wallet(ledger, request(1, seller_no=5))
    assert ledger.commits == commits + 1
    assert ledger.balance(5) == Decimal("2.50")
    assert [h.released for h in ledger.state.held.values()] == [True]


async def test_a_seller_with_a_wallet_gets_that_wallet_back_and_a_repeated_request_changes_nothing() -> None:
    ledger = FakeLedger()
    wallet_no = ledger.add_wallet(5, balance="9.00")
    await create_wallet(ledger, request(1, seller_no=5))
    await create_wallet(ledger, request(1, seller_no=5))  # the same delivery again: handled once
    await create_wallet(ledger, request(2, seller_no=5))  # another request for the same seller
    assert ledger.state.wallets[5].wallet_no == wallet_no
    assert ledger.balance(5) == Decimal("9.00")
    assert [m.payload["walletNo"] for m in ledger.messages(WALLET_CREATED)] == [wallet_no, wallet_no]


async def test_a_refused_seller_id_gets_no_wallet_and_a_failure_reply() -> None:
    ledger = FakeLedger()
    await create_wallet(ledger, request(1, seller_no=5, seller_id="refuse-me"), refuse=re.compile("^refuse"))
    assert ledger.state.wallets == {}
    [reply] = ledger.messages(WALLET_CREATION_FAILED)
    assert reply.payload == {"sagaId": 77, "sellerNo": 5, "success": False, "reason": REFUSED_REASON}


async def test_an_invalid_request_raises_the_permanent_error_and_records_nothing() -> None:
    ledger = FakeLedger()
    with pytest.raises(PermanentError):
        await create_wallet(ledger, request(1, seller_no=0))
    assert (ledger.commits, ledger.calls) == (0, [])
