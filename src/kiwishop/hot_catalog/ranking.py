"""The ranking in Redis, updated by one Lua script per event (atomic, idempotent, order-safe): the Redis
adapter of ``ports.RankingUpdates`` (the handlers) and ``ports.RankingPages`` (the read).

Keys (``{p}`` = ``key_prefix``, default ``hot-catalogs``; no key expires — all-time window):
- ``{p}::list`` ZSET: member productNo (decimal), score an integer; only products with score > 0;
  at most ``ranking_capacity`` members (the lowest are trimmed).
- ``{p}::products::{productNo}`` HASH: ``likes``, ``likes_version``, ``reviews``, ``stars``,
  ``reviews_version``, ``paid``, ``canceled`` (lines), ``updated_at`` (ms of the consumer's clock).
- ``{p}::applied::{eventId}`` STRING with a TTL (``applied_event_ttl_s``): the event was applied.
- ``{p}::canceled::{paymentOrderNo}`` STRING with the same TTL: this paid line was taken out (by a
  PAYMENT_CANCELED, or by the rebuild's replay of a canceled line: the same key, so it counts once).
- ``{p}::replayed::{kind}::{productNo}::{version}`` STRING, short TTL: the applied marker of a total
  replayed by ``kiwishop rebuild-hot-catalog`` (``rebuild.py``); a key of its own, so it never meets an
  event id.
- ``{p}::rebuilding`` STRING with a short TTL: a rebuild is clearing the ranking (the *fence*).

The script, per event: (fence) while the fence exists → return 3, nothing changes (the consumer waits
for the clear as for an outage: ``RankingRebuilding``); (a) ``SET applied NX EX`` — already there →
return 0, nothing changes;
(b) likes/reviews: a version ≤ the stored version of that kind → return 1 (stale, nothing changes);
otherwise store the totals and the version; payments: ``HINCRBY paid`` per product (increments, no
version); cancels: per line ``SET canceled-line NX EX`` and, only when it is new, ``HINCRBY canceled 1``;
(c) recompute each touched product's score from its hash, ``ZADD`` it, or ``ZREM`` it when the score is
≤ 0; trim to capacity → return 2.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from kiwishop.hot_catalog.domain import CanceledLine, Ranked, TotalsUpdate, Weights, rank_order, ranking_window
from kiwishop.hot_catalog.settings import HotCatalogSettings
from kiwishop.platform.redisclient import Script

# KEYS: applied marker, list, fence, then the product hashes (canceled: a product hash and the line's
# marker per line). ARGV: marker TTL s, the four weights, capacity, kind, now ms; then (paid) productNo/count
# pairs, (canceled) the line markers' TTL s and one productNo per line, or (totals) productNo, version, values.
APPLY = """
if redis.call('EXISTS', KEYS[3]) == 1 then return 3 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local wl, wr, ws, wp = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local capacity, kind, now = tonumber(ARGV[6]), ARGV[7], ARGV[8]
local function rescore(key, product)
  local h = redis.call('HMGET', key, 'likes', 'reviews', 'stars', 'paid', 'canceled')
  local score = wl * (tonumber(h[1]) or 0) + wr * (tonumber(h[2]) or 0)
              + ws * (tonumber(h[3]) or 0) + wp * ((tonumber(h[4]) or 0) - (tonumber(h[5]) or 0))
  redis.call('HSET', key, 'updated_at', now)
  if score > 0 then
    redis.call('ZADD', KEYS[2], string.format('%.0f', score), product)
  else
    redis.call('ZREM', KEYS[2], product)
  end
end
if kind == 'paid' then
  for i = 4, #KEYS do
    local at = 9 + 2 * (i - 4)
    redis.call('HINCRBY', KEYS[i], 'paid', ARGV[at + 1])
    rescore(KEYS[i], ARGV[at])
  end
elseif kind == 'canceled' then
  for i = 4, #KEYS, 2 do
    if redis.call('SET', KEYS[i + 1], '1', 'NX', 'EX', ARGV[9]) then
      redis.call('HINCRBY', KEYS[i], 'canceled', 1)
      rescore(KEYS[i], ARGV[10 + (i - 4) / 2])
    end
  end
