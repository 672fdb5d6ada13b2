"""platform.ratelimit.RateLimiter against the session's real Redis: the count per (action, caller) and window,
exact under concurrency, 429 with Retry-After over HTTP, and open when Redis cannot be asked."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter

from kiwishop.platform.errors import AppError, CommonError
from kiwishop.platform.metrics import Metrics
from kiwishop.platform.ratelimit import RateLimiter
from kiwishop.platform.redisclient import create_redis
from kiwishop.platform.settings import InfraSettings
from kiwishop.platform.web import build_app
from tests.support import dead_port, eventually, unique


@pytest.fixture
async def limiter(infra: InfraSettings) -> AsyncIterator[RateLimiter]:
    redis = create_redis(infra.redis_url)
    try:
        yield RateLimiter(redis, unique("svc"))
    finally:
        await redis.aclose()


async def passes(limiter: RateLimiter, action: str, caller: int, *, limit: int, window_s: float = 60) -> bool:
    """True when the request may go on; False when refused with 429 and a Retry-After within the window."""
    refused: AppError | None = None
    try:
        await limiter.check(action, caller, limit=limit, window_s=window_s)
    except AppError as exc:
        refused = exc
    if refused is None:
        return True
    assert refused.code is CommonError.TOO_MANY_REQUESTS
    assert 1 <= int(refused.headers["Retry-After"]) <= window_s + 1, refused.headers
    return False


async def test_the_limit_counts_per_action_and_caller(limiter: RateLimiter) -> None:
    assert [await passes(limiter, "checkout", 7, limit=3) for _ in range(5)] == [True, True, True, False, False]
    assert await passes(limiter, "checkout", 8, limit=3)  # another member has a count of its own
    assert await passes(limiter, "confirm", 7, limit=3)  # and so has another action
    assert [await passes(limiter, "off", 7, limit=0) for _ in range(10)] == [True] * 10  # 0: no limit


async def test_the_count_starts_again_when_the_window_ends(limiter: RateLimiter) -> None:
    assert await passes(limiter, "cancel", 1, limit=1, window_s=0.3)
    assert not await passes(limiter, "cancel", 1, limit=1, window_s=0.3)
    await eventually(lambda: passes(limiter, "cancel", 1, limit=1, window_s=0.3), bool, timeout_s=5)


async def test_concurrent_requests_are_counted_exactly(limiter: RateLimiter) -> None:
    results = await asyncio.gather(*(passes(limiter, "checkout", 3, limit=10) for _ in range(60)))
    assert sum(results) == 10


async def test_a_redis_that_cannot_be_asked_lets_requests_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis = create_redis(f"redis://127.0.0.1:{dead_port()}/0")
    limiter = RateLimiter(redis, "order")
    try:
        with caplog.at_level(logging.WARNING, logger="kiwishop.platform.ratelimit"):
            assert all([await passes(limiter, "confirm", 1, limit=1) for _ in range(3)])
    finally:
        await redis.aclose()
    assert limiter.unavailable == 3
    warnings = [r for r in caplog.records if "not checked" in r.getMessage()]
    assert len(warnings) == 1, warnings  # once, not per request


async def test_over_http_the_answer_is_429_json_with_retry_after(limiter: RateLimiter) -> None:
    router = APIRouter()

    @router.post("/act")
    async def act() -> dict[str, str]:
        await limiter.check("act", 1, limit=2, window_s=60)
        return {"done": "yes"}

    app = build_app(title="t", metrics=Metrics("t"))
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        statuses = [(await client.post("/act")).status_code for _ in range(2)]
        refused = await client.post("/act", headers={"Accept-Language": "en"})
    assert statuses == [200, 200]
    assert refused.status_code == 429
    assert refused.json()["code"] == "TOO_MANY_REQUESTS"
    assert refused.json()["message"].startswith("Too many requests: try again in ")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
