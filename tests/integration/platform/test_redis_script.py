"""The platform's Lua runner: EVALSHA, and SCRIPT LOAD when Redis does not know the script (yet)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from kiwishop.platform.redisclient import Script, create_redis
from kiwishop.platform.settings import InfraSettings
from tests.support import unique

INCR_BY = "return redis.call('INCRBY', KEYS[1], ARGV[1])"


@pytest.fixture
async def redis(infra: InfraSettings) -> AsyncIterator[Redis]:
    client = create_redis(infra.redis_url)
    yield client
    await client.aclose()


def fresh(source: str) -> str:
    """The script with a comment of its own: a SHA that Redis has never seen."""
    return f"-- {unique('script')}\n{source}"


async def test_a_script_redis_does_not_know_is_loaded_and_run(redis: Redis) -> None:
    key = unique("script-key")
    script = Script(redis, fresh(INCR_BY))
    assert await script([key], [2]) == 2
    assert await script([key], [3]) == 5


async def test_many_calls_go_in_one_pipeline_and_survive_an_unknown_script(redis: Redis) -> None:
    first, second = unique("script-key"), unique("script-key")
    script = Script(redis, fresh(INCR_BY))
    assert await script.many([([first], [1]), ([second], [10]), ([first], [1])]) == [1, 10, 2]
    assert await script.many([([first], [1])]) == [3]
    assert await script.many([]) == []


async def test_a_failing_call_of_many_raises(redis: Redis) -> None:
    key = unique("script-key")
    script = Script(redis, fresh(INCR_BY))
    with pytest.raises(ResponseError):
        await script.many([([key], [1]), ([key], ["not a number"])])
    assert int(await redis.get(key) or 0) == 1  # the calls before it ran
