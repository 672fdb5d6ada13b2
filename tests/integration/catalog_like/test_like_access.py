"""Who may like, unlike and read a member's like: that member's own token (ops may read it too). A refusal comes
before catalog is asked and writes nothing (no like row, no count row, no event); the like count stays open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from kiwishop.platform.db import Database
from tests.support import as_member, as_ops, as_seller

MEMBER = 21
OTHERS: list[tuple[Callable[[], dict[str, str]], int, str]] = [
    (dict, 401, "AUTH0001"),
    (lambda: {"Authorization": "Bearer not-a-token"}, 401, "AUTH0001"),
    (lambda: as_member(MEMBER + 1), 403, "AUTH0002"),
    (lambda: as_seller(1), 403, "AUTH0002"),
]
WRITERS = [*OTHERS, (as_ops, 403, "AUTH0002")]  # ops reads anything, but likes nothing in a member's name
IDS = ["anonymous", "invalid", "another-member", "seller"]


def path(product: int, member: int = MEMBER) -> str:
    return f"/api/catalog-likes/products/{product}/members/{member}"


COUNTS = text(
    "SELECT (SELECT COUNT(*) FROM product_likes WHERE product_no = :p),"
    " (SELECT COUNT(*) FROM product_like_counts WHERE product_no = :p),"
    " (SELECT COUNT(*) FROM outbox WHERE message_key = :k)"
)


async def written(db: Database, product: int) -> tuple[int, ...]:
    """(like rows, count rows, outbox rows) for the product."""
    async with db.engine.connect() as conn:
        row = (await conn.execute(COUNTS, {"p": product, "k": str(product)})).one()
    return tuple(int(n) for n in row)


def refused(response: httpx.Response, status: int, code: str) -> bool:
    return (response.status_code, response.json()["code"]) == (status, code)


@pytest.mark.parametrize(("headers", "status", "code"), WRITERS, ids=[*IDS, "ops"])
async def test_only_the_member_likes_and_a_refused_like_writes_nothing(
    likes: httpx.AsyncClient, like_db: Database, product: int, headers: Any, status: int, code: str
) -> None:
    assert refused(await likes.post(path(product), headers=headers()), status, code)
    assert await written(like_db, product) == (0, 0, 0)
    assert (await likes.post(path(product), headers=as_member(MEMBER))).status_code == 204
    assert await written(like_db, product) == (1, 1, 1)


@pytest.mark.parametrize(("headers", "status", "code"), WRITERS, ids=[*IDS, "ops"])
async def test_only_the_member_unlikes_and_a_refused_unlike_keeps_the_like(
    likes: httpx.AsyncClient, like_db: Database, product: int, headers: Any, status: int, code: str
) -> None:
    assert (await likes.post(path(product), headers=as_member(MEMBER))).status_code == 204
    assert refused(await likes.delete(path(product), headers=headers()), status, code)
    assert await written(like_db, product) == (1, 1, 1)
    assert (await likes.get(path(product), headers=as_member(MEMBER))).json() == {"liked": True}
    assert (await likes.delete(path(product), headers=as_member(MEMBER))).status_code == 204
    assert await written(like_db, product) == (0, 1, 2)


@pytest.mark.parametrize(("headers", "status", "code"), OTHERS, ids=IDS)
async def test_whether_a_member_likes_is_for_that_member_and_ops(
    likes: httpx.AsyncClient, product: int, headers: Any, status: int, code: str
) -> None:
    await likes.post(path(product), headers=as_member(MEMBER))
    assert refused(await likes.get(path(product), headers=headers()), status, code)
    assert (await likes.get(path(product), headers=as_member(MEMBER))).json() == {"liked": True}
    assert (await likes.get(path(product), headers=as_ops())).json() == {"liked": True}


async def test_the_refusal_comes_before_catalog_is_asked(likes: httpx.AsyncClient, like_db: Database) -> None:
    unknown = 987_654_321_099  # catalog would say 404; another member must not learn even that
    assert refused(await likes.post(path(unknown), headers=as_member(MEMBER + 1)), 403, "AUTH0002")
    assert await written(like_db, unknown) == (0, 0, 0)


async def test_the_like_count_needs_no_token(likes: httpx.AsyncClient, product: int) -> None:
    await likes.post(path(product), headers=as_member(MEMBER))
    count = await likes.get(f"/api/catalog-likes/products/{product}")
    assert count.json() == {"productNo": product, "likeCount": 1}
