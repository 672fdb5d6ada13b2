"""Wallet creation for the registration saga, driven by WALLET_CREATE_REQUESTED on kiwi-shop-seller."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from kiwishop.contracts.topics import SELLER, WALLET
from kiwishop.platform.db import Database
from kiwishop.platform.envelope import Envelope
from kiwishop.platform.ids import Snowflake
from kiwishop.platform.kafka import KafkaPublisher
from kiwishop.platform.outbox import Outbox
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from kiwishop.wallet.consumers import creation_handler
from kiwishop.wallet.handlers import CREATION_CONSUMER
from tests.integration.seller_wallet.support import (
    IDS,
    decoded,
    envelope,
    outbox_drained,
    processed,
    publish,
    rows,
    wallet_row,
    wallet_settings,
)
from tests.support import eventually, read_topic, running_app, unique


def request(seller_no: int, seller_id: str, saga_id: int | None = None) -> Envelope:
    saga_id = saga_id or IDS.next_id()
    return envelope("WALLET_CREATE_REQUESTED", str(seller_no), sagaId=saga_id, sellerNo=seller_no, sellerId=seller_id)


async def replies_for(infra: InfraSettings, seller_no: int, expect: int) -> list[Envelope]:
    found = decoded(await read_topic(infra, WALLET, expect=expect, idle_s=0.5))
    return [e for e in found if e.key == str(seller_no)]


async def test_a_request_creates_an_empty_wallet_and_replies_created_with_success_true(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    sent = request(seller_no, unique("s"))
    async with running_app(create_app(wallet_settings(infra))):
        await publish(publisher, SELLER, [sent])
        await eventually(lambda: processed(wallet_db, CREATION_CONSUMER, sent.event_id), bool, timeout_s=20)
        await eventually(lambda: outbox_drained(wallet_db), bool, timeout_s=20)
    wallet = await wallet_row(wallet_db, seller_no)
    assert (wallet.balance, wallet.version) == (Decimal("0.00"), 0)
    assert wallet.wallet_no != seller_no
    (reply,) = await replies_for(infra, seller_no, expect=1)
    assert reply.type == "WALLET_CREATED"
    assert reply.payload == {
        "sagaId": sent.payload["sagaId"],
        "sellerNo": seller_no,
        "walletNo": wallet.wallet_no,
        "success": True,
    }


async def test_a_repeated_request_for_a_seller_with_a_wallet_succeeds_with_that_same_wallet(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no, saga_id = IDS.next_id(), IDS.next_id()
    first, second = request(seller_no, "x", saga_id), request(seller_no, "x", saga_id)
    async with running_app(create_app(wallet_settings(infra))):
        await publish(publisher, SELLER, [first, first, second])
        await eventually(lambda: processed(wallet_db, CREATION_CONSUMER, second.event_id), bool, timeout_s=20)
        await eventually(lambda: outbox_drained(wallet_db), bool, timeout_s=20)
    assert len(await rows(wallet_db, "SELECT wallet_no FROM wallets WHERE seller_no = :s", s=seller_no)) == 1
    replies = await replies_for(infra, seller_no, expect=2)
    assert [r.type for r in replies] == ["WALLET_CREATED", "WALLET_CREATED"]
    assert replies[0].payload == replies[1].payload


async def test_concurrent_requests_for_one_seller_create_one_wallet(wallet_db: Database) -> None:
    seller_no = IDS.next_id()
    handler = creation_handler(wallet_db, Outbox(Snowflake(993)), Snowflake(994))
    await asyncio.gather(*(handler(request(seller_no, "x")) for _ in range(8)))
    found = await rows(wallet_db, "SELECT wallet_no FROM wallets WHERE seller_no = :s", s=seller_no)
    assert len(found) == 1
    replies = await rows(
        wallet_db,
        "SELECT payload FROM outbox WHERE message_key = :k AND event_type = 'WALLET_CREATED'",
        k=str(seller_no),
    )
    assert len(replies) == 8
    assert all(f'"walletNo":{found[0].wallet_no}' in r.payload for r in replies)


async def test_a_seller_id_matching_the_refuse_pattern_gets_a_failure_reply_and_no_wallet(
    infra: InfraSettings, wallet_db: Database, publisher: KafkaPublisher
) -> None:
    seller_no = IDS.next_id()
    sent = request(seller_no, "refuse-me")
    async with running_app(create_app(wallet_settings(infra, refuse_seller_id_pattern="^refuse-"))):
        await publish(publisher, SELLER, [sent])
        await eventually(lambda: processed(wallet_db, CREATION_CONSUMER, sent.event_id), bool, timeout_s=20)
        await eventually(lambda: outbox_drained(wallet_db), bool, timeout_s=20)
    assert await wallet_row(wallet_db, seller_no) is None
    (reply,) = await replies_for(infra, seller_no, expect=1)
    assert reply.type == "WALLET_CREATION_FAILED"
    assert reply.payload["success"] is False
    assert reply.payload["sagaId"] == sent.payload["sagaId"]
    assert "refuse" in reply.payload["reason"]
