"""The services' ops reads the console shows: a service's outbox backlog (``GET /api/ops/outbox``, the platform's
route, here catalog-like's) and seller's registrations that did not complete (``GET /api/ops/registrations``) —
ops tokens only — and the console showing them, asked with the caller's token."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import insert

from kiwishop.console.app import create_app as create_console
from kiwishop.platform.clock import utcnow
from kiwishop.platform.db import Database
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.outbox import outbox_table
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import SERVICE as SELLER
from kiwishop.seller.tables import seller_registrations
from tests.integration.console.conftest import ConsoleFactory, fresh_schema, overview
from tests.integration.seller_wallet.support import seller_settings
from tests.support import as_member, as_ops, as_seller, running_app, served_app, unique

IDS = Snowflake(989)
HOUR = dt.timedelta(hours=1)


def outbox_row(created_at: dt.datetime, attempts: int) -> dict[str, object]:
    """A row the relay will not touch for an hour (it waits out its backoff)."""
    return {
        "outbox_no": IDS.next_id(), "event_id": IDS.next_id(), "event_type": "PRODUCT_LIKED", "topic": "x",
        "message_key": "1", "status": "INIT", "attempts": attempts, "next_attempt_at": utcnow() + HOUR,
        "payload": "{}", "created_at": created_at, "updated_at": created_at,
    }  # fmt: skip


async def test_the_outbox_backlog_is_for_ops_only_and_counts_rows_not_yet_published(
    likes: tuple[str, Database], console_settings: ConsoleFactory
) -> None:
    url, db = likes
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/api/ops/outbox")).status_code == 401
        assert (await client.get("/api/ops/outbox", headers=as_member(1))).status_code == 403
        empty = await client.get("/api/ops/outbox", headers=as_ops())
        assert empty.json() == {"service": "catalog-like", "pending": 0, "failed": 0, "oldestAgeSeconds": 0.0}

        async with db.uow() as uow:
            await uow.conn.execute(insert(outbox_table), [outbox_row(utcnow() - HOUR, 3), outbox_row(utcnow(), 0)])
            await uow.commit()
        backlog = (await client.get("/api/ops/outbox", headers=as_ops())).json()
    assert (backlog["pending"], backlog["failed"]) == (2, 1)
    assert 3600 <= backlog["oldestAgeSeconds"] < 3600 + 60

    async with running_app(create_console(console_settings(catalog_like_url=url))) as console:
        o = await overview(console)
    (shown,) = [r for r in o["outbox"] if r["service"] == "catalog-like"]
    assert (shown["pending"], shown["failed"]) == (2, 1)


@pytest.fixture
async def seller(infra: InfraSettings) -> AsyncIterator[tuple[str, Database]]:
    db_name = await fresh_schema(infra, "con_seller", SELLER.migrations)
    settings = seller_settings(infra, db_name=db_name, node_id=190, reply_group_id=unique("con-seller-reply"),
                               registration_timeout_s=3600.0)  # fmt: skip
    db = Database.connect(infra, db_name)
    try:
        async with served_app(SELLER.create_app(settings)) as url:
            yield url, db
    finally:
        await db.close()


def registration(state: str, seller_no: int, age: dt.timedelta) -> dict[str, object]:
    at = utcnow() - age
    return {
        "registration_id": IDS.next_id(), "seller_no": seller_no, "seller_id": f"s-{seller_no}", "state": state,
        "attempts": 2, "last_error": "wallet did not answer" if state == "COMPENSATED" else None,
        "next_attempt_at": utcnow() + HOUR, "version": 0, "created_at": at, "updated_at": at,
    }  # fmt: skip


async def test_seller_lists_the_registrations_that_did_not_complete_to_ops_only(
    seller: tuple[str, Database], console_settings: ConsoleFactory
) -> None:
    url, db = seller
    rows = [registration("WALLET_REQUESTED", 501, HOUR), registration("WALLET_REQUESTED", 502, dt.timedelta(0)),
            registration("COMPENSATED", 503, HOUR), registration("COMPLETED", 504, HOUR)]  # fmt: skip
    async with db.uow() as uow:
        await uow.conn.execute(insert(seller_registrations), rows)
        await uow.commit()
    async with httpx.AsyncClient(base_url=url) as client:
        assert (await client.get("/api/ops/registrations")).status_code == 401
        assert (await client.get("/api/ops/registrations", headers=as_seller(1))).status_code == 403
        answer = (await client.get("/api/ops/registrations", headers=as_ops())).json()
        capped = (await client.get("/api/ops/registrations", params={"limit": 1}, headers=as_ops())).json()
        assert (await client.get("/api/ops/registrations", params={"limit": 0}, headers=as_ops())).status_code == 400
    assert answer["counts"] == {"WALLET_REQUESTED": 2, "COMPENSATED": 1}
    listed = [(r["sellerNo"], r["status"], r["step"]) for r in answer["registrations"]]
    assert listed == [(501, "WALLET_REQUESTED", "WALLET_CREATION"), (502, "WALLET_REQUESTED", "WALLET_CREATION"),
                      (503, "COMPENSATED", "SELLER_DELETED")]  # fmt: skip
    first = answer["registrations"][0]
    assert {"registrationId", "sellerId", "attempts", "lastError", "createdAt", "updatedAt", "nextAttemptAt"} <= set(
        first
    )
    assert [r["sellerNo"] for r in capped["registrations"]] == [501]
    assert capped["counts"] == answer["counts"]

    async with running_app(create_console(console_settings(seller_url=url))) as console:
        o = await overview(console)
    assert [r["sellerNo"] for r in o["registrations"]] == [501, 502, 503]
    assert o["registrationCounts"] == answer["counts"]