else
  local version_field = kind .. '_version'
  local stored = tonumber(redis.call('HGET', KEYS[4], version_field) or '-1')
  if tonumber(ARGV[10]) <= stored then return 1 end
  if kind == 'likes' then
    redis.call('HSET', KEYS[4], 'likes', ARGV[11], version_field, ARGV[10])
  else
    redis.call('HSET', KEYS[4], 'reviews', ARGV[11], 'stars', ARGV[12], version_field, ARGV[10])
  end
  rescore(KEYS[4], ARGV[9])
end
if capacity > 0 then
  local extra = redis.call('ZCARD', KEYS[2]) - capacity
  if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1) end
end
return 2
"""

# Unlink keys only while this clear still holds the fence (renewing it). KEYS: fence, then the keys.
# ARGV: the fence's token, its TTL ms. Returns the number removed, or -1 when the fence was lost.
UNLINK_FENCED = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if #KEYS == 1 then return 0 end
return redis.call('UNLINK', unpack(KEYS, 2))
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

DUPLICATE, STALE, APPLIED, FENCED = 0, 1, 2, 3
REPLAY_MARKER_TTL_S = 60  # a replayed total's marker only has to outlive its own script call
FENCE_TTL_MS = 30_000  # a clear that dies leaves the consumer waiting at most this long
CLEAR_BATCH = 500


class RankingRebuilding(RedisConnectionError):
    """The ranking is being cleared for a rebuild. For the consumer runner this is an outage of Redis:
    the record waits for it (never retried against its budget, never parked) and is applied after."""


class FenceLost(RuntimeError):
    """A clear outlived its fence, so events may have been applied to a half-cleared ranking."""


@dataclass(frozen=True)
class ScriptCall:
    """The arguments of one ``APPLY`` call."""

    keys: list[str]
    args: list[int | str]


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


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
        self._apply = Script(redis, APPLY)
        self._unlink_fenced = Script(redis, UNLINK_FENCED)
        self._release = Script(redis, RELEASE)

    @classmethod
    def for_settings(cls, redis: Redis, settings: HotCatalogSettings) -> Ranking:
        s = settings
        return cls(
            redis,
            prefix=s.key_prefix,
            weights=Weights(s.like_weight, s.review_weight, s.star_weight, s.payment_weight),
            capacity=s.ranking_capacity,
            applied_ttl_s=s.applied_event_ttl_s,
        )

    def list_key(self, now: dt.datetime) -> str:
        window = ranking_window(now)
        return f"{self._prefix}::list" if window == "all-time" else f"{self._prefix}::list::{window}"

    def product_key(self, product_no: int) -> str:
        return f"{self._prefix}::products::{product_no}"

    def applied_key(self, event_id: int) -> str:
        return f"{self._prefix}::applied::{event_id}"

    def canceled_key(self, payment_order_no: int) -> str:
        return f"{self._prefix}::canceled::{payment_order_no}"

    def replayed_key(self, update: TotalsUpdate) -> str:
        return f"{self._prefix}::replayed::{update.kind}::{update.product_no}::{update.version}"

    @property
    def fence_key(self) -> str:
        return f"{self._prefix}::rebuilding"

    def _head(self, marker: str, marker_ttl_s: int, kind: str, now: dt.datetime) -> ScriptCall:
        w = self._weights
        keys = [marker, self.list_key(now), self.fence_key]
        args: list[int | str] = [marker_ttl_s, w.like, w.review, w.star, w.paid_line, self._capacity, kind]
        args.append(int(now.timestamp() * 1000))
        return ScriptCall(keys, args)

    def totals_call(self, event_id: int | None, update: TotalsUpdate, now: dt.datetime) -> ScriptCall:
        """An event's totals (``event_id``), or a replayed row's (None: marked by kind, product, version)."""
        if event_id is None:
            call = self._head(self.replayed_key(update), REPLAY_MARKER_TTL_S, update.kind, now)
        else:
            call = self._head(self.applied_key(event_id), self._ttl, update.kind, now)
        call.keys.append(self.product_key(update.product_no))
        call.args.extend([update.product_no, update.version, *update.values])
        return call

    def paid_call(self, event_id: int, lines: dict[int, int], now: dt.datetime) -> ScriptCall:
        call = self._head(self.applied_key(event_id), self._ttl, "paid", now)
        for product_no, count in sorted(lines.items()):
            call.keys.append(self.product_key(product_no))
            call.args.extend([product_no, count])
        return call

    def canceled_call(self, event_id: int | None, lines: Sequence[CanceledLine], now: dt.datetime) -> ScriptCall:
        """An event's canceled lines (``event_id``), or one line replayed by the rebuild (None: marked by its
        paymentOrderNo only — the line's own marker makes it count once either way)."""
        if event_id is None:
            marker = f"{self._prefix}::replayed::canceled::{lines[0].payment_order_no}"
            call = self._head(marker, REPLAY_MARKER_TTL_S, "canceled", now)
        else:
            call = self._head(self.applied_key(event_id), self._ttl, "canceled", now)
        call.args.append(self._ttl)  # a line's marker lives as long as an event's, replayed or not
        for line in lines:
            call.keys.extend([self.product_key(line.product_no), self.canceled_key(line.payment_order_no)])
            call.args.append(line.product_no)
        return call

    async def apply_totals(self, event_id: int, update: TotalsUpdate, now: dt.datetime) -> int:
        return (await self.run([self.totals_call(event_id, update, now)]))[0]

    async def apply_paid_lines(self, event_id: int, lines: dict[int, int], now: dt.datetime) -> int:
        return (await self.run([self.paid_call(event_id, lines, now)]))[0]

    async def apply_canceled_lines(self, event_id: int, lines: Sequence[CanceledLine], now: dt.datetime) -> int:
        return (await self.run([self.canceled_call(event_id, lines, now)]))[0]

    async def run(self, calls: Sequence[ScriptCall]) -> list[int]:
        """``APPLY`` per call, in one round trip; RankingRebuilding while a clear holds the fence."""
        if len(calls) == 1:
            results = [int(await self._apply(calls[0].keys, calls[0].args))]
        else:
            results = [int(r) for r in await self._apply.many([(call.keys, call.args) for call in calls])]
        if FENCED in results:
            raise RankingRebuilding(f"{self._prefix}: the ranking is being rebuilt")
        return results

    async def clear(self) -> int:
        """Delete every key of the ranking (lists, product hashes, markers) as one step for ``APPLY``:
        the fence holds every event back until the last key is gone, so none lands half-cleared."""
        token = uuid.uuid4().hex
        await self._redis.set(self.fence_key, token, px=FENCE_TTL_MS)
        fence = self.fence_key.encode()
        removed = 0
        try:
            batch: list[bytes] = []
            async for key in self._redis.scan_iter(match=f"{_glob_escape(self._prefix)}::*", count=1000):
                if key != fence:
                    batch.append(key)
                if len(batch) >= CLEAR_BATCH:
                    removed += await self._unlink(token, batch)
                    batch = []
            removed += await self._unlink(token, batch)
        finally:
            await self._release([self.fence_key], [token])
        return removed

    async def _unlink(self, token: str, keys: list[bytes]) -> int:
        removed = int(await self._unlink_fenced([self.fence_key, *keys], [token, FENCE_TTL_MS]))
        if removed < 0:
            raise FenceLost(f"{self._prefix}: the clear outlived its fence; run the rebuild again")
        return removed

    async def page(self, now: dt.datetime, start: int, count: int) -> list[Ranked]:
        """Entries ``start .. start+count-1`` by descending score, equal scores by product number."""
        entries = await self._redis.zrevrange(self.list_key(now), start, start + count - 1, withscores=True)
        return rank_order([(int(entry[0]), int(entry[1])) for entry in entries])
