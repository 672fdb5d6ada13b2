"""Confirmation through the Toss emulator over HTTP: every outcome class, idempotency, concurrency."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import text

from kiwishop.order.app import create_app
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from tests.integration.order.conftest import OrderTopics
from tests.integration.order.payments import Emulator, as_buyer, checkout, confirm, exact, published_confirms
from tests.support import as_member, eventually, running_app


async def history(db: Database, order_id: str) -> list[tuple[str | None, str, str]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT h.previous_status, h.new_status, h.reason FROM payment_order_histories h "
                "JOIN payment_orders o USING (payment_order_no) WHERE o.order_id = :o AND o.product_no = "
                "(SELECT MIN(product_no) FROM payment_orders WHERE order_id = :o) "
                "ORDER BY h.payment_order_history_no"
            ),
            {"o": order_id},
        )
        return [(r.previous_status, r.new_status, r.reason) for r in rows]


async def outbox_rows(db: Database, order_id: str) -> int:
    async with db.engine.connect() as conn:
        return int(
            (
                await conn.execute(text("SELECT COUNT(*) FROM outbox WHERE message_key = :o"), {"o": order_id})
            ).scalar_one()
        )


async def status_of(order: httpx.AsyncClient, order_id: str) -> str:
    return str((await order.get(f"/api/payments/{order_id}", headers=as_buyer(order_id))).json()["status"])


async def test_an_approved_payment_is_success_with_history_and_one_post_update_event(
    paying_order: httpx.AsyncClient,
    emulator: Emulator,
    order_db: Database,
    infra: InfraSettings,
    order_topics: OrderTopics,
) -> None:
    created = await checkout(paying_order, [1, 2, 3])
    key = await emulator.authorise(created["orderId"], created["amount"], created["orderName"])
    approved_before = await emulator.approved()

    response = await confirm(paying_order, key, created["orderId"], "6000")

    assert response.status_code == 200
    body = exact(response)
    assert body["status"] == "SUCCESS"
    assert body["paymentKey"] == key
    assert body["failure"] is None
    assert body["approvedAt"].endswith("+09:00")
    assert await emulator.approved() == approved_before + 1
    assert await history(order_db, created["orderId"]) == [
        (None, "NOT_STARTED", "CHECKOUT"),
        ("NOT_STARTED", "EXECUTING", "CONFIRM_STARTED"),
        ("EXECUTING", "SUCCESS", "PSP_APPROVED"),
    ]
    events = await published_confirms(infra, order_db, order_topics.payment, created["orderId"])
    assert len(events) == 1
    payload = events[0].payload
    assert events[0].type == "PAYMENT_CONFIRM"
    assert payload["paymentDone"] is True
    assert payload["paymentKey"] == key
    assert payload["totalAmount"] == Decimal("6000.00")
    assert [(line["productNo"], line["sellerNo"], line["status"]) for line in payload["paymentOrderList"]] == [
        (1, 1, "SUCCESS"), (2, 1, "SUCCESS"), (3, 1, "SUCCESS"),
    ]  # fmt: skip
    detail = await paying_order.get(
        f"/api/orders/payment-events/{created['paymentEventNo']}/members/1", headers=as_member(1)
    )
    assert detail.json()["paymentDone"] is True


@pytest.mark.parametrize("code", ["REJECT_CARD_COMPANY", "INVALID_CARD_EXPIRATION", "EXCEED_MAX_PAYMENT_AMOUNT"])
async def test_a_decline_at_confirm_is_a_final_failure_with_its_code_and_no_event(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database, code: str
) -> None:
    created = await checkout(paying_order, [2])
    key = await emulator.authorise(created["orderId"], created["amount"], confirmErrors=[code])
    response = await confirm(paying_order, key, created["orderId"], created["amount"])
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == code
    assert body["status"] == "FAILURE"
    assert body["failure"]["code"] == code
    assert (await history(order_db, created["orderId"]))[-1] == ("EXECUTING", "FAILURE", f"PSP_DECLINED:{code}")
    assert await outbox_rows(order_db, created["orderId"]) == 0
    again = await confirm(paying_order, key, created["orderId"], created["amount"])
    assert again.status_code == 400
    assert again.json()["failure"]["code"] == code


@pytest.mark.parametrize(
    "code", ["PROVIDER_ERROR", "CARD_PROCESSING_ERROR", "FAILED_INTERNAL_SYSTEM_PROCESSING", "UNKNOWN_PAYMENT_ERROR"]
)
async def test_retryable_codes_are_retried_with_the_same_key_and_end_in_one_charge(
    paying_order: httpx.AsyncClient, emulator: Emulator, code: str
) -> None:
    created = await checkout(paying_order, [1])
    key = await emulator.authorise(created["orderId"], created["amount"], confirmErrors=[code, code])
    approved_before = await emulator.approved()
    response = await confirm(paying_order, key, created["orderId"], created["amount"])
    assert response.status_code == 200
    assert response.json()["status"] == "SUCCESS"
    assert await emulator.approved() == approved_before + 1


async def test_a_timeout_is_unknown_then_recovery_confirms_it_to_success(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [1, 2])
    key = await emulator.authorise(created["orderId"], created["amount"])
    approved_before = await emulator.approved()
    await emulator.faults(faultTimeoutRate=1.0, hangS=3.0)
    response = await confirm(paying_order, key, created["orderId"], created["amount"])
    assert response.status_code == 202
    assert response.json()["status"] == "UNKNOWN"
    assert response.json()["failure"] is None  # in doubt is "확인 중", never a failure
    assert await emulator.approved() == approved_before  # a timed-out confirm charged nothing

    await emulator.faults(faultTimeoutRate=0.0)
    await eventually(lambda: status_of(paying_order, created["orderId"]), lambda s: s == "SUCCESS", timeout_s=30)
    assert await emulator.approved() == approved_before + 1  # SUCCESS because the PSP approved it, once
    reasons = [reason for _, _, reason in await history(order_db, created["orderId"])]
    assert "PSP_IN_DOUBT:PSP_TIMEOUT" in reasons
    assert "RECOVERY_STARTED" in reasons
    assert await outbox_rows(order_db, created["orderId"]) == 1


async def test_approved_then_dropped_is_replayed_by_the_retry_with_the_same_key(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [3])
    key = await emulator.authorise(created["orderId"], created["amount"])
    approved_before = await emulator.approved()
    await emulator.faults(faultDropRate=1.0, hangS=3.0)
    response = await confirm(paying_order, key, created["orderId"], created["amount"])
    assert response.status_code == 200  # the timed-out attempt's approval is replayed to the second attempt
    assert await emulator.approved() == approved_before + 1
    assert await outbox_rows(order_db, created["orderId"]) == 1


async def test_approved_then_dropped_is_found_done_by_recovery_with_a_single_charge(
    order_settings: Callable[..., OrderSettings], emulator_url: str, emulator: Emulator, order_db: Database
) -> None:
    async with running_app(create_app(order_settings(toss_api_url=emulator_url, psp_max_attempts=1))) as order:
        created = await checkout(order, [3])
        key = await emulator.authorise(created["orderId"], created["amount"])
        approved_before = await emulator.approved()
        await emulator.faults(faultDropRate=1.0, hangS=3.0, faultLookups=True)  # the confirm's lookup is lost too
        response = await confirm(order, key, created["orderId"], created["amount"])
        assert response.status_code == 202
        await emulator.faults(faultDropRate=0.0, faultLookups=False)
        await eventually(lambda: status_of(order, created["orderId"]), lambda s: s == "SUCCESS", timeout_s=30)
    assert await emulator.approved() == approved_before + 1
    assert await outbox_rows(order_db, created["orderId"]) == 1


async def test_a_tampered_amount_is_rejected_before_any_psp_call(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [1, 2, 3])
    key = await emulator.authorise(created["orderId"], created["amount"])
    calls_before = await emulator.confirm_requests()
    response = await confirm(paying_order, key, created["orderId"], "100")
    assert response.status_code == 400
    assert response.json()["code"] == "PEC0002"
    assert await emulator.confirm_requests() == calls_before
    assert await status_of(paying_order, created["orderId"]) == "NOT_STARTED"
    assert len(await history(order_db, created["orderId"])) == 1


async def test_confirming_a_finished_order_again_returns_the_stored_result(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [1])
    key = await emulator.authorise(created["orderId"], created["amount"])
    first = await confirm(paying_order, key, created["orderId"], created["amount"])
    calls = await emulator.confirm_requests()
    second = await confirm(paying_order, key, created["orderId"], created["amount"])
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert await emulator.confirm_requests() == calls
    assert [s for _, s, _ in await history(order_db, created["orderId"])].count("SUCCESS") == 1
    other_key = await confirm(paying_order, "tgen_someone_else", created["orderId"], created["amount"])
    assert other_key.status_code == 409
    assert other_key.json()["code"] == "PEC0006"


async def test_100_concurrent_confirms_of_one_order_charge_once_and_answer_alike(
    paying_order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    created = await checkout(paying_order, [1, 2, 3])
    key = await emulator.authorise(created["orderId"], created["amount"])
    approved_before = await emulator.approved()
    await emulator.faults(latencyMsMin=200, latencyMsMax=300)
    responses = await asyncio.gather(
        *(confirm(paying_order, key, created["orderId"], created["amount"]) for _ in range(100))
    )
    codes = Counter(r.status_code for r in responses)
    assert set(codes) <= {200, 409}, codes
    assert codes[200] >= 1
    assert len({r.content for r in responses if r.status_code == 200}) == 1
    assert all(r.json()["code"] == "PEC0005" for r in responses if r.status_code == 409)
    assert await emulator.approved() == approved_before + 1
    assert [s for _, s, _ in await history(order_db, created["orderId"])].count("SUCCESS") == 1
    assert await outbox_rows(order_db, created["orderId"]) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"orderId": "order-does-not-exist", "paymentKey": "tgen_x", "amount": "1000"}, 404, "PEC0004"),
        ({"orderId": "abcdef", "amount": "1000"}, 400, "INVALID_REQUEST"),
        ({"paymentKey": "tgen_x", "amount": "1000"}, 400, "INVALID_REQUEST"),
        ({"orderId": "abcdef", "paymentKey": "tgen_x", "amount": "lots"}, 400, "INVALID_REQUEST"),
        ({"orderId": "abcdef", "paymentKey": "tgen_x", "amount": -5}, 400, "INVALID_REQUEST"),
        ({"orderId": "ab", "paymentKey": "tgen_x", "amount": 5}, 400, "INVALID_REQUEST"),
    ],
)
async def test_bad_confirm_input_is_a_4xx_json_error(
    paying_order: httpx.AsyncClient, body: dict[str, object], status: int, code: str
) -> None:
    response = await paying_order.post("/api/payments/confirm", json=body, headers=as_member(1))
    assert response.status_code == status
    assert response.json()["code"] == code


async def test_malformed_json_on_confirm_is_a_400(paying_order: httpx.AsyncClient) -> None:
    response = await paying_order.post(
        "/api/payments/confirm", content=b'{"orderId": ', headers={"content-type": "application/json", **as_member(1)}
    )
    assert response.status_code == 400
    assert response.json()["code"] == "MALFORMED_JSON"
