"""POST /api/sellers and the read endpoints, with the seller app alone (wallet replies are not needed)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.contracts.topics import SELLER
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from kiwishop.seller.app import create_app
from tests.integration.seller_wallet.support import database, decoded, outbox_drained, scalar, seller_settings
from tests.support import as_ops, as_seller, eventually, read_topic, running_app, unique


@pytest.fixture(scope="module")
async def seller(infra: InfraSettings, seller_schema: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(seller_settings(infra))) as client, database(infra, seller_schema) as db:
        # the announcer's first pass (the seed seller) is done: the tests below count what they write
        await eventually(
            lambda: scalar(db, "SELECT COUNT(*) FROM sellers WHERE announced_at IS NULL"), lambda n: n == 0
        )
        yield client


async def written(db: Database) -> tuple[int, int, int]:
    counts = []
    for table in ("sellers", "seller_registrations", "outbox"):
        counts.append(int(await scalar(db, f"SELECT COUNT(*) FROM {table}")))
    return counts[0], counts[1], counts[2]


async def test_registering_answers_202_with_the_registration_and_asks_wallet_for_a_wallet(
    infra: InfraSettings, seller: httpx.AsyncClient, seller_db: Database
) -> None:
    seller_id = unique("s")
    response = await seller.post("/api/sellers", json={"sellerId": seller_id})
    assert response.status_code == 202
    body = response.json()
    assert set(body) == {"registrationId", "sellerId", "sellerNo", "state"}
    assert (body["sellerId"], body["state"]) == (seller_id, "WALLET_REQUESTED")
    assert response.headers["location"] == f"/api/sellers/registrations/{body['registrationId']}"
    status = await seller.get(response.headers["location"], headers=as_seller(body["sellerNo"]))
    assert status.status_code == 200
    assert status.json() == {**body, "attempts": 1, "lastError": None}
    found = await seller.get(f"/api/sellers/{body['sellerNo']}", headers=as_seller(body["sellerNo"]))
    assert found.status_code == 200
    assert found.json()["sellerId"] == seller_id
    assert found.json()["isDeleted"] is False
    await eventually(lambda: outbox_drained(seller_db), bool, timeout_s=20)
    events = [e for e in decoded(await read_topic(infra, SELLER)) if e.payload.get("sellerId") == seller_id]
    requests = [e for e in events if e.type == "WALLET_CREATE_REQUESTED"]
    assert [(e.type, e.key, e.payload) for e in requests] == [
        (
            "WALLET_CREATE_REQUESTED",
            str(body["sellerNo"]),
            {"sagaId": body["registrationId"], "sellerNo": body["sellerNo"], "sellerId": seller_id},
        )
    ]


@pytest.mark.parametrize(
    "body",
    [
        {"sellerId": ""},
        {"sellerId": "   "},
        {"sellerId": "x" * 129},
        {"sellerId": "a b"},
        {"sellerId": "판매자"},
        {"sellerId": None},
        {"sellerId": 7},
        {},
        {"sellerId": "ok", "extra": 1},
    ],
)
async def test_an_invalid_seller_id_is_a_400_with_the_error_body_and_writes_nothing(
    seller: httpx.AsyncClient, seller_db: Database, body: dict[str, object]
) -> None:
    before = await written(seller_db)
    response = await seller.post("/api/sellers", json=body, headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert response.json()["code"] in {"SLR0001", "INVALID_REQUEST"}
    assert response.json()["message"]
    assert await written(seller_db) == before


async def test_a_blank_128_or_129_character_id_is_judged_by_the_seller_rules(seller: httpx.AsyncClient) -> None:
    assert (await seller.post("/api/sellers", json={"sellerId": "x" * 129})).json()["code"] == "SLR0001"
    assert (await seller.post("/api/sellers", json={"sellerId": ""})).json()["code"] == "SLR0001"
    ok = await seller.post("/api/sellers", json={"sellerId": unique("y").ljust(128, "y")})
    assert ok.status_code == 202


async def test_malformed_json_is_a_400(seller: httpx.AsyncClient) -> None:
    response = await seller.post("/api/sellers", content=b"{", headers={"Content-Type": "application/json"})
    assert (response.status_code, response.json()["code"]) == (400, "MALFORMED_JSON")


async def test_a_registered_seller_id_is_a_409_and_writes_nothing(
    seller: httpx.AsyncClient, seller_db: Database
) -> None:
    seller_id = unique("dup")
    assert (await seller.post("/api/sellers", json={"sellerId": seller_id})).status_code == 202
    before = await written(seller_db)
    for same in (seller_id, seller_id.upper()):  # sellerIds compare case-insensitively
        again = await seller.post("/api/sellers", json={"sellerId": same}, headers={"Accept-Language": "en"})
        assert again.status_code == 409
        assert again.json() == {"code": "SLR0002", "message": f"Seller id {same} is already registered."}
    seed = await seller.post("/api/sellers", json={"sellerId": "A"})
    assert (seed.status_code, seed.json()["code"]) == (409, "SLR0002")
    assert await written(seller_db) == before


async def test_unknown_registrations_and_sellers_are_404_and_non_numbers_400(seller: httpx.AsyncClient) -> None:
    for caller in (as_seller(424242), as_ops()):
        missing = await seller.get("/api/sellers/registrations/424242", headers={"Accept-Language": "en", **caller})
        assert (missing.status_code, missing.json()["code"]) == (404, "SLR0004")
        unknown = await seller.get("/api/sellers/424242", headers=caller)
        assert (unknown.status_code, unknown.json()["code"]) == (404, "SLR0003")
    assert (await seller.get("/api/sellers/abc", headers=as_ops())).status_code == 400
    assert (await seller.get("/api/sellers/registrations/0", headers=as_ops())).status_code == 400


async def test_the_seed_seller_1_is_a(seller: httpx.AsyncClient) -> None:
    response = await seller.get("/api/sellers/1", headers=as_seller(1))
    assert response.status_code == 200
    assert response.json() == {
        "sellerNo": 1,
        "sellerId": "A",
        "isDeleted": False,
        "createdAt": "2024-11-28T22:55:09.000Z",
    }
