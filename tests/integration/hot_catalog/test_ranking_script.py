"""The Lua update against real Redis, through the consumer handlers but without the broker
(catalog.md acceptance tests 17–19, 21, 23, 24 and §5.4's worked example).

Pinned: all-time window — nothing resets at midnight and no ranking key expires (the original's 10-day
list TTL and midnight counter TTLs are gone, C2); the ranking keeps ``ranking_capacity`` members (10 000
by default, 10 here) and ``GET /api/hot-products`` shows the top 10 of them.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable

from redis.asyncio import Redis

from kiwishop.hot_catalog import consumers
from kiwishop.hot_catalog.domain import SEOUL, Weights, like_update
from kiwishop.hot_catalog.ranking import APPLIED, DUPLICATE, STALE, Ranking
from kiwishop.platform.envelope import Envelope
from tests.integration.hot_catalog.events import liked, paid, reviewed
from tests.support import unique

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=SEOUL)


def ranking(redis: Redis, **kwargs: int) -> Ranking:
    return Ranking(redis, prefix=unique("rank"), weights=Weights(), **kwargs)


async def apply(r: Ranking, *envelopes: Envelope, clock: Callable[[], dt.datetime] = lambda: NOW) -> None:
    handlers = {kind.name: handler for kind, handler in consumers.handlers(r, clock).items()}
    for envelope in envelopes:
        await handlers[envelope.type](envelope)


async def listing(redis: Redis, r: Ranking) -> list[tuple[int, int]]:
    """The ranking as the list shows it (equal scores by product number), checked against the raw ZSET."""
    raw = {int(m): int(s) for m, s in await redis.zrevrange(r.list_key(NOW), 0, -1, withscores=True)}
    ranked = [(e.product_no, e.score) for e in await r.page(NOW, 0, 1000)]
    assert dict(ranked) == raw
    return ranked


async def test_a_like_total_of_2_stores_the_counter_and_scores_4(redis: Redis) -> None:
    r = ranking(redis)
    await apply(r, liked(1, 2, 1))
    assert await redis.hget(r.product_key(1), "likes") == b"2"
    assert await listing(redis, r) == [(1, 4)]


async def test_a_first_five_star_review_scores_28(redis: Redis) -> None:
    r = ranking(redis)
    await apply(r, reviewed(2, 1, 5, 0))
    assert await redis.hmget(r.product_key(2), ["reviews", "stars"]) == [b"1", b"5"]
    assert await listing(redis, r) == [(2, 28)]


async def test_the_worked_example_ranks_2_3_1(redis: Redis) -> None:
    r = ranking(redis)
    await apply(r, liked(1, 1, 0), liked(1, 2, 1), reviewed(2, 1, 5, 0), reviewed(3, 1, 1, 0))
    assert await listing(redis, r) == [(2, 28), (3, 8), (1, 4)]
    await apply(r, liked(1, 1, 2))
    assert await listing(redis, r) == [(2, 28), (3, 8), (1, 2)]


async def test_beyond_capacity_the_lowest_is_trimmed_and_no_ranking_key_expires(redis: Redis) -> None:
    r = ranking(redis, capacity=10)
    await apply(r, *(liked(p, p, 0) for p in range(1, 12)))
    ranked = await listing(redis, r)
    assert [p for p, _ in ranked] == list(range(11, 1, -1))
    assert await redis.ttl(r.list_key(NOW)) == -1
    assert await redis.ttl(r.product_key(5)) == -1


async def test_the_same_event_twice_changes_nothing_the_second_time(redis: Redis) -> None:
    r = ranking(redis)
    event = paid(4, 4)
    await apply(r, event, liked(4, 1, 0))
    before = (await listing(redis, r), await redis.hgetall(r.product_key(4)))
    assert await r.apply_paid_lines(event.event_id, {4: 2}, NOW) == DUPLICATE
    await apply(r, event)
    assert (await listing(redis, r), await redis.hgetall(r.product_key(4))) == before
    assert before[0] == [(4, 2 * 10 + 2)]


async def test_an_older_total_arriving_after_a_newer_one_is_ignored(redis: Redis) -> None:
    r = ranking(redis)
    await apply(r, liked(5, 3, 2), reviewed(5, 2, 9, 4))
    older_like, older_review = liked(5, 2, 1), reviewed(5, 1, 5, 3)
    await apply(r, older_like, older_review)
    assert await redis.hmget(r.product_key(5), ["likes", "likes_version", "reviews", "stars"]) == [
        b"3",
        b"2",
        b"2",
        b"9",
    ]
    assert await listing(redis, r) == [(5, 6 + 6 + 45)]
    assert await r.apply_totals(99, like_update({"productNo": 5, "productLikeCount": 1, "version": 2}), NOW) == STALE
    assert await r.apply_totals(98, like_update({"productNo": 5, "productLikeCount": 4, "version": 3}), NOW) == APPLIED


async def test_a_product_whose_score_drops_to_zero_leaves_the_ranking(redis: Redis) -> None:
    r = ranking(redis)
    await apply(r, liked(6, 1, 0), reviewed(7, 1, 3, 0), liked(8, 1, 0))
    await apply(r, liked(6, 0, 1), reviewed(7, 0, 0, 1, deleted=True))
    assert await listing(redis, r) == [(8, 2)]
    await apply(r, liked(6, 1, 2))
    assert await listing(redis, r) == [(6, 2), (8, 2)]


async def test_payments_add_the_payment_weight_per_paid_line_on_top_of_likes_and_reviews(redis: Redis) -> None:
    r = Ranking(redis, prefix=unique("rank"), weights=Weights(paid_line=7))
    await apply(r, paid(1, 1, 2), liked(2, 1, 0), paid(2, order_id="order-2"), reviewed(3, 1, 1, 0))
    assert await redis.hget(r.product_key(1), "paid") == b"2"
    assert await listing(redis, r) == [(2, 7 + 7 + 2), (1, 14), (3, 8)]


async def test_midnight_in_seoul_resets_nothing_with_an_injected_clock(redis: Redis) -> None:
    r = ranking(redis)
    before_midnight = dt.datetime(2026, 3, 1, 23, 59, 59, 900_000, tzinfo=SEOUL)
    after_midnight = dt.datetime(2026, 3, 2, 0, 0, 0, 100_000, tzinfo=SEOUL)
    await apply(r, reviewed(9, 1, 5, 0), clock=lambda: before_midnight)
    stamp = int(before_midnight.timestamp() * 1000)
    assert await redis.hget(r.product_key(9), "updated_at") == str(stamp).encode()
    await apply(r, liked(9, 1, 0), clock=lambda: after_midnight)
    assert await redis.hmget(r.product_key(9), ["likes", "reviews", "stars"]) == [b"1", b"1", b"5"]
    assert r.list_key(before_midnight) == r.list_key(after_midnight)
    assert await listing(redis, r) == [(9, 2 + 3 + 25)]
    assert await redis.ttl(r.list_key(after_midnight)) == -1


def history() -> list[Envelope]:
    """A plausible stream for five products: totals with rising versions, deletes, several payments."""
    events: list[Envelope] = []
    for product in range(1, 6):
        for version, count in enumerate([1, 2, 3, 2, 3, 4][: product + 1]):
            events.append(liked(product, count, version))
        for version, (count, stars) in enumerate([(1, 5), (2, 6), (1, 1), (2, 4)][:product]):
            events.append(reviewed(product, count, stars, version, deleted=version == 2))
    events += [paid(1, 2), paid(3), paid(3, 3, 4), paid(5)]
    return events


async def test_redelivered_and_reordered_events_give_the_same_ranking(redis: Redis) -> None:
    events = history()
    in_order = ranking(redis)
    await apply(in_order, *events)
    expected = await listing(redis, in_order)
    assert len(expected) == 5
    rng = random.Random(6)
    for _ in range(25):
        delivered = events + rng.sample(events, k=len(events) // 2)
        rng.shuffle(delivered)
        shuffled = ranking(redis)
        await apply(shuffled, *delivered)
        assert await listing(redis, shuffled) == expected
