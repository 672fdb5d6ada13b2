"""An operator's view of and actions on orders in doubt (``api_ops.py``, the console's payments): the lists, "re-check
now" and "cancel at the PSP", against real MariaDB and the Toss emulator over HTTP.

Each order is put in doubt the way a lost confirm answer leaves it (``make_in_doubt``) and then QUARANTINED with
its next look far away, so the order app's own recovery worker never touches it: only the operator's action does.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from kiwishop.order.app import create_app
from kiwishop.order.settings import OrderSettings
from kiwishop.platform.db import Database
from tests.integration.order.payments import Emulator, checkout, exact
from tests.integration.order.recovery_support import confirm_events, make_in_doubt, status_of
from tests.support import as_member, as_ops, running_app, tokens

SECRET = ("test_sk_zXLkKEypNArWmo50nX3lmeaxYG5R", "")


@pytest.fixture
async def order(order_settings: Callable[..., OrderSettings], emulator_url: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = order_settings(toss_api_url=emulator_url, psp_max_attempts=1, quarantine_recheck_s=3600.0)
    async with running_app(create_app(settings)) as client:
        yield client


async def quarantined(order: httpx.AsyncClient, emulator: Emulator, db: Database, *, approve: bool) -> dict[str, Any]:
    """An order of 1,000 won QUARANTINED with a payment at the PSP — approved (DONE) or only authorised."""
    created = await checkout(order, [1])
    key = await emulator.authorise(created["orderId"], created["amount"])
    if approve:
        body = {"paymentKey": key, "orderId": created["orderId"], "amount": int(created["amount"])}
        done = await emulator.client.post("/v1/payments/confirm", json=body, auth=SECRET)
        assert done.json()["status"] == "DONE", done.text
    await make_in_doubt(db, created["orderId"], key)
    async with db.uow() as uow:
        await uow.conn.execute(
            text("UPDATE payment_orders SET payment_order_status = 'QUARANTINED' WHERE order_id = :o"),
            {"o": created["orderId"]},
        )
        await uow.conn.execute(
            text("UPDATE payment_events SET next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL 1 DAY WHERE order_id = :o"),
            {"o": created["orderId"]},
        )
        await uow.commit()
    return {**created, "paymentKey": key}


def subject_of(token: str) -> str:
    claims = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["sub"])


async def history(db: Database, order_id: str) -> list[tuple[str, str, str]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT h.new_status, h.reason, h.changed_by FROM payment_order_histories h"
                " JOIN payment_orders o USING (payment_order_no) WHERE o.order_id = :o AND o.payment_order_no ="
                " (SELECT MIN(payment_order_no) FROM payment_orders WHERE order_id = :o)"
                " ORDER BY h.payment_order_history_no"
            ),
            {"o": order_id},
        )
        return [(str(r.new_status), str(r.reason), str(r.changed_by)) for r in rows]


async def test_only_ops_may_see_or_act(order: httpx.AsyncClient, emulator: Emulator, order_db: Database) -> None:
    held = await quarantined(order, emulator, order_db, approve=True)
    canceled_before = int((await emulator.stats())["canceled"])
    routes = [
        ("GET", "/api/ops/payments", None),
        ("POST", f"/api/ops/payments/{held['orderId']}/recheck", None),
        ("POST", f"/api/ops/payments/{held['orderId']}/cancel-at-psp", {"reason": "test"}),
    ]
    for method, path, body in routes:
        anonymous = await order.request(method, path, json=body)
        assert anonymous.status_code == 401, (path, anonymous.text)
        buyer = await order.request(method, path, json=body, headers=as_member(1))
        assert (buyer.status_code, buyer.json()["code"]) == (403, "AUTH0002"), (path, buyer.text)
    assert (await status_of(order, held["orderId"]))["status"] == "QUARANTINED"  # nothing was done
    assert int((await emulator.stats())["canceled"]) == canceled_before


async def test_the_list_shows_orders_in_doubt_with_counts(
    order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    held = await quarantined(order, emulator, order_db, approve=False)
    response = await order.get("/api/ops/payments", params={"limit": 5}, headers=as_ops())
    assert response.status_code == 200, response.text
    body = exact(response)
    assert body["counts"]["QUARANTINED"] == 1
    assert set(body["counts"]) == {"UNKNOWN", "EXECUTING", "QUARANTINED", "UNSETTLED"}
    [row] = body["quarantined"]
    assert (row["orderId"], row["status"], row["totalAmount"], row["paymentKey"]) == (
        held["orderId"], "QUARANTINED", held["amount"], held["paymentKey"],
    )  # fmt: skip
    bad = await order.get("/api/ops/payments", params={"limit": 0}, headers=as_ops())
    assert bad.status_code == 400, bad.text


async def test_recheck_now_records_the_psps_word_as_the_operator(
    order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    held = await quarantined(order, emulator, order_db, approve=True)
    response = await order.post(f"/api/ops/payments/{held['orderId']}/recheck", headers=as_ops())
    assert response.status_code == 200, response.text
    assert response.json() == {"orderId": held["orderId"], "before": "QUARANTINED", "status": "SUCCESS",
                               "pspStatus": None}  # fmt: skip
    assert await confirm_events(order_db, held["orderId"]) == 1  # settles like any paid order
    operator = f"ops:{subject_of(tokens().ops())}"
    assert (await history(order_db, held["orderId"]))[-2:] == [
        ("EXECUTING", "OPS_RECHECK", operator), ("SUCCESS", "PSP_APPROVED", operator),
    ]  # fmt: skip
    again = await order.post(f"/api/ops/payments/{held['orderId']}/recheck", headers=as_ops())
    assert (again.status_code, again.json()["code"]) == (409, "PEC0020"), again.text
    unknown = await order.post("/api/ops/payments/no-such-order-1/recheck", headers=as_ops())
    assert (unknown.status_code, unknown.json()["code"]) == (404, "PEC0004"), unknown.text


async def test_cancel_at_the_psp_gives_the_money_back_once_and_fails_the_order_on_the_psps_word(
    order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    held = await quarantined(order, emulator, order_db, approve=True)
    canceled_before = int((await emulator.stats())["canceled"])
    path = f"/api/ops/payments/{held['orderId']}/cancel-at-psp"
    response = await order.post(path, json={"reason": "duplicate charge"}, headers=as_ops())
    assert response.status_code == 200, response.text
    assert response.json() == {"orderId": held["orderId"], "before": "QUARANTINED", "status": "FAILURE",
                               "pspStatus": "PAYMENT_CANCELED"}  # fmt: skip
    at_psp = await emulator.client.get(f"/v1/payments/{held['paymentKey']}", auth=SECRET)
    assert at_psp.json()["status"] == "CANCELED"
    assert int((await emulator.stats())["canceled"]) == canceled_before + 1
    result = await status_of(order, held["orderId"])
    assert (result["status"], result["failure"]["code"]) == ("FAILURE", "CANCELED_BY_OPS")
    assert await confirm_events(order_db, held["orderId"]) == 0  # nothing reaches a wallet
    again = await order.post(path, json={"reason": "duplicate charge"}, headers=as_ops())
    assert (again.status_code, again.json()["code"]) == (409, "PEC0020"), again.text
    assert int((await emulator.stats())["canceled"]) == canceled_before + 1  # still once
    empty = await order.post(path, json={"reason": "  "}, headers=as_ops())
    assert empty.status_code == 400, empty.text


async def test_cancel_at_the_psp_while_the_psp_is_down_keeps_the_order_in_doubt(
    order: httpx.AsyncClient, emulator: Emulator, order_db: Database
) -> None:
    held = await quarantined(order, emulator, order_db, approve=True)
    await emulator.faults(fault5xxRate=1.0, faultLookups=True)
    path = f"/api/ops/payments/{held['orderId']}/cancel-at-psp"
    response = await order.post(path, json={"reason": "customer asked"}, headers=as_ops())
    assert response.status_code == 200, response.text
    assert response.json()["status"] in ("UNKNOWN", "QUARANTINED")  # no word from the PSP: no verdict
    await emulator.faults(fault5xxRate=0.0, faultLookups=False)
    at_psp = await emulator.client.get(f"/v1/payments/{held['paymentKey']}", auth=SECRET)
    assert at_psp.json()["status"] == "DONE"  # nothing was cancelled
    assert (await status_of(order, held["orderId"]))["status"] != "FAILURE"
