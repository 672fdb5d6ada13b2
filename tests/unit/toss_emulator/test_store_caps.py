"""The stores' caps (bounds.py), in memory and in the state file alike: stored responses and pending webhooks
keep their newest; the payment book forgets its oldest finished payments, never one in progress."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiwishop.platform.errors import AppError
from kiwishop.toss_emulator.bounds import PaymentRoom
from kiwishop.toss_emulator.domain import Payment, PaymentStatus
from kiwishop.toss_emulator.errors import EmulatorError
from kiwishop.toss_emulator.filestore import FileDeliveries, FilePaymentBook, FileResponses
from kiwishop.toss_emulator.statefile import StateFile
from kiwishop.toss_emulator.store import Book, Claim, IdempotencyStore, PaymentBook, Stats, StoredResponse, trimmed
from kiwishop.toss_emulator.webhooks import Deliveries, MemoryDeliveries, Webhooks

T0 = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)
EXPIRE = dt.timedelta(minutes=30)
OK = StoredResponse(200, b"{}")


@pytest.fixture(params=["memory", "file"])
def file(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateFile | None]:
    if request.param == "memory":
        yield None
        return
    opened = StateFile.open(tmp_path / "emulator.sqlite3")
    yield opened
    opened.close()


def scope(n: int) -> tuple[str, str, str, str]:
    return (f"key-{n}", "test_sk", "/v1/payments/confirm", "POST")


def test_a_store_over_its_cap_keeps_a_tenth_less() -> None:
    assert [trimmed(cap) for cap in (1, 2, 9, 10, 100_000)] == [1, 2, 9, 9, 90_000]


@pytest.mark.parametrize(("cap", "kept"), [(3, [2, 3, 4]), (10, list(range(3, 12)))])
def test_stored_responses_keep_the_newest_and_an_older_key_is_claimed_afresh(
    file: StateFile | None, cap: int, kept: list[int]
) -> None:
    store = IdempotencyStore(lambda: T0, dt.timedelta(days=15), None if file is None else FileResponses(file), cap=cap)
    for n in range(1, kept[-1] + 1):
        begun = store.begin(scope(n))
        assert isinstance(begun, Claim)
        store.complete(begun, StoredResponse(200, str(n).encode()))
    assert len(store) == len(kept) <= cap
    assert [store.begin(scope(n)) for n in kept] == [StoredResponse(200, str(n).encode()) for n in kept]
    assert isinstance(store.begin(scope(kept[0] - 1)), Claim)


@pytest.fixture
def deliveries(file: StateFile | None) -> Deliveries:
    return MemoryDeliveries() if file is None else FileDeliveries(file)


def test_pending_webhooks_over_the_cap_drop_the_oldest_and_count_them(deliveries: Deliveries) -> None:
    stats = Stats()
    webhooks = Webhooks(deliveries, enabled=True, scale=1.0, wall=lambda: 1_000, cap=10)
    for n in range(11):
        webhooks.notify(payment(f"tgen_{n:02d}", PaymentStatus.DONE), T0, stats)
    assert (len(deliveries), stats.webhooks_dropped, stats.webhook_events) == (9, 2, 11)
    assert [d.payment_key for d in deliveries.due(1_000, 100)] == [f"tgen_{n:02d}" for n in range(2, 11)]


def test_the_memory_schedule_does_not_grow_with_deliveries_that_are_gone() -> None:
    deliveries = MemoryDeliveries()
    for n in range(1_000):
        deliveries.remove(deliveries.add(f"tgen_{n}", b"{}", 10**15 + n))  # due far ahead: never popped
    assert len(deliveries) == 0
    assert len(deliveries._heap) <= 65


def payment(key: str, status: PaymentStatus = PaymentStatus.IN_PROGRESS, at: dt.datetime = T0) -> Payment:
    made = Payment(key, f"order-{key}", "상품A", 6000, "4111111111111111", at)
    made.status = status
    return made


@pytest.fixture
def book(file: StateFile | None) -> Book:
    return PaymentBook() if file is None else FilePaymentBook(file)


def keys(book: Book) -> list[str]:
    return [key for key, _, _ in book.oldest()]


def test_under_its_cap_the_book_is_left_alone(book: Book) -> None:
    book.put(payment("tgen_a", PaymentStatus.DONE))
    PaymentRoom(2, EXPIRE).make(book, T0)
    assert keys(book) == ["tgen_a"]


def test_the_oldest_finished_payments_go_and_the_ones_in_progress_stay(book: Book) -> None:
    statuses = [PaymentStatus.IN_PROGRESS, PaymentStatus.DONE, PaymentStatus.IN_PROGRESS] + [PaymentStatus.CANCELED] * 9
    for n, status in enumerate(statuses):
        book.put(payment(f"tgen_{n:02d}", status))
    assert book.holds(12)
    assert not book.holds(13)
    PaymentRoom(10, EXPIRE).make(book, T0 + dt.timedelta(minutes=1))  # with the new one: 9, a tenth below
    assert keys(book) == ["tgen_00", "tgen_02"] + [f"tgen_{n:02d}" for n in range(6, 12)]
    assert book.get("tgen_01") is None
    assert book.for_order("order-tgen_01") is None


def test_a_book_full_of_payments_in_progress_refuses_until_the_first_expires(book: Book) -> None:
    room = PaymentRoom(2, EXPIRE)
    book.put(payment("tgen_a", at=T0))
    book.put(payment("tgen_b", at=T0 + dt.timedelta(minutes=10)))
    with pytest.raises(AppError) as refused:
        room.make(book, T0 + dt.timedelta(minutes=5))
    assert (refused.value.code, refused.value.headers) == (EmulatorError.EMULATOR_FULL, {"Retry-After": "1500"})
    room.make(book, T0 + EXPIRE)  # tgen_a expired: it goes, without its webhook
    assert keys(book) == ["tgen_b"]


def test_a_full_book_is_not_scanned_again_until_a_payment_changes_or_the_first_expires(book: Book) -> None:
    room = PaymentRoom(1, EXPIRE)
    book.put(payment("tgen_a"))
    scans = []
    real_oldest = book.oldest

    def counted() -> Iterator[tuple[str, PaymentStatus, dt.datetime]]:
        scans.append(1)
        return real_oldest()

    book.oldest = counted  # type: ignore[method-assign]
    for minutes in (1, 2, 3):
        with pytest.raises(AppError):
            room.make(book, T0 + dt.timedelta(minutes=minutes))
    assert len(scans) == 1
    done = book.get("tgen_a")
    assert done is not None
    done.status = PaymentStatus.DONE
    book.save(done)
    room.changed()
    room.make(book, T0 + dt.timedelta(minutes=4))
    assert (len(scans), keys(book)) == (2, [])
