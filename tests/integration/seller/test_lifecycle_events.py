"""Seller's lifecycle events on kiwi-shop-seller (docs/events.md): SELLER_REGISTERED in the registration's
transaction, SELLER_DEREGISTERED in the compensation's (a refusing wallet reply or the sweeper's timeout),
and the announcer for sellers that never had an event (the seed seller, rows older than the events)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import text

from kiwishop.contracts.topics import SELLER, WALLET
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import create_app
from kiwishop.seller.handlers import announce_sellers
from tests.integration.seller_wallet.support import (
    IDS,
    decoded,
    envelope,
    outbox_drained,
    publish,
    rows,
    scalar,
    seller_settings,
)
from tests.support import as_seller, eventually, read_topic, running_app, unique

LIFECYCLE = ("SELLER_REGISTERED", "SELLER_DEREGISTERED")


async def register(client: httpx.AsyncClient, seller_id: str | None = None) -> dict[str, Any]:
    response = await client.post("/api/sellers", json={"sellerId": seller_id or unique("s")})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def state(client: httpx.AsyncClient, reg: dict[str, Any]) -> str:
    url = f"/api/sellers/registrations/{reg['registrationId']}"
    return str((await client.get(url, headers=as_seller(reg["sellerNo"]))).json()["state"])


def failed(reg: dict[str, Any], reason: str = "no way") -> Envelope:
    payload = {"sagaId": reg["registrationId"], "sellerNo": reg["sellerNo"], "success": False, "reason": reason}
    return envelope("WALLET_CREATION_FAILED", str(reg["sellerNo"]), **payload)


async def lifecycle_of(infra: InfraSettings, db: Database, *seller_nos: int) -> list[Envelope]:
    """Every lifecycle event on the topic for these sellers, once the seller's outbox is drained."""
    await eventually(lambda: outbox_drained(db), bool, timeout_s=20)
    keys = {str(n) for n in seller_nos}
    return [e for e in decoded(await read_topic(infra, SELLER)) if e.type in LIFECYCLE and e.key in keys]


async def insert_unannounced(db: Database, *, deleted: bool = False) -> tuple[int, str]:
    """A seller row as the seed or an older seller database has it: no lifecycle event yet."""
    seller_no, seller_id = IDS.next_id(), unique("old")
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO sellers (seller_no, seller_id, is_deleted, created_at, updated_at)"
                " VALUES (:n, :i, :d, UTC_TIMESTAMP(3), UTC_TIMESTAMP(3))"
            ),
            {"n": seller_no, "i": seller_id, "d": deleted},
        )
    return seller_no, seller_id


async def test_registering_writes_seller_registered_once_with_the_seller_and_its_registration(
    infra: InfraSettings, seller_db: Database
) -> None:
    async with running_app(create_app(seller_settings(infra))) as seller:
        reg = await register(seller)
        events = await lifecycle_of(infra, seller_db, reg["sellerNo"])
    assert [(e.type, e.key, e.version, e.payload) for e in events] == [
        (
            "SELLER_REGISTERED",
            str(reg["sellerNo"]),
            1,
            {"sellerNo": reg["sellerNo"], "sellerId": reg["sellerId"], "registrationId": reg["registrationId"]},
        )
    ]
    announced = await scalar(seller_db, "SELECT announced_at FROM sellers WHERE seller_no = :n", n=reg["sellerNo"])
    assert announced is not None


async def test_a_refusing_wallet_reply_writes_seller_deregistered_once_with_its_reason(
    infra: InfraSettings, seller_db: Database, publisher: KafkaPublisher
) -> None:
    async with running_app(create_app(seller_settings(infra))) as seller:
        reg = await register(seller)
        await publish(publisher, WALLET, [failed(reg), failed(reg, "again"), failed(reg, "and again")])
        await eventually(lambda: state(seller, reg), lambda s: s == "COMPENSATED", timeout_s=20)
        events = await lifecycle_of(infra, seller_db, reg["sellerNo"])
    assert [e.type for e in events] == ["SELLER_REGISTERED", "SELLER_DEREGISTERED"]
    assert (events[1].key, events[1].version, events[1].payload) == (
        str(reg["sellerNo"]),
        1,
        {"sellerNo": reg["sellerNo"], "sellerId": reg["sellerId"], "reason": "no way"},
    )


async def test_a_registration_the_sweeper_compensates_writes_seller_deregistered_with_the_timeout(
    infra: InfraSettings, seller_db: Database
) -> None:
    settings = seller_settings(infra, registration_timeout_s=0.2, registration_max_attempts=2)
    async with running_app(create_app(settings)) as seller:
        reg = await register(seller)
        await eventually(lambda: state(seller, reg), lambda s: s == "COMPENSATED", timeout_s=20)
        events = await lifecycle_of(infra, seller_db, reg["sellerNo"])
    assert [e.type for e in events] == ["SELLER_REGISTERED", "SELLER_DEREGISTERED"]
    assert "did not answer 2" in events[1].payload["reason"]


async def test_sellers_never_announced_are_announced_by_the_periodic_job_as_their_state_says(
    infra: InfraSettings, seller_db: Database
) -> None:
    live, live_id = await insert_unannounced(seller_db)
    deleted, deleted_id = await insert_unannounced(seller_db, deleted=True)
    async with running_app(create_app(seller_settings(infra, announce_interval_s=0.1))):
        unannounced = "SELECT COUNT(*) FROM sellers WHERE announced_at IS NULL AND seller_no IN :n"
        await eventually(lambda: scalar(seller_db, unannounced, n=(1, live, deleted)), lambda n: n == 0)
        events = await lifecycle_of(infra, seller_db, live, deleted)
    assert sorted((e.type, e.key, tuple(sorted(e.payload.items()))) for e in events) == sorted(
        [
            ("SELLER_REGISTERED", str(live), (("registrationId", None), ("sellerId", live_id), ("sellerNo", live))),
            (
                "SELLER_DEREGISTERED",
                str(deleted),
                (
                    ("reason", "seller was deleted before seller lifecycle events were published"),
                    ("sellerId", deleted_id),
                    ("sellerNo", deleted),
                ),
            ),
        ]
    )
    seed = [e for e in decoded(await read_topic(infra, SELLER)) if e.type == "SELLER_REGISTERED" and e.key == "1"]
    assert ("A", None) in [(e.payload["sellerId"], e.payload["registrationId"]) for e in seed]  # the seed seller


async def test_two_announcers_at_once_announce_every_seller_exactly_once(seller_db: Database) -> None:
    sellers = [(await insert_unannounced(seller_db, deleted=i % 3 == 0))[0] for i in range(30)]
    outbox = Outbox(Snowflake(996))
    for _ in range(3):  # two announcers at once, a batch of 10 each
        await asyncio.gather(*(announce_sellers(seller_db, outbox, batch_size=10) for _ in range(2)))
    await asyncio.gather(*(announce_sellers(seller_db, outbox, batch_size=10) for _ in range(2)))  # nothing left
    written = await rows(
        seller_db,
        "SELECT message_key, event_type FROM outbox WHERE message_key IN :keys",
        keys=tuple(str(n) for n in sellers),
    )
    expected = {str(n): "SELLER_DEREGISTERED" if i % 3 == 0 else "SELLER_REGISTERED" for i, n in enumerate(sellers)}
    assert sorted((r.message_key, r.event_type) for r in written) == sorted(expected.items())
