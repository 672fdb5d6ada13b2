"""Settlement of a PAYMENT_CONFIRM (``handlers.settle``) against the in-memory ledger."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kiwishop.contracts.events import WALLET_SETTLED
from kiwishop.platform.consumer import PermanentError
from kiwishop.platform.db import ConflictError, is_transient, retry_on_conflict
from kiwishop.platform.envelope import Envelope
from kiwishop.wallet.handlers import SETTLEMENT_CONSUMER, settle
from tests.unit.wallet.fakes import Credit, FakeLedger, paid


def settled(ledger: FakeLedger, order_id: str) -> list[dict[str, Any]]:
    return [m.payload for m in ledger.messages(WALLET_SETTLED) if m.payload["orderId"] == order_id]


async def test_each_success_line_is_credited_once_to_the_wallet_of_its_seller_number() -> None:
    ledger = FakeLedger()
    # Seller 10's wallet is numbered 20 and seller 20's is numbered 10: money follows the seller number.
    ledger.add_wallet(10, wallet_no=20)
    ledger.add_wallet(20, wallet_no=10)
    await settle(ledger, paid("o-1", (101, 10, "700.00", "SUCCESS"), (102, 20, "5.00", "SUCCESS")))
    assert ledger.state.credits == {
        "settle:o-1:101": Credit(wallet_no=20, amount=Decimal("700.00"), order_id="o-1", payment_order_no=101),
        "settle:o-1:102": Credit(wallet_no=10, amount=Decimal("5.00"), order_id="o-1", payment_order_no=102),
    }
    assert (ledger.balance(10), ledger.balance(20)) == (Decimal("700.00"), Decimal("5.00"))
    assert ledger.commits == 1


async def test_a_wallet_grows_by_the_exact_decimal_sum_of_its_lines_in_one_version_step() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7, balance="1.00")
    # the order's total (the lines' sum, as order sends it) is the largest amount a payload may carry
    lines = [(1, 7, "0.10", "SUCCESS"), (2, 7, "0.20", "SUCCESS"), (3, 7, "9999999999999.69", "SUCCESS")]
    await settle(ledger, paid("o-2", *lines))
    wallet = ledger.state.wallets[7]
    assert (wallet.balance, wallet.version) == (Decimal("10000000000000.99"), 1)
    assert str(wallet.balance) == "10000000000000.99"


async def test_failure_lines_are_ignored() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    await settle(ledger, paid("o-3", (1, 7, "0.10", "SUCCESS"), (2, 7, "5.00", "FAILURE"), (3, 8, "1.00", "FAILURE")))
    assert list(ledger.state.credits) == ["settle:o-3:1"]
    assert ledger.balance(7) == Decimal("0.10")
    assert ledger.state.held == {}
    assert settled(ledger, "o-3") == [
        {"orderId": "o-3", "sellers": [{"sellerNo": 7, "amount": Decimal("0.10")}], "held": []}
    ]


async def test_lines_already_credited_are_skipped() -> None:
    ledger = FakeLedger()
    wallet_no = ledger.add_wallet(7, balance="3.00")
    ledger.state.credits["settle:o-4:1"] = Credit(wallet_no, Decimal("3.00"), "o-4", 1)  # credited earlier
    await settle(ledger, paid("o-4", (1, 7, "3.00", "SUCCESS"), (2, 7, "4.00", "SUCCESS")))
    assert sorted(ledger.state.credits) == ["settle:o-4:1", "settle:o-4:2"]
    assert ledger.state.credits["settle:o-4:1"] == Credit(wallet_no, Decimal("3.00"), "o-4", 1)
    assert (ledger.balance(7), ledger.state.wallets[7].version) == (Decimal("7.00"), 1)


async def test_a_seller_without_a_wallet_is_held_not_credited_and_listed_under_held() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(1)
    event = paid("o-5", (11, 1, "1.00", "SUCCESS"), (12, 2, "2.00", "SUCCESS"), (13, 2, "0.50", "SUCCESS"))
    await settle(ledger, event)  # no error: the money waits for seller 2's wallet
    assert list(ledger.state.credits) == ["settle:o-5:11"]
    assert ledger.balance(1) == Decimal("1.00")
    held = ledger.state.held
    assert sorted(held) == ["settle:o-5:12", "settle:o-5:13"]
    assert {(h.line.line.seller_no, h.line.line.amount, h.event_id, h.released) for h in held.values()} == {
        (2, Decimal("2.00"), event.event_id, False),
        (2, Decimal("0.50"), event.event_id, False),
    }
    assert settled(ledger, "o-5") == [
        {
            "orderId": "o-5",
            "sellers": [{"sellerNo": 1, "amount": Decimal("1.00")}],
            "held": [{"sellerNo": 2, "amount": Decimal("2.50")}],
        }
    ]


async def test_wallet_settled_is_answered_on_every_delivery_and_a_repeat_credits_nothing() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    first = paid("o-6", (1, 7, "10.00", "SUCCESS"))
    again = paid("o-6", (1, 7, "10.00", "SUCCESS"))  # order re-emitting it with a new event id
    for event in (first, first, again):
        await settle(ledger, event)
    assert (ledger.balance(7), ledger.state.wallets[7].version) == (Decimal("10.00"), 1)
    assert list(ledger.state.credits) == ["settle:o-6:1"]
    answers = ledger.state.outbox
    assert {k: m.sends for k, m in answers.items()} == {
        f"wallet-settled:{first.event_id}": 2,  # the same WALLET_SETTLED made due again
        f"wallet-settled:{again.event_id}": 1,
    }
    assert all(m.payload == settled(ledger, "o-6")[0] for m in answers.values())
    assert all((m.type, m.key) == ("WALLET_SETTLED", "o-6") for m in answers.values())
    consumer = SETTLEMENT_CONSUMER
    assert ledger.state.deliveries == [
        (consumer, first.event_id),
        (consumer, first.event_id),
        (consumer, again.event_id),
    ]


async def test_a_repeat_of_a_held_order_holds_nothing_twice_and_still_answers() -> None:
    ledger = FakeLedger()
    event = paid("o-7", (1, 3, "1.00", "SUCCESS"))
    await settle(ledger, event)
    await settle(ledger, event)
    assert list(ledger.state.held) == ["settle:o-7:1"]
    assert ledger.state.credits == {}
    assert [m.sends for m in ledger.messages(WALLET_SETTLED)] == [2]


async def test_an_order_without_success_lines_is_answered_without_touching_a_wallet() -> None:
    ledger = FakeLedger()
    await settle(ledger, paid("o-8", (1, 3, "1.00", "FAILURE")))
    assert settled(ledger, "o-8") == [{"orderId": "o-8", "sellers": [], "held": []}]
    assert ledger.calls == ["record_delivery", "answer", "commit"]


async def test_an_order_is_settled_with_one_lookup_one_credit_batch_and_one_balance_update() -> None:
    ledger = FakeLedger()
    for seller_no in (1, 2, 3):
        ledger.add_wallet(seller_no)
    lines = [(n, 1 + n % 3, f"{n}.00", "SUCCESS") for n in range(1, 7)]
    await settle(ledger, paid("o-9", *lines))
    assert ledger.calls == ["record_delivery", "lookup", "answer", "credit", "add_to_balances", "commit"]
    assert ledger.balance(1) == Decimal("9.00")


async def test_a_version_that_moved_raises_the_transient_conflict_and_keeps_nothing() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    ledger.moved_before_update.add(7)
    event = paid("o-10", (1, 7, "2.00", "SUCCESS"))
    with pytest.raises(ConflictError) as raised:
        await settle(ledger, event)
    assert is_transient(raised.value)  # the runner re-runs the whole handler
    assert (ledger.commits, ledger.state.credits, ledger.state.outbox) == (0, {}, {})
    assert ledger.balance(7) == Decimal("0.00")
    await retry_on_conflict(lambda: settle(ledger, event))  # the re-run, on fresh reads, settles it
    assert (ledger.balance(7), list(ledger.state.credits)) == (Decimal("2.00"), ["settle:o-10:1"])


async def test_a_conflict_on_the_re_run_of_a_retried_order_still_credits_once() -> None:
    ledger = FakeLedger()
    ledger.add_wallet(7)
    event = paid("o-11", (1, 7, "2.00", "SUCCESS"))
    ledger.moved_before_update.add(7)
    await retry_on_conflict(lambda: settle(ledger, event), base_delay_s=0.0)
    await retry_on_conflict(lambda: settle(ledger, event), base_delay_s=0.0)
    assert (ledger.balance(7), ledger.state.wallets[7].version) == (Decimal("2.00"), 1)


@pytest.mark.parametrize(
    "payload",
    [
        {"paymentOrderList": []},
        {
            "orderId": "o",
            "paymentOrderList": [{"paymentOrderNo": 1, "sellerNo": 1, "amount": 1.5, "status": "SUCCESS"}],
        },
        {"orderId": "o", "paymentOrderList": [{"paymentOrderNo": 1, "sellerNo": 0, "amount": 1, "status": "SUCCESS"}]},
    ],
)
async def test_an_invalid_payload_raises_the_permanent_error_and_writes_nothing(payload: dict[str, Any]) -> None:
    ledger = FakeLedger()
    ledger.add_wallet(1)
    with pytest.raises(PermanentError):
        await settle(ledger, Envelope(event_id=1, type="PAYMENT_CONFIRM", payload=payload, key="o"))
    assert (ledger.commits, ledger.calls) == (0, [])
