"""Releasing held settlements (``handlers.release_held``) against the in-memory ledger: a seller's held lines
are credited exactly once, with the key a direct credit would have had, once its wallet exists."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kiwishop.platform.db import ConflictError, is_transient
from kiwishop.wallet.handlers import release_held, settle
from tests.unit.wallet.fakes import Credit, FakeLedger, paid


async def held_for(ledger: FakeLedger, seller_no: int, *orders: tuple[str, int, str]) -> None:
    """Settle (order id, paymentOrderNo, amount) lines of ``seller_no`` while it has no wallet: they are held."""
    for order_id, no, amount in orders:
        await settle(ledger, paid(order_id, (no, seller_no, amount, "SUCCESS")))


def open_holds(ledger: FakeLedger, seller_no: int) -> list[str]:
    return sorted(k for k, h in ledger.state.held.items() if h.line.line.seller_no == seller_no and not h.released)


async def test_release_credits_each_held_line_once_with_its_settlement_key_and_marks_it_released() -> None:
    ledger = FakeLedger()
    await held_for(ledger, 5, ("o-1", 11, "1500.00"), ("o-1", 12, "500.00"), ("o-2", 21, "0.10"))
    wallet_no = ledger.add_wallet(5)
    assert await release_held(ledger, 5) == 3
    assert ledger.state.credits == {
        "settle:o-1:11": Credit(wallet_no, Decimal("1500.00"), "o-1", 11),
        "settle:o-1:12": Credit(wallet_no, Decimal("500.00"), "o-1", 12),
        "settle:o-2:21": Credit(wallet_no, Decimal("0.10"), "o-2", 21),
    }
    assert (ledger.balance(5), ledger.state.wallets[5].version) == (Decimal("2000.10"), 1)
    assert open_holds(ledger, 5) == []
    assert all(h.released for h in ledger.state.held.values())


async def test_release_credits_one_batch_per_order_and_updates_the_balance_once() -> None:
    ledger = FakeLedger()
    await held_for(ledger, 5, ("o-1", 11, "1.00"), ("o-2", 21, "2.00"))
    ledger.add_wallet(5)
    ledger.calls.clear()
    await release_held(ledger, 5)
    assert ledger.calls == [
        "wallet_for_update", "held_for_update", "credited", "credit", "credit", "add_to_balances", "mark_released",
        "commit",
    ]  # fmt: skip


async def test_release_without_a_wallet_does_nothing() -> None:
    ledger = FakeLedger()
    await held_for(ledger, 5, ("o-1", 11, "1.00"))
    before = ledger.state
    assert await release_held(ledger, 5) == 0
    assert ledger.state.credits == {}
    assert open_holds(ledger, 5) == ["settle:o-1:11"]
    assert ledger.state == before


async def test_a_second_release_and_a_late_repeat_of_the_sale_credit_nothing_more() -> None:
    ledger = FakeLedger()
    await held_for(ledger, 5, ("o-1", 11, "3.00"))
    ledger.add_wallet(5)
    assert await release_held(ledger, 5) == 1
    assert await release_held(ledger, 5) == 0
    await settle(ledger, paid("o-1", (11, 5, "3.00", "SUCCESS")))
    assert (ledger.balance(5), list(ledger.state.credits)) == (Decimal("3.00"), ["settle:o-1:11"])


async def test_a_held_line_credited_meanwhile_is_released_without_a_second_credit() -> None:
    ledger = FakeLedger()
    await held_for(ledger, 5, ("o-1", 11, "3.00"), ("o-2", 21, "4.00"))
    wallet_no = ledger.add_wallet(5, balance="3.00")
    ledger.state.credits["settle:o-1:11"] = Credit(wallet_no, Decimal("3.00"), "o-1", 11)
    assert await release_held(ledger, 5) == 1
    assert ledger.balance(5) == Decimal("7.00")
    assert open_holds(ledger, 5) == []


async def test_release_touches_only_the_given_sellers_lines() -> None:
    ledger = FakeLedger()
    await held_for(ledger, 5, ("o-1", 11, "1.00"))
    await held_for(ledger, 6, ("o-2", 21, "2.00"))
    ledger.add_wallet(5)
    ledger.add_wallet(6)
    assert await release_held(ledger, 5) == 1
    assert (open_holds(ledger, 5), open_holds(ledger, 6)) == ([], ["settle:o-2:21"])
    assert (ledger.balance(5), ledger.balance(6)) == (Decimal("1.00"), Decimal("0.00"))


async def test_a_version_that_moved_during_a_release_raises_the_transient_conflict_and_keeps_the_hold() -> None:
    ledger = FakeLedger()
    await held_for(ledger, 5, ("o-1", 11, "1.00"))
    ledger.add_wallet(5)
    ledger.moved_before_update.add(5)
    with pytest.raises(ConflictError) as raised:
        await release_held(ledger, 5)
    assert is_transient(raised.value)
    assert (ledger.state.credits, open_holds(ledger, 5)) == ({}, ["settle:o-1:11"])
    assert await release_held(ledger, 5) == 1
