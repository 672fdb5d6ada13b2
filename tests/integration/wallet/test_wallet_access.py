"""Who may read a wallet: that seller, or ops. Anyone else is refused before the lookup, so a stranger cannot
even tell whether a seller has a wallet."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from kiwishop.wallet.app import create_app
from tests.integration.seller_wallet.support import IDS, STRANGERS, Headers, add_wallet, wallet_settings
from tests.support import as_ops, as_seller, running_app

PATHS = ["/api/wallets/sellers/{}", "/api/wallets/sellers/{}/transactions"]


@pytest.fixture(scope="module")
async def wallet(infra: InfraSettings, wallet_schema: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(wallet_settings(infra))) as client:
        yield client


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("headers", "status", "code"), STRANGERS, ids=["anonymous", "invalid", "another-seller", "member"]
)
async def test_only_the_seller_and_ops_read_a_wallet(
    wallet: httpx.AsyncClient, wallet_db: Database, path: str, headers: Headers, status: int, code: str
) -> None:
    seller_no = IDS.next_id()
    await add_wallet(wallet_db, seller_no)
    url = path.format(seller_no)
    refused = await wallet.get(url, headers=headers(seller_no))
    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert (await wallet.get(url, headers=as_seller(seller_no))).status_code == 200
    assert (await wallet.get(url, headers=as_ops())).status_code == 200


@pytest.mark.parametrize("path", PATHS)
async def test_a_stranger_is_refused_whether_or_not_the_wallet_exists(wallet: httpx.AsyncClient, path: str) -> None:
    seller_no = IDS.next_id()  # no wallet: 404 for the seller itself and ops, 403 for anyone else
    url = path.format(seller_no)
    assert (await wallet.get(url, headers=as_seller(1))).json()["code"] == "AUTH0002"
    assert (await wallet.get(url, headers=as_seller(seller_no))).json()["code"] == "WLT0001"
    assert (await wallet.get(url, headers=as_ops())).json()["code"] == "WLT0001"
