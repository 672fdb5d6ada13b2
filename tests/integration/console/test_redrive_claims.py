"""The console's redrive claims on real MariaDB: one redrive per dead-letter topic at a time, across console
processes — a claim is refused while another is held, free again once released or once its lease lapsed, and of
two first claims made at the same moment exactly one wins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from kiwishop.console.app import SERVICE as CONSOLE
from kiwishop.console.store import SqlClaims
from kiwishop.platform.db import Database
from kiwishop.platform.settings import InfraSettings
from tests.integration.console.conftest import fresh_schema
from tests.support import unique


@pytest.fixture
async def claims(infra: InfraSettings) -> AsyncIterator[tuple[SqlClaims, SqlClaims]]:
    """Two consoles' claims on one schema."""
    name = await fresh_schema(infra, "con_claims", CONSOLE.migrations)
    first, second = Database.connect(infra, name), Database.connect(infra, name)
    try:
        yield SqlClaims(first), SqlClaims(second)
    finally:
        await first.close()
        await second.close()


async def test_a_claim_is_refused_while_held_and_free_after_its_release(claims: tuple[SqlClaims, SqlClaims]) -> None:
    mine, theirs = claims
    topic = unique("kiwi-shop-product-like") + ".DLT"
    assert await mine.claim(topic, 300)
    assert not await theirs.claim(topic, 300)  # another console, same topic
    assert not await mine.claim(topic, 300)  # the same console again
    assert await theirs.claim(unique("other") + ".DLT", 300)  # another topic is free
    await mine.release(topic)
    assert await theirs.claim(topic, 300)


async def test_a_claim_whose_lease_lapsed_can_be_taken(claims: tuple[SqlClaims, SqlClaims]) -> None:
    mine, theirs = claims
    topic = unique("kiwi-shop-payment") + ".DLT"
    assert await mine.claim(topic, 0.2)  # a console that dies here never releases it
    deadline = asyncio.get_running_loop().time() + 10
    while not await theirs.claim(topic, 300):
        assert asyncio.get_running_loop().time() < deadline, "the lapsed claim was never free"
        await asyncio.sleep(0.1)
    assert not await mine.claim(topic, 300)


async def test_of_two_first_claims_at_once_exactly_one_wins(claims: tuple[SqlClaims, SqlClaims]) -> None:
    mine, theirs = claims
    for _ in range(10):
        topic = unique("kiwi-shop-seller") + ".DLT"
        won = await asyncio.gather(mine.claim(topic, 300), theirs.claim(topic, 300))
        assert sorted(won) == [False, True]
