"""Who may read what seller knows: registering stays open (anyone may become a seller); a seller and its
registration are read by that seller or ops. A registration id is a Snowflake (time, node, sequence) anyone
could guess, so it is no capability: a member is refused before the lookup, another seller after it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import create_app
from tests.integration.seller_wallet.support import STRANGERS, Headers, seller_settings
from tests.support import as_member, as_ops, as_seller, running_app, unique

IDS = ["anonymous", "invalid", "another-seller", "member"]


@pytest.fixture(scope="module")
async def seller(infra: InfraSettings, seller_schema: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(seller_settings(infra))) as client:
        yield client


async def register(seller: httpx.AsyncClient) -> dict[str, Any]:
    response = await seller.post("/api/sellers", json={"sellerId": unique("acl")})  # no token: open to anyone
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


def urls(reg: dict[str, Any]) -> list[str]:
    return [f"/api/sellers/{reg['sellerNo']}", f"/api/sellers/registrations/{reg['registrationId']}"]


@pytest.mark.parametrize(("headers", "status", "code"), STRANGERS, ids=IDS)
async def test_only_the_seller_and_ops_read_the_seller_and_its_registration(
    seller: httpx.AsyncClient, headers: Headers, status: int, code: str
) -> None:
    reg = await register(seller)
    for url in urls(reg):
        refused = await seller.get(url, headers=headers(reg["sellerNo"]))
        assert (refused.status_code, refused.json()["code"]) == (status, code), url
        mine = await seller.get(url, headers=as_seller(reg["sellerNo"]))
        assert (mine.status_code, mine.json()["sellerNo"]) == (200, reg["sellerNo"]), url
        assert (await seller.get(url, headers=as_ops())).json()["sellerNo"] == reg["sellerNo"]


async def test_what_a_stranger_learns_about_unknown_numbers(seller: httpx.AsyncClient) -> None:
    """A seller number: nothing (403 before the lookup). A registration id: a member nothing; a seller that the
    id is unknown (404), which is no more than the id's own timestamp tells."""
    assert (await seller.get("/api/sellers/424243", headers=as_seller(1))).json()["code"] == "AUTH0002"
    assert (await seller.get("/api/sellers/registrations/424243", headers=as_member(1))).json()["code"] == "AUTH0002"
    assert (await seller.get("/api/sellers/registrations/424243", headers=as_seller(1))).json()["code"] == "SLR0004"
    assert (await seller.get("/api/sellers/registrations/424243")).json()["code"] == "AUTH0001"


async def test_registering_needs_no_token_and_a_token_changes_nothing(seller: httpx.AsyncClient) -> None:
    assert (await register(seller))["state"] == "WALLET_REQUESTED"
    with_token = await seller.post("/api/sellers", json={"sellerId": unique("acl")}, headers=as_member(1))
    assert with_token.status_code == 202


async def test_sign_up_is_limited_per_address_and_a_refused_one_registers_nothing(
    infra: InfraSettings, seller_schema: str
) -> None:
    """The in-process client always comes from one address; no other test counts (their limit is off)."""
    # A consumer group of its own: a second member joining and leaving the module's group left the broker
    # waiting out a rebalance for minutes, which stalled the next tests' seller apps.
    settings = seller_settings(infra, rate_limit_registrations=2, reply_group_id=unique("rl-reply"))
    async with running_app(create_app(settings)) as limited:
        for _ in range(2):
            await register(limited)
        seller_id = unique("over")
        refused = await limited.post("/api/sellers", json={"sellerId": seller_id})
        assert refused.status_code == 429, refused.text
        assert refused.json()["code"] == "TOO_MANY_REQUESTS"
        assert int(refused.headers["retry-after"]) >= 1
    db = Database.connect(infra, seller_schema)
    try:
        async with db.engine.connect() as conn:
            found = await conn.execute(text("SELECT COUNT(*) FROM sellers WHERE seller_id = :s"), {"s": seller_id})
            assert found.scalar_one() == 0
    finally:
        await db.close()
