"""A cancel of lines that were never credited (``refunds.refund``) against the in-memory ledger: a line still
held for a seller without a wallet is released without a credit, and a cancel that overtook its order's
PAYMENT_CONFIRM is debited (seller with a wallet) or held as canceled (without one) — never credited twice,
never lost."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.handlers import release_held, settle
from kiwishop.wallet.refunds import refund
from tests.unit.wallet.fakes import Credit, FakeLedger, canceled, paid

ORDER = [(1, 7, "1000.00"), (2, 9, "2000.00")]  # seller 7 has a wallet, seller 9 none yet


def sale(order_id: str) -> Envelope:
    """PAYMENT_CONFIRM of ``ORDER``."""
    return paid(order_id, *[(no, s, a, "SUCCESS") for no, s, a in ORDER])


def holds(ledger: FakeLedger) -> dict[str, tuple[bool, bool]]:
    """Credit key → (released, canceled)."""
    return {k: (h.released, h.canceled) for k, h in ledger.state.held.items()}


async def test_a_held_line_canceled_is_released_without_a_credit_and_never_credited_later() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    confirm = sale("o-1")
    await settle(ledger, confirm)
    await refund(ledger, canceled("o-1", (2, 9, "2000.00"), of=ORDER))
    assert holds(ledger) == {"settle:o-1:2": (True, True)}
    assert ledger.state.debits == {}  # the seller never got it
    ledger.add_wallet(9)
    assert await release_held(ledger, 9) == 0  # the wallet arrives: nothing to credit
    await settle(ledger, confirm)  # and a late repeat of the sale credits nothing either
    assert (ledger.balance(9), ledger.state.wallets[9].version) == (Decimal("0.00"), 0)
    assert list(ledger.state.credits) == ["settle:o-1:1"]
    await refund(ledger, canceled("o-1", (2, 9, "2000.00"), of=ORDER))  # a repeat of the cancel, wallet or not
    assert (ledger.state.debits, ledger.balance(9)) == ({}, Decimal("0.00"))


async def test_a_held_line_whose_wallet_exists_but_was_not_swept_yet_is_released_not_debited() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    await settle(ledger, sale("o-2"))
    ledger.add_wallet(9)  # the sweeper has not run yet
    await refund(ledger, canceled("o-2", *ORDER))
    assert holds(ledger) == {"settle:o-2:2": (True, True)}
    assert list(ledger.state.debits) == ["debit:o-2:1"]  # seller 7's credited line is debited
    assert (ledger.balance(7), ledger.balance(9)) == (Decimal("0.00"), Decimal("0.00"))
    assert await release_held(ledger, 9) == 0


async def test_a_held_line_credited_since_its_wallet_arrived_is_debited() -> None:
    ledger = FakeLedger()
    await settle(ledger, paid("o-3", (2, 9, "2000.00", "SUCCESS")))
    wallet_no = ledger.add_wallet(9)
    assert await release_held(ledger, 9) == 1
    await refund(ledger, canceled("o-3", (2, 9, "2000.00")))
    assert ledger.state.debits == {"debit:o-3:2": Credit(wallet_no, Decimal("2000.00"), "o-3", 2)}
    assert (ledger.balance(9), ledger.ledger_sum(9)) == (Decimal("0.00"), Decimal("0.00"))


async def test_a_cancel_ahead_of_its_confirm_is_debited_then_the_confirm_credits_and_the_seller_nets_zero() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    await refund(ledger, canceled("o-4", (1, 7, "1000.00"), of=ORDER))
    assert (ledger.balance(7), ledger.ledger_sum(7)) == (Decimal("-1000.00"), Decimal("-1000.00"))
    await settle(ledger, paid("o-4", (1, 7, "1000.00", "SUCCESS")))  # the confirm, behind it on the partition
    assert sorted(ledger.state.credits) == ["settle:o-4:1"]
    assert (ledger.balance(7), ledger.ledger_sum(7)) == (Decimal("0.00"), Decimal("0.00"))
    await refund(ledger, canceled("o-4", (1, 7, "1000.00"), of=ORDER))  # repeated after the credit: nothing more
    assert (list(ledger.state.debits), ledger.balance(7)) == (["debit:o-4:1"], Decimal("0.00"))


@pytest.mark.parametrize("wallet_first", [False, True])
async def test_a_cancel_ahead_of_its_confirm_for_a_seller_without_a_wallet_is_never_held_nor_credited(
    wallet_first: bool,
) -> None:
    ledger = FakeLedger()
    await refund(ledger, canceled("o-5", (2, 9, "2000.00"), of=ORDER))
    assert holds(ledger) == {"settle:o-5:2": (True, True)}  # held as canceled already
    ledger.add_wallet(7)
    if wallet_first:
        ledger.add_wallet(9)  # the seller's wallet exists by the time the confirm arrives
    await settle(ledger, sale("o-5"))
    if not wallet_first:
        ledger.add_wallet(9)
    assert await release_held(ledger, 9) == 0
    assert list(ledger.state.credits) == ["settle:o-5:1"]  # seller 7's line only
    assert (ledger.balance(9), ledger.state.debits) == (Decimal("0.00"), {})
    assert holds(ledger) == {"settle:o-5:2": (True, True)}


async def test_one_cancel_releases_a_hold_and_debits_a_credit_in_one_transaction() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    await settle(ledger, sale("o-6"))
    ledger.calls.clear()
    await refund(ledger, canceled("o-6", *ORDER))
    assert ledger.calls == ["record_delivery", "refund_lookup", "cancel_held", "debit", "add_to_balances", "commit"]
    assert ledger.commits == 2


async def test_a_cancel_that_disagrees_with_the_held_line_is_parked_and_writes_nothing() -> None:
    ledger = FakeLedger()
    await settle(ledger, paid("o-7", (2, 9, "2000.00", "SUCCESS")))
    with pytest.raises(PermanentError, match=r"held 2000\.00"):
        await refund(ledger, canceled("o-7", (2, 9, "20.00")))
    assert holds(ledger) == {"settle:o-7:2": (False, False)}
    assert ledger.commits == 1
