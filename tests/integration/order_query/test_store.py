"""The Lua rules of the read model against a real Redis: idempotence, order safety, the index cap and
the completeness floor that decides when Redis alone may answer a page."""

from __future__ import annotations

import json
import random
import time
from decimal import Decimal
from typing import Any

import pytest
from redis.asyncio import Redis

from kiwishop.order_query.store import ReadModelStore, model_json
from tests.support import eventually, unique

MEMBER = 42


def model(number: int, member: int = MEMBER, name: str = "상품A 그외") -> dict[str, Any]:
    return {
        "paymentEventNo": number,
        "memberNo": member,
        "orderId": f"order-{number}",
        "paymentKey": f"key-{number}",
        "orderName": name,
        "method": "CARD",
        "type": "NORMAL",
        "approvedDateTime": "2026-11-25T11:40:58+09:00",
        "paymentOrderList": [
            {
                "paymentOrderNo": number + 1,
                "productNo": 1,
                "amount": Decimal("1000.00"),
                "status": "SUCCESS",
                "productName": "상품A",
            }
        ],
        "paymentDone": True,
    }


def numbers_of(body: bytes | None) -> list[int] | None:
    return None if body is None else [e["paymentEventNo"] for e in json.loads(body)["paymentEventList"]]


@pytest.fixture
def store(redis: Redis) -> ReadModelStore:
    return ReadModelStore(redis, unique("oq-store"), index_size=1000, model_ttl_s=3600, applied_ttl_s=3600)


async def fill_from_top(store: ReadModelStore, numbers: list[int], floor: int) -> None:
    epoch = await store.epoch()
    models = [(n, model_json(model(n))) for n in sorted(numbers, reverse=True)]
    await store.fill(MEMBER, models, epoch=epoch, cursor=None, floor=floor)


async def test_a_duplicate_event_id_changes_nothing_and_a_second_event_for_the_same_order_keeps_the_first(
    store: ReadModelStore,
) -> None:
    assert await store.apply_event(1001, model(500)) is True
    assert await store.apply_event(1001, model(500, name="changed")) is False
    assert await store.apply_event(1002, model(500, name="re-published")) is True  # another event id, same order
    assert json.loads(await store.detail(MEMBER, 500) or b"{}")["orderName"] == "상품A 그외"
    assert (await store.index_state(MEMBER)).numbers == [500]


async def test_events_applied_in_any_order_give_the_same_newest_first_index(redis: Redis) -> None:
    numbers = random.sample(range(10**15, 10**18), 30)
    states = []
    for _ in range(3):
        store = ReadModelStore(redis, unique("oq-store"), index_size=1000, model_ttl_s=3600, applied_ttl_s=3600)
        random.shuffle(numbers)
        for event_id, number in enumerate(numbers, start=1):
            await store.apply_event(event_id, model(number))
        states.append((await store.index_state(MEMBER)).numbers)
    assert states[0] == sorted(numbers, reverse=True)
    assert states[1] == states[0] == states[2]


async def test_the_index_keeps_the_newest_ids_and_raises_the_floor_past_what_it_dropped(redis: Redis) -> None:
    store = ReadModelStore(redis, unique("oq-store"), index_size=5, model_ttl_s=3600, applied_ttl_s=3600)
    await fill_from_top(store, [10, 20, 30], floor=0)
    for event_id, number in enumerate([40, 5, 50, 60], start=1):
        await store.apply_event(event_id, model(number))
    state = await store.index_state(MEMBER)
    assert state.numbers == [60, 50, 40, 30, 20]
    assert state.floor == 20
    assert numbers_of(await store.page(MEMBER, None, 4)) == [60, 50, 40, 30]
    assert await store.page(MEMBER, None, 5) is None  # a full page down to the floor: is there a next one?
    assert await store.page(MEMBER, None, 6) is None  # below 20 the index no longer knows
    assert await store.detail(MEMBER, 5) is not None  # dropped from the index, the model itself stays


async def test_without_a_floor_the_index_never_answers_a_page(store: ReadModelStore) -> None:
    for event_id, number in enumerate([3, 2, 1], start=1):
        await store.apply_event(event_id, model(number))
    assert await store.page(MEMBER, None, 10) is None
    assert await store.page(MEMBER, None, 1) is None  # consumed events alone prove nothing about older ones


