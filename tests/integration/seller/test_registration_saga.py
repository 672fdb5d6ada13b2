"""The registration saga on the seller side: wallet replies (published here by the test), duplicates and
late replies, and the sweeper's re-sends and compensation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import httpx

from kiwishop.contracts.topics import SELLER, WALLET
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller import handlers
from kiwishop.seller.app import create_app
from kiwishop.seller.consumers import REPLY_CONSUMER
from tests.integration.seller_wallet.support import (
    IDS,
    decoded,
    envelope,
    outbox_drained,
    processed,
    publish,
    rows,
    scalar,
    seller_settings,
)
from tests.support import as_seller, eventually, headers_dict, read_topic, running_app, unique


def created(reg: dict[str, Any], **overrides: Any) -> Envelope:
    payload = {"sagaId": reg["registrationId"], "sellerNo": reg["sellerNo"], "walletNo": IDS.next_id(), "success": True}
    return envelope("WALLET_CREATED", str(reg["sellerNo"]), **(payload | overrides))


def failed(reg: dict[str, Any]) -> Envelope:
    payload = {"sagaId": reg["registrationId"], "sellerNo": reg["sellerNo"], "success": False, "reason": "no way"}
    return envelope("WALLET_CREATION_FAILED", str(reg["sellerNo"]), **payload)


async def register(client: httpx.AsyncClient, seller_id: str | None = None) -> dict[str, Any]:
    response = await client.post("/api/sellers", json={"sellerId": seller_id or unique("s")})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def status(client: httpx.AsyncClient, reg: dict[str, Any]) -> dict[str, Any]:
    url = f"/api/sellers/registrations/{reg['registrationId']}"
    body: dict[str, Any] = (await client.get(url, headers=as_seller(reg["sellerNo"]))).json()
    return body


async def deleted(client: httpx.AsyncClient, reg: dict[str, Any]) -> bool:
    found = await client.get(f"/api/sellers/{reg['sellerNo']}", headers=as_seller(reg["sellerNo"]))
    return bool(found.json()["isDeleted"])


async def version(db: Database, reg: dict[str, Any]) -> int:
    sql = "SELECT version FROM seller_registrations WHERE registration_id = :r"
    return int(await scalar(db, sql, r=reg["registrationId"]))


async def replied(db: Database, *events: Envelope) -> None:
    for event in events:
        await eventually(lambda e=event: processed(db, REPLY_CONSUMER, e.event_id), bool, timeout_s=20)


async def test_a_success_reply_completes_the_registration_and_keeps_the_seller(
    infra: InfraSettings, seller_db: Database, publisher: KafkaPublisher
) -> None:
    async with running_app(create_app(seller_settings(infra))) as seller:
        reg = await register(seller)
        await publish(publisher, WALLET, [created(reg)])
        done = await eventually(lambda: status(seller, reg), lambda s: s["state"] == "COMPLETED", timeout_s=20)
        assert (done["attempts"], done["lastError"]) == (1, None)
        assert not await deleted(seller, reg)


async def test_a_failure_reply_soft_deletes_the_seller_and_compensates_and_the_id_can_register_again(
    infra: InfraSettings, seller_db: Database, publisher: KafkaPublisher
) -> None:
    async with running_app(create_app(seller_settings(infra))) as seller:
        reg = await register(seller)
        await publish(publisher, WALLET, [failed(reg)])
        done = await eventually(lambda: status(seller, reg), lambda s: s["state"] == "COMPENSATED", timeout_s=20)
        assert done["lastError"] == "no way"
        assert await deleted(seller, reg)
        again = await register(seller, reg["sellerId"])
        assert again["sellerNo"] != reg["sellerNo"]
        assert not await deleted(seller, again)


async def test_duplicate_and_contradicting_replies_after_completion_change_nothing(
    infra: InfraSettings, seller_db: Database, publisher: KafkaPublisher
) -> None:
    async with running_app(create_app(seller_settings(infra))) as seller:
        reg = await register(seller)
        first = created(reg)
        await publish(publisher, WALLET, [first])
        await eventually(lambda: status(seller, reg), lambda s: s["state"] == "COMPLETED", timeout_s=20)
        before = await version(seller_db, reg)
        later = [created(reg), failed(reg)]
        await publish(publisher, WALLET, [first, *later])
        await replied(seller_db, *later)
        assert (await status(seller, reg))["state"] == "COMPLETED"
        assert await version(seller_db, reg) == before
        assert not await deleted(seller, reg)


async def test_a_success_reply_arriving_after_compensation_changes_nothing(
    infra: InfraSettings, seller_db: Database, publisher: KafkaPublisher
) -> None:
    async with running_app(create_app(seller_settings(infra))) as seller:
        reg = await register(seller)
        await publish(publisher, WALLET, [failed(reg)])
        await eventually(lambda: status(seller, reg), lambda s: s["state"] == "COMPENSATED", timeout_s=20)
        late = created(reg)
        await publish(publisher, WALLET, [late])
        await replied(seller_db, late)
        assert (await status(seller, reg))["state"] == "COMPENSATED"
        assert await deleted(seller, reg)


async def test_a_reply_for_an_unknown_saga_or_without_its_success_flag_is_parked_in_the_dlt(
    infra: InfraSettings, seller_db: Database, publisher: KafkaPublisher
) -> None:
    async with running_app(create_app(seller_settings(infra))) as seller:
        reg = await register(seller)
        unknown = created(reg, sagaId=IDS.next_id())
        flagless = envelope(
            "WALLET_CREATED", str(reg["sellerNo"]), sagaId=reg["registrationId"], sellerNo=reg["sellerNo"], walletNo=9
        )
        await publish(publisher, WALLET, [unknown, flagless])

        async def parked() -> list[Any]:
            records = await read_topic(infra, f"{WALLET}.DLT", idle_s=0.3)
            wanted = {unknown.event_id, flagless.event_id}
            return [r for r, e in zip(records, decoded(records), strict=True) if e.event_id in wanted]

        found = await eventually(parked, lambda found: len(found) >= 2, timeout_s=20)
        assert all("PermanentError" in headers_dict(r)["kiwi.dlt.error"] for r in found)
        assert (await status(seller, reg))["state"] == "WALLET_REQUESTED"


async def test_an_unanswered_request_is_re_sent_with_the_same_saga_id_then_compensated(
    infra: InfraSettings, seller_db: Database
) -> None:
    settings = seller_settings(infra, registration_timeout_s=0.3, registration_max_attempts=3)
    async with running_app(create_app(settings)) as seller:
        reg = await register(seller)
        done = await eventually(lambda: status(seller, reg), lambda s: s["state"] == "COMPENSATED", timeout_s=20)
        await eventually(lambda: outbox_drained(seller_db), bool, timeout_s=20)
        assert done["attempts"] == 3
        assert "did not answer 3" in done["lastError"]
        assert await deleted(seller, reg)
    sent = [e for e in decoded(await read_topic(infra, SELLER)) if e.payload.get("sagaId") == reg["registrationId"]]
    assert len(sent) == 3
    assert {(e.type, e.key, e.payload["sellerNo"]) for e in sent} == {
        ("WALLET_CREATE_REQUESTED", str(reg["sellerNo"]), reg["sellerNo"])
    }
    assert len({e.event_id for e in sent}) == 3


async def test_two_sweepers_never_claim_the_same_registration(seller_db: Database) -> None:
    outbox = Outbox(Snowflake(997))
    ids = Snowflake(998)
    regs = [
        await handlers.register_seller(seller_db, outbox, ids, seller_id=unique("sw"), timeout_s=0) for _ in range(30)
    ]

    def sweep() -> Awaitable[handlers.SweepResult]:
        return handlers.sweep_registrations(seller_db, outbox, timeout_s=60, max_attempts=5, batch_size=100)

    results = await asyncio.gather(*(sweep() for _ in range(4)))  # two sweepers, twice each
    numbers = [r.registration_id for r in regs]
    found = await rows(
        seller_db,
        "SELECT registration_id, attempts FROM seller_registrations WHERE registration_id IN :ids",
        ids=tuple(numbers),
    )
    assert {r.attempts for r in found} == {2}
    requests = await rows(
        seller_db,
        "SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE :second AND message_key IN :keys",
        second="wallet-create:%:2",
        keys=tuple(str(r.seller_no) for r in regs),
    )
    assert len(requests) == 30
    assert sum(r.resent for r in results) >= 30  # other tests' due registrations may be swept too
