"""The ranking in Redis, updated by one Lua script per event (atomic, idempotent, order-safe).

Keys (``{p}`` = ``key_prefix``, default ``hot-catalogs``; no key expires — all-time window):
- ``{p}::list`` ZSET: member productNo (decimal), score an integer; only products with score > 0;
  at most ``ranking_capacity`` members (the lowest are trimmed).
- ``{p}::products::{productNo}`` HASH: ``likes``, ``likes_version``, ``reviews``, ``stars``,
  ``reviews_version``, ``paid``, ``updated_at`` (ms of the consumer's clock).
- ``{p}::applied::{eventId}`` STRING with a TTL (``applied_event_ttl_s``): the event was applied.

The script, per event: (a) ``SET applied NX EX`` — already there → return 0, nothing changes;
(b) likes/reviews: a version ≤ the stored version of that kind → return 1 (stale, nothing changes);
otherwise store the totals and the version; payments: ``HINCRBY paid`` per product (increments, no
version); (c) recompute each touched product's score from its hash, ``ZADD`` it, or ``ZREM`` it when
the score is ≤ 0; trim to capacity → return 2.
"""

from __future__ import annotations

import datetime as dt

from redis.asyncio import Redis

from kiwishop.hot_catalog.domain import Ranked, TotalsUpdate, Weights, rank_order, ranking_window

APPLY = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local wl, wr, ws, wp = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local capacity, kind, now = tonumber(ARGV[6]), ARGV[7], ARGV[8]
local function rescore(key, product)
  local h = redis.call('HMGET', key, 'likes', 'reviews', 'stars', 'paid')
  local score = wl * (tonumber(h[1]) or 0) + wr * (tonumber(h[2]) or 0)
              + ws * (tonumber(h[3]) or 0) + wp * (tonumber(h[4]) or 0)
  redis.call('HSET', key, 'updated_at', now)
  if score > 0 then
    redis.call('ZADD', KEYS[2], string.format('%.0f', score), product)
  else
    redis.call('ZREM', KEYS[2], product)
  end
end
if kind == 'paid' then
  for i = 3, #KEYS do
    redis.call('HINCRBY', KEYS[i], 'paid', ARGV[8 + 2 * (i - 2)])
    rescore(KEYS[i], ARGV[7 + 2 * (i - 2)])
  end
else
  local version_field = kind .. '_version'
  local stored = tonumber(redis.call('HGET', KEYS[3], version_field) or '-1')
  if tonumber(ARGV[10]) <= stored then return 1 end
  if kind == 'likes' then
    redis.call('HSET', KEYS[3], 'likes', ARGV[11], version_field, ARGV[10])
  else
    redis.call('HSET', KEYS[3], 'reviews', ARGV[11], 'stars', ARGV[12], version_field, ARGV[10])
  end
  rescore(KEYS[3], ARGV[9])
end
if capacity > 0 then
  local extra = redis.call('ZCARD', KEYS[2]) - capacity
  if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1) end
end
return 2
"""

DUPLICATE, STALE, APPLIED = 0, 1, 2


class Ranking:
    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "hot-catalogs",
        weights: Weights | None = None,
        capacity: int = 10_000,
        applied_ttl_s: int = 7 * 24 * 3600,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._weights = weights or Weights()
        self._capacity = capacity
        self._ttl = applied_ttl_s
        self._apply = redis.register_script(APPLY)

    def list_key(self, now: dt.datetime) -> str:
        window = ranking_window(now)
        return f"{self._prefix}::list" if window == "all-time" else f"{self._prefix}::list::{window}"

    def product_key(self, product_no: int) -> str:
        return f"{self._prefix}::products::{product_no}"

    def _head(self, event_id: int, kind: str, now: dt.datetime) -> tuple[list[str], list[int | str]]:
        w = self._weights
        keys = [f"{self._prefix}::applied::{event_id}", self.list_key(now)]
        args: list[int | str] = [self._ttl, w.like, w.review, w.star, w.paid_line, self._capacity, kind]
        args.append(int(now.timestamp() * 1000))
        return keys, args

    async def apply_totals(self, event_id: int, update: TotalsUpdate, now: dt.datetime) -> int:
        keys, args = self._head(event_id, update.kind, now)
        keys.append(self.product_key(update.product_no))
        args += [update.product_no, update.version, *update.values]
        return int(await self._apply(keys=keys, args=args))

    async def apply_paid_lines(self, event_id: int, lines: dict[int, int], now: dt.datetime) -> int:
        keys, args = self._head(event_id, "paid", now)
        for product_no, count in sorted(lines.items()):
            keys.append(self.product_key(product_no))
            args += [product_no, count]
        return int(await self._apply(keys=keys, args=args))

    async def page(self, now: dt.datetime, start: int, count: int) -> list[Ranked]:
        """Entries ``start .. start+count-1`` by descending score, equal scores by product number."""
        entries = await self._redis.zrevrange(self.list_key(now), start, start + count - 1, withscores=True)
        return rank_order([(int(entry[0]), int(entry[1])) for entry in entries])