async def test_a_page_is_answered_only_inside_the_proven_range(store: ReadModelStore) -> None:
    await fill_from_top(store, [100, 90, 80], floor=80)  # a full page of 3: complete down to 80
    await store.apply_event(1, model(70))  # consumed, but nothing proves there is nothing between 70 and 80
    assert numbers_of(await store.page(MEMBER, None, 3)) == [100, 90, 80]
    assert numbers_of(await store.page(MEMBER, 100, 2)) == [90, 80]
    assert await store.page(MEMBER, None, 4) is None
    assert await store.page(MEMBER, 80, 1) is None
    epoch = await store.epoch()
    await store.fill(MEMBER, [(70, model_json(model(70)))], epoch=epoch, cursor=80, floor=0)  # end of history
    assert numbers_of(await store.page(MEMBER, 80, 10)) == [70]
    assert numbers_of(await store.page(MEMBER, 70, 10)) == []
    assert numbers_of(await store.page(MEMBER, None, 100)) == [100, 90, 80, 70]


async def test_a_page_below_the_floor_that_does_not_touch_the_proven_range_moves_nothing(
    store: ReadModelStore,
) -> None:
    await fill_from_top(store, [100, 90], floor=90)
    epoch = await store.epoch()
    await store.fill(MEMBER, [(50, model_json(model(50)))], epoch=epoch, cursor=60, floor=0)  # gap 60..90
    assert (await store.index_state(MEMBER)).floor == 90
    assert await store.page(MEMBER, 90, 10) is None


async def test_a_fill_that_asked_order_before_a_flush_claims_no_completeness(
    store: ReadModelStore, redis: Redis
) -> None:
    epoch = await store.epoch()
    await store.clear()  # a FLUSHALL or a rebuild while order was being asked
    await store.fill(MEMBER, [(7, model_json(model(7)))], epoch=epoch, cursor=None, floor=0)
    state = await store.index_state(MEMBER)
    assert state.numbers == [7]
    assert state.floor is None
    assert await store.page(MEMBER, None, 10) is None


async def test_a_missing_model_makes_the_page_unanswerable(store: ReadModelStore, redis: Redis) -> None:
    await fill_from_top(store, [3, 2, 1], floor=0)
    assert numbers_of(await store.page(MEMBER, None, 10)) == [3, 2, 1]
    await redis.delete(store.keys.model(MEMBER, 2))  # expired or evicted
    assert await store.page(MEMBER, None, 10) is None
    assert numbers_of(await store.page(MEMBER, 2, 10)) == [1]


async def test_a_fill_never_replaces_a_stored_model(store: ReadModelStore) -> None:
    await store.apply_event(1, model(9, name="from the event"))
    epoch = await store.epoch()
    await store.fill(MEMBER, [(9, model_json(model(9, name="from order")))], epoch=epoch, cursor=None, floor=0)
    assert json.loads(await store.detail(MEMBER, 9) or b"{}")["orderName"] == "from the event"
    assert numbers_of(await store.page(MEMBER, None, 10)) == [9]


async def test_clearing_removes_every_key_of_the_read_model_and_only_those(store: ReadModelStore, redis: Redis) -> None:
    await fill_from_top(store, [1, 2], floor=0)
    await store.apply_event(5, model(3))
    await redis.set("someone-else:key", b"kept")
    assert await store.clear() >= 5
    assert [k async for k in redis.scan_iter(match=f"{store.keys.prefix}:*")] == []
    assert await redis.get("someone-else:key") == b"kept"


def short_claims(redis: Redis, completeness_ttl_s: float) -> ReadModelStore:
    return ReadModelStore(
        redis,
        unique("oq-store"),
        index_size=1000,
        model_ttl_s=3600,
        applied_ttl_s=3600,
        completeness_ttl_s=completeness_ttl_s,
    )


async def claim_expired(store: ReadModelStore) -> None:
    await eventually(lambda: store.index_state(MEMBER), lambda s: s.claim_ms == 0, timeout_s=10)


async def test_a_complete_index_stops_answering_pages_once_its_claim_expires(redis: Redis) -> None:
    store = short_claims(redis, 0.3)
    await fill_from_top(store, [3, 2, 1], floor=0)
    state = await store.index_state(MEMBER)
    assert 0 < state.claim_ms <= 300
    assert numbers_of(await store.page(MEMBER, None, 10)) == [3, 2, 1]
    await claim_expired(store)
    assert await store.page(MEMBER, None, 10) is None
    assert await store.page(MEMBER, 3, 1) is None
    assert (await store.index_state(MEMBER)).numbers == [3, 2, 1]  # the models and the index stay


