"""The saga's handler rules against in-memory ports (``fakes``): which registrations a reply or the sweep may
move, and that a seller's end is announced once."""

from __future__ import annotations

import datetime as dt

import pytest

from kiwishop.platform.errors import AppError
from kiwishop.platform.ids import Snowflake
from kiwishop.seller import handlers
from kiwishop.seller.domain import InvalidMessage, Registration, RegistrationState, SellerError, WalletReply
from tests.unit.seller.fakes import FakeSeller

S = RegistrationState
NOW = dt.datetime(2025, 1, 1, 12, 0, 0)
IDS = Snowflake(5)


async def registered(fake: FakeSeller, seller_id: str = "seller-1") -> Registration:
    return await handlers.start_registration(fake.tx, IDS, seller_id=seller_id, timeout_s=10)


def refused(registration: Registration, reason: str = "no way") -> WalletReply:
    return WalletReply(registration.registration_id, registration.seller_no, False, reason=reason)


def created(registration: Registration) -> WalletReply:
    return WalletReply(registration.registration_id, registration.seller_no, True, wallet_no=77)


async def test_registration_writes_seller_saga_registered_event_and_the_first_wallet_request() -> None:
    fake = FakeSeller()
    registration = await registered(fake)
    assert fake.registrations.rows[registration.registration_id].state is S.WALLET_REQUESTED
    assert not fake.sellers.rows[registration.seller_no].is_deleted
    assert [kind for kind, _ in fake.events.written] == ["SELLER_REGISTERED", "WALLET_CREATE_REQUESTED"]
    assert fake.events.of_type("WALLET_CREATE_REQUESTED")[0]["attempt"] == 1


async def test_a_taken_seller_id_is_refused_and_nothing_is_written() -> None:
    fake = FakeSeller()
    await registered(fake, "taken")
    written = list(fake.events.written)
    with pytest.raises(AppError) as refused_error:
        await registered(fake, "taken")
    assert refused_error.value.code is SellerError.DUPLICATE_SELLER_ID
    assert len(fake.registrations.rows) == 1
    assert fake.events.written == written


async def test_a_wallet_reply_moves_only_a_wallet_requested_registration() -> None:
    fake = FakeSeller()
    registration = await registered(fake)
    assert await handlers.apply_wallet_reply(fake.tx, created(registration))
    assert fake.registrations.rows[registration.registration_id].state is S.COMPLETED
    # a duplicate success and a late failure find it COMPLETED: nothing changes, the seller stays live
    assert not await handlers.apply_wallet_reply(fake.tx, created(registration))
    assert not await handlers.apply_wallet_reply(fake.tx, refused(registration))
    assert fake.registrations.rows[registration.registration_id].state is S.COMPLETED
    assert not fake.sellers.rows[registration.seller_no].is_deleted
    assert fake.events.of_type("SELLER_DEREGISTERED") == []


async def test_a_reply_naming_another_sellers_saga_or_no_saga_is_invalid_and_changes_nothing() -> None:
    fake = FakeSeller()
    registration = await registered(fake)
    with pytest.raises(InvalidMessage):
        await handlers.apply_wallet_reply(fake.tx, WalletReply(registration.registration_id, 999, True, wallet_no=1))
    with pytest.raises(InvalidMessage):
        await handlers.apply_wallet_reply(fake.tx, WalletReply(12345, registration.seller_no, True, wallet_no=1))
    assert fake.registrations.rows[registration.registration_id].state is S.WALLET_REQUESTED


async def test_compensation_deletes_the_seller_and_announces_seller_deregistered_once() -> None:
    fake = FakeSeller()
    registration = await registered(fake)
    assert await handlers.apply_wallet_reply(fake.tx, refused(registration, "wallet said no"))
    assert not await handlers.apply_wallet_reply(fake.tx, refused(registration, "again"))  # a redelivery
    later = dt.datetime(9999, 1, 1)  # everything still WALLET_REQUESTED is due
    swept = await handlers.sweep_due(
        fake.tx, now=later, answer_within=dt.timedelta(seconds=10), max_attempts=1, batch_size=10
    )
    assert swept == handlers.SweepResult(resent=0, compensated=0)  # COMPENSATED is not due any more
    saga = fake.registrations.rows[registration.registration_id]
    assert (saga.state, saga.last_error) == (S.COMPENSATED, "wallet said no")
    assert fake.sellers.rows[registration.seller_no].is_deleted
    assert fake.events.of_type("SELLER_DEREGISTERED") == [
        {"seller_no": registration.seller_no, "reason": "wallet said no"}
    ]


async def test_the_sweep_asks_again_until_max_attempts_then_compensates_once() -> None:
    fake = FakeSeller()
    registration = await registered(fake)
    wait = dt.timedelta(seconds=10)
    moment = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=1)
    first = await handlers.sweep_due(fake.tx, now=moment, answer_within=wait, max_attempts=2, batch_size=10)
    assert first == handlers.SweepResult(resent=1, compensated=0)
    assert [e["attempt"] for e in fake.events.of_type("WALLET_CREATE_REQUESTED")] == [1, 2]
    not_yet = await handlers.sweep_due(fake.tx, now=moment, answer_within=wait, max_attempts=2, batch_size=10)
    assert not_yet == handlers.SweepResult()  # asked again: due only after ``wait``
    for _ in range(2):
        moment += wait
        await handlers.sweep_due(fake.tx, now=moment, answer_within=wait, max_attempts=2, batch_size=10)
    saga = fake.registrations.rows[registration.registration_id]
    assert (saga.state, saga.attempts) == (S.COMPENSATED, 2)
    assert fake.events.of_type("SELLER_DEREGISTERED") == [
        {"seller_no": registration.seller_no, "reason": "wallet did not answer 2 wallet creation request(s)"}
    ]


async def test_sellers_without_an_event_are_announced_as_their_state_says_then_never_again() -> None:
    fake = FakeSeller()
    registration = await registered(fake)
    await handlers.apply_wallet_reply(fake.tx, refused(registration, "wallet said no"))
    fake.sellers.announced = dict.fromkeys(fake.sellers.announced)  # rows older than the events
    await fake.sellers.add(seller_no=1, seller_id="A", now=NOW)
    fake.sellers.announced[1] = None
    fake.events.written.clear()
    assert await handlers.announce_unannounced(fake.tx, batch_size=10) == 2
    assert await handlers.announce_unannounced(fake.tx, batch_size=10) == 0
    assert fake.events.written == [
        ("SELLER_REGISTERED", {"seller_no": 1, "registration_id": None}),
        ("SELLER_DEREGISTERED", {"seller_no": registration.seller_no, "reason": "wallet said no"}),
    ]
