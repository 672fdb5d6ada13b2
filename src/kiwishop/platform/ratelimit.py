"""Per-caller request limits in Redis: at most ``limit`` requests of one action by one caller per window, then
``429 TOO_MANY_REQUESTS`` with ``Retry-After`` (the seconds until the window ends)::

    limiter = RateLimiter(redis, "order")
    await limiter.check("checkout", member_no, limit=30, window_s=60)  # raises AppError(429) past the limit

A fixed window per (service, action, caller): one Lua call (INCR, PEXPIRE on the first request, PTTL), so
concurrent requests count exactly and the key vanishes with its window. A limit of 0 turns the check off.

Fails open: when Redis is down or slow (no answer in ``timeout_s``) the request goes through and a warning is
logged (at most every 30 s) and counted — a Redis outage must not stop a buyer from confirming a payment the
PSP already approved. The client this uses is not part of the service's readiness for the same reason.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from redis.asyncio import Redis
from redis.exceptions import RedisError

from kiwishop.platform.errors import AppError, CommonError
from kiwishop.platform.redisclient import Script

log = logging.getLogger("kiwishop.platform.ratelimit")

_WINDOW = """
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if n == 1 or ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
"""
_WARN_EVERY_S = 30.0


class RateLimiter:
    def __init__(self, redis: Redis, service: str, *, timeout_s: float = 0.25) -> None:
        self._script = Script(redis, _WINDOW)
        self._service = service
        self._timeout_s = timeout_s
        self._warned_at = -math.inf
        self.unavailable = 0  # checks let through because Redis could not be asked

    async def check(self, action: str, caller: int | str, *, limit: int, window_s: float) -> None:
        """Count this request; ``AppError(TOO_MANY_REQUESTS)`` with ``Retry-After`` when it is one too many."""
        if limit <= 0:
            return
        window_ms = max(1, int(window_s * 1000))
        key = f"kiwi:ratelimit:{self._service}:{action}:{caller}"
        try:
            async with asyncio.timeout(self._timeout_s):
                count, ttl_ms = await self._script([key], [window_ms])
        except (RedisError, OSError, TimeoutError) as exc:
            self._let_through(action, exc)
            return
        if int(count) > limit:
            retry_after = max(1, math.ceil(int(ttl_ms) / 1000))
            raise AppError(
                CommonError.TOO_MANY_REQUESTS, headers={"Retry-After": str(retry_after)}, retry_after=retry_after
            )

    def _let_through(self, action: str, exc: BaseException) -> None:
        self.unavailable += 1
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_S:
            self._warned_at = now
            log.warning(
                "rate limit of %s %s not checked (Redis unavailable: %s); letting requests through",
                self._service, action, type(exc).__name__,
            )  # fmt: skip