async def test_consumed_events_never_renew_the_claim(redis: Redis) -> None:
    store = short_claims(redis, 0.5)
    await fill_from_top(store, [30, 20, 10], floor=0)
    event_id = 0

    async def consume_one() -> bytes | None:
        nonlocal event_id
        event_id += 1
        await store.apply_event(event_id, model(100 + event_id))
        return await store.page(MEMBER, None, 100)

    await eventually(consume_one, lambda body: body is None, timeout_s=10, interval_s=0.02)
    assert event_id > 1  # events kept arriving while the claim ran out


async def test_a_first_page_after_the_claim_expired_proves_a_fresh_floor_even_above_the_old_one(
    redis: Redis,
) -> None:
    store = short_claims(redis, 0.3)
    await fill_from_top(store, [3, 2, 1], floor=0)
    await claim_expired(store)
    await fill_from_top(store, [4, 3], floor=3)  # a full page of 2: complete down to 3, as of now
    state = await store.index_state(MEMBER)
    assert (state.floor, state.numbers) == (3, [4, 3, 2, 1])
    assert state.claim_ms > 0
    assert numbers_of(await store.page(MEMBER, None, 2)) == [4, 3]
    assert await store.page(MEMBER, 3, 10) is None  # below 3 the old proof no longer counts


async def test_without_a_live_claim_a_page_that_does_not_start_at_the_top_proves_nothing(redis: Redis) -> None:
    store = short_claims(redis, 0.3)
    await fill_from_top(store, [3, 2, 1], floor=0)
    await claim_expired(store)
    epoch = await store.epoch()
    await store.fill(MEMBER, [(2, model_json(model(2))), (1, model_json(model(1)))], epoch=epoch, cursor=3, floor=0)
    assert (await store.index_state(MEMBER)).claim_ms == 0
    assert await store.page(MEMBER, 3, 10) is None


async def test_a_later_page_joining_the_claim_extends_its_floor_but_never_its_expiry(
    store: ReadModelStore, redis: Redis
) -> None:
    await fill_from_top(store, [100, 90], floor=90)
    await redis.pexpire(store.keys.verified(MEMBER), 2000)  # the top was proven a while ago
    epoch = await store.epoch()
    await store.fill(MEMBER, [(80, model_json(model(80)))], epoch=epoch, cursor=90, floor=80)  # proven just now
    state = await store.index_state(MEMBER)
    assert state.floor == 80
    assert 0 < state.claim_ms <= 2000
    assert numbers_of(await store.page(MEMBER, None, 2)) == [100, 90]
    assert await store.page(MEMBER, None, 3) is None  # a full page down to the floor: is there a next one?
    stale_answer = time.monotonic() - 299.5  # order was asked 299.5 s of the 300 s claim ago
    await store.fill(MEMBER, [(70, model_json(model(70)))], epoch=epoch, cursor=80, floor=0, asked_at=stale_answer)
    state = await store.index_state(MEMBER)
    assert (state.floor, state.numbers) == (0, [100, 90, 80, 70])
    assert 0 < state.claim_ms <= 500  # now the older proof bounds the claim


async def test_an_answer_older_than_the_completeness_ttl_claims_nothing(redis: Redis) -> None:
    store = short_claims(redis, 0.5)
    epoch = await store.epoch()
    models = [(n, model_json(model(n))) for n in (3, 2, 1)]
    await store.fill(MEMBER, models, epoch=epoch, cursor=None, floor=0, asked_at=time.monotonic() - 1)
    state = await store.index_state(MEMBER)
    assert (state.numbers, state.claim_ms) == ([3, 2, 1], 0)
    assert await store.page(MEMBER, None, 10) is None


async def test_a_claim_whose_index_was_evicted_proves_nothing_about_the_new_index(
    store: ReadModelStore, redis: Redis
) -> None:
    await fill_from_top(store, [3, 2, 1], floor=0)
    await redis.delete(store.keys.index(MEMBER))  # evicted; the verified key survived
    await store.apply_event(1, model(4))
    assert await redis.exists(store.keys.verified(MEMBER)) == 1
    assert await store.page(MEMBER, None, 10) is None
    assert await store.page(MEMBER, None, 1) is None
