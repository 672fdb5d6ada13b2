"""Seller and wallet together, in-process, over the real broker (Appendix A 1 and 2)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from kiwishop.contracts.topics import WALLET
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import create_app as create_seller
from kiwishop.wallet.app import create_app as create_wallet
from tests.integration.seller_wallet.support import decoded, exact, rows, seller_settings, wallet_settings
from tests.support import as_seller, eventually, read_topic, running_app, unique


async def register(seller: httpx.AsyncClient, seller_id: str) -> dict[str, Any]:
    response = await seller.post("/api/sellers", json={"sellerId": seller_id})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def state_of(seller: httpx.AsyncClient, reg: dict[str, Any]) -> dict[str, Any]:
    url = f"/api/sellers/registrations/{reg['registrationId']}"
    body: dict[str, Any] = (await seller.get(url, headers=as_seller(reg["sellerNo"]))).json()
    return body


def in_state(state: str) -> Any:
    return lambda body: body["state"] == state


async def test_registering_b_completes_with_an_empty_wallet_and_b_cannot_register_twice(
    infra: InfraSettings, seller_schema: str, wallet_schema: str
) -> None:
    async with (
        running_app(create_seller(seller_settings(infra))) as seller,
        running_app(create_wallet(wallet_settings(infra))) as wallet,
    ):
        reg = await register(seller, "B")
        done = await eventually(lambda: state_of(seller, reg), in_state("COMPLETED"), timeout_s=20)
        assert (done["attempts"], done["lastError"]) == (1, None)
        found = exact(await wallet.get(f"/api/wallets/sellers/{reg['sellerNo']}", headers=as_seller(reg["sellerNo"])))
        assert (found["balance"], found["version"], found["sellerNo"]) == (Decimal("0.00"), 0, reg["sellerNo"])
        again = await seller.post("/api/sellers", json={"sellerId": "B"})
        assert (again.status_code, again.json()["code"]) == (409, "SLR0002")
        shown = await seller.get(f"/api/sellers/{reg['sellerNo']}", headers=as_seller(reg["sellerNo"]))
        assert shown.json()["isDeleted"] is False
    replies = [e for e in decoded(await read_topic(infra, WALLET)) if e.payload.get("sagaId") == reg["registrationId"]]
    assert [(e.type, e.payload["success"], e.payload["walletNo"]) for e in replies] == [
        ("WALLET_CREATED", True, found["walletNo"])
    ]


async def test_a_registration_made_while_wallet_is_down_completes_after_it_starts_with_one_wallet(
    infra: InfraSettings, seller_schema: str, wallet_schema: str, wallet_db: Database
) -> None:
    settings = seller_settings(infra, registration_timeout_s=0.3, registration_max_attempts=100)
    async with running_app(create_seller(settings)) as seller:
        reg = await register(seller, unique("down"))
        waiting = await eventually(lambda: state_of(seller, reg), lambda s: s["attempts"] >= 3, timeout_s=20)
        assert waiting["state"] == "WALLET_REQUESTED"
        async with running_app(create_wallet(wallet_settings(infra))):
            await eventually(lambda: state_of(seller, reg), in_state("COMPLETED"), timeout_s=30)
    wallets = await rows(wallet_db, "SELECT wallet_no FROM wallets WHERE seller_no = :s", s=reg["sellerNo"])
    assert len(wallets) == 1


async def test_a_wallet_that_refuses_leaves_the_seller_soft_deleted_and_the_registration_compensated(
    infra: InfraSettings, seller_schema: str, wallet_schema: str, wallet_db: Database
) -> None:
    async with (
        running_app(create_seller(seller_settings(infra))) as seller,
        running_app(create_wallet(wallet_settings(infra, refuse_seller_id_pattern="^refuse-"))),
    ):
        reg = await register(seller, unique("refuse"))
        done = await eventually(lambda: state_of(seller, reg), in_state("COMPENSATED"), timeout_s=20)
        assert "refused" in done["lastError"]
        gone = await seller.get(f"/api/sellers/{reg['sellerNo']}", headers=as_seller(reg["sellerNo"]))
        assert gone.json()["isDeleted"] is True
    assert await rows(wallet_db, "SELECT wallet_no FROM wallets WHERE seller_no = :s", s=reg["sellerNo"]) == []
