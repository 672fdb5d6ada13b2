"""With a state file (``data_path``), a restarted emulator still knows its payments, stored responses and
counters; ``/emulator/reset`` empties the file; a file it cannot use stops the start."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiwishop.toss_emulator.app import create_app
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.toss_emulator.statefile import StateFileError
from tests.integration.toss_emulator.conftest import ADMIN, FakeClock, Toss, basic, error
from tests.support import running_app, served_app

REPLAYED = "x-emulator-replayed"
Start = Callable[[], Any]


@pytest.fixture
def data_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "emulator.sqlite3"


@pytest.fixture
def start(data_path: Path, clock: FakeClock) -> Start:
    """Starts an emulator on the state file (``async with start() as toss``); leaving the block stops it."""

    @asynccontextmanager
    async def started() -> AsyncIterator[Toss]:
        app = create_app(TossEmulatorSettings(data_path=str(data_path), webhook_url=""), clock=clock)
        async with running_app(app) as http:
            yield Toss(http, clock)

    return started


async def by_order(toss: Toss, order_id: str) -> httpx.Response:
    return await toss.http.get(f"/v1/payments/orders/{order_id}", headers=basic())


async def test_a_confirmed_payment_is_found_by_key_and_by_order_id_after_a_restart(
    data_path: Path, clock: FakeClock
) -> None:
    settings = TossEmulatorSettings(data_path=str(data_path), webhook_url="")
    async with served_app(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as http:
        before = Toss(http, clock)
        payment = await before.authorise(amount=15000)
        confirmed = (await before.confirm(payment)).json()
    async with served_app(create_app(settings, clock=clock)) as url, httpx.AsyncClient(base_url=url) as http:
        after = Toss(http, clock)
        found = await after.get(payment["paymentKey"])
        of_order = await by_order(after, payment["orderId"])
    assert (found.status_code, of_order.status_code) == (200, 200)
    assert found.json() == of_order.json() == confirmed
    assert (confirmed["status"], confirmed["totalAmount"], confirmed["vat"]) == ("DONE", 15000, 1364)
    assert confirmed["approvedAt"] is not None
    assert confirmed["card"]["approveNo"] is not None


async def test_a_confirm_replayed_after_a_restart_answers_the_first_response_without_a_second_approval(
    start: Start,
) -> None:
    async with start() as toss:
        payment = await toss.authorise(amount=6000)
        first = await toss.confirm(payment, key="confirm-before-restart")
    async with start() as toss:
        again = await toss.confirm(payment, key="confirm-before-restart")
        stats = await toss.stats()
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers
    assert (stats["approved"], stats["approvedAmount"], stats["replayed"]) == (1, 6000, 1)
    assert (stats["authorized"], stats["confirmRequests"], stats["storedResponses"], stats["payments"]) == (1, 2, 1, 1)


async def test_a_cancel_after_a_restart_works_and_is_still_there_after_the_next_restart(start: Start) -> None:
    async with start() as toss:
        payment = await toss.authorise(amount=6000)
        await toss.confirm(payment)
    async with start() as toss:
        canceled = await toss.cancel(payment["paymentKey"], cancelReason="고객 변심", cancelAmount=1000)
    async with start() as toss:
        found = (await toss.get(payment["paymentKey"])).json()
        too_soon = await toss.cancel(payment["paymentKey"], cancelReason="나머지", refundableAmount=5000)
        toss.clock.advance(1)  # the one-second rule counts from the last cancel, kept in the file
        rest = await toss.cancel(payment["paymentKey"], cancelReason="나머지", refundableAmount=5000)
        stats = await toss.stats()
    assert canceled.status_code == 200
    assert error(too_soon) == (403, "FORBIDDEN_CONSECUTIVE_REQUEST")
    assert found == canceled.json()
    assert (found["status"], found["balanceAmount"], found["cancels"][0]["cancelAmount"]) == (
        "PARTIAL_CANCELED",
        5000,
        1000,
    )
    assert (rest.status_code, rest.json()["status"], len(rest.json()["cancels"])) == (200, "CANCELED", 2)
    assert (stats["canceled"], stats["canceledAmount"]) == (2, 6000)


async def test_a_payment_in_progress_before_a_restart_can_be_confirmed_after_it(start: Start) -> None:
    async with start() as toss:
        payment = await toss.authorise(amount=6000)
        assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"
    async with start() as toss:
        confirmed = await toss.confirm(payment)
        assert (confirmed.status_code, confirmed.json()["status"]) == (200, "DONE")
        assert await toss.status(payment["paymentKey"]) == "DONE"


async def test_injected_confirm_errors_still_to_come_survive_a_restart(start: Start) -> None:
    async with start() as toss:
        created = await toss.http.post(
            "/emulator/payments",
            json={
                "orderId": "order-restart-1",
                "amount": 6000,
                "orderName": "상품A",
                "confirmErrors": ["PROVIDER_ERROR"],
            },
        )
        payment = created.json()
    async with start() as toss:
        assert error(await toss.confirm(payment)) == (400, "PROVIDER_ERROR")
    async with start() as toss:
        assert (await toss.confirm(payment)).status_code == 200


async def test_an_expiry_seen_before_a_restart_is_kept_though_the_clock_offset_is_not(start: Start) -> None:
    async with start() as toss:
        payment = await toss.authorise()
        await toss.http.post("/emulator/clock", json={"advanceS": 1800}, headers=ADMIN)
        assert await toss.status(payment["paymentKey"]) == "EXPIRED"
    async with start() as toss:
        body = (await toss.get(payment["paymentKey"])).json()
        assert (body["status"], body["failure"]["code"]) == ("EXPIRED", "EXPIRED_PAYMENT")


async def test_reset_empties_the_file_so_that_a_new_emulator_finds_nothing(start: Start, data_path: Path) -> None:
    async with start() as toss:
        payment = await toss.authorise()
        await toss.confirm(payment, key="confirm-then-reset")
        assert (await toss.http.post("/emulator/reset", headers=ADMIN)).status_code == 204
    with closing(sqlite3.connect(data_path)) as db:
        tables = ("payments", "responses", "counters")
        rows = {table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in tables}
    assert rows == {"payments": 0, "responses": 0, "counters": 0}
    async with start() as toss:
        assert error(await toss.get(payment["paymentKey"])) == (404, "NOT_FOUND_PAYMENT")
        assert error(await by_order(toss, payment["orderId"])) == (404, "NOT_FOUND_PAYMENT")
        again = await toss.confirm(payment, key="confirm-then-reset")
        assert error(again) == (404, "NOT_FOUND_PAYMENT")
        assert REPLAYED not in again.headers
        stats = await toss.stats()
    assert {name: value for name, value in stats.items() if value} == {"confirmRequests": 1, "storedResponses": 1}


def test_a_file_that_is_not_a_database_stops_the_start_with_the_reason(data_path: Path) -> None:
    data_path.parent.mkdir(parents=True)
    data_path.write_bytes(b"these are not the bytes of an SQLite database\n" * 100)
    with pytest.raises(StateFileError, match="file is not a database") as caught:
        create_app(TossEmulatorSettings(data_path=str(data_path)))
    assert str(data_path) in str(caught.value)
    assert data_path.read_bytes().startswith(b"these are not the bytes")


def test_a_path_that_cannot_be_opened_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(StateFileError, match="unable to open database file"):
        create_app(TossEmulatorSettings(data_path=str(tmp_path)))  # a folder
    (tmp_path / "a-file").write_text("x")
    with pytest.raises(StateFileError, match="a-file"):
        create_app(TossEmulatorSettings(data_path=str(tmp_path / "a-file" / "emulator.sqlite3")))


def test_another_sqlite_database_is_not_taken_for_a_state_file(data_path: Path) -> None:
    data_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(data_path)) as db:
        db.execute("CREATE TABLE payments (id INTEGER PRIMARY KEY)")
        db.commit()
    with pytest.raises(StateFileError, match="not a Toss emulator state file"):
        create_app(TossEmulatorSettings(data_path=str(data_path)))


async def test_a_second_emulator_on_a_file_in_use_stops_at_start(start: Start, data_path: Path) -> None:
    async with start() as toss:
        await toss.authorise()
        with pytest.raises(StateFileError, match="locked"):
            create_app(TossEmulatorSettings(data_path=str(data_path)))
        assert (await toss.stats())["payments"] == 1
