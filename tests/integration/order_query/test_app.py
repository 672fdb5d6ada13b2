"""order-query as a process: no SQL database (G3), and the rebuild command line."""

from __future__ import annotations

import gc
import random
from collections.abc import Callable

import pytest
import redis as sync_redis

from kiwishop import cli
from kiwishop.order_query.app import create_app
from kiwishop.order_query.settings import OrderQuerySettings
from kiwishop.platform.settings import InfraSettings
from tests.support import eventually, running_app, unique


async def test_order_query_is_ready_without_any_sql_database(
    oq_settings: Callable[..., OrderQuerySettings], oq_infra: InfraSettings
) -> None:
    no_database = oq_infra.model_copy(update={"db_host": "127.0.0.1", "db_port": 9})
    app = create_app(oq_settings(infra=no_database))
    async with running_app(app) as oq:
        ready = await eventually(lambda: oq.get("/health/ready"), lambda r: r.status_code == 200, timeout_s=30)
        checks = ready.json()["checks"]
        assert {"redis", "kafka"} <= set(checks)
        assert "database" not in checks
        assert app.state.runtime._db is None


def test_the_rebuild_command_replays_the_payment_topic_into_the_configured_keyspace(
    oq_infra: InfraSettings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prefix = unique("oq-cli")
    client = sync_redis.Redis.from_url(oq_infra.redis_url)
    client.set(f"{prefix}:m:{random.randint(1, 9)}:pe:1", b"left over")
    monkeypatch.setenv("KIWI_REDIS_URL", oq_infra.redis_url)
    monkeypatch.setenv("KIWI_KAFKA_BOOTSTRAP_SERVERS", oq_infra.kafka_bootstrap_servers)
    monkeypatch.setenv("KIWI_ORDER_QUERY_KEY_PREFIX", prefix)
    monkeypatch.setenv("KIWI_ORDER_QUERY_PAYMENT_TOPIC", unique("it-empty-payment"))
    assert cli.main(["rebuild-order-query"]) == 0
    assert "cleared 1 keys, replayed 0 records" in capsys.readouterr().out
    assert list(client.scan_iter(match=f"{prefix}:*")) == []
    client.close()


async def test_start_up_objects_are_frozen_out_of_the_collectors_reach_unless_turned_off(
    oq_settings: Callable[..., OrderQuerySettings],
) -> None:
    gc.unfreeze()
    async with running_app(create_app(oq_settings())):
        assert gc.get_freeze_count() == 0
    try:
        async with running_app(create_app(oq_settings(freeze_gc_after_startup=True))):
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
