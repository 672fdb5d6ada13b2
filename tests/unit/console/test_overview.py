"""The overview is assembled part by part: every part there when everything answers, and a service or the broker
that does not answer costs only its own part an ``{"service", "error"}``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kiwishop.console.api import validated
from kiwishop.console.queries import NO_CREDENTIAL, OverviewSources, overview
from kiwishop.console.schemas import OverviewOut
from tests.unit.console.fakes import PAYMENTS, REGISTRATIONS, FakeBroker, FakePeers, FakeReconciles

OUTBOX_SERVICES = ("order", "wallet", "seller")
SERVICES = ("order", "wallet", "seller", "catalog")


def sources(peers: FakePeers, broker: FakeBroker | None = None, **kwargs: Any) -> OverviewSources:
    return OverviewSources(
        peers, broker or FakeBroker(), FakeReconciles(), services=SERVICES, outbox_services=OUTBOX_SERVICES,
        **kwargs,
    )  # fmt: skip


async def test_every_part_is_there_and_the_services_are_asked_with_the_callers_token() -> None:
    peers = FakePeers()
    o = await overview(sources(peers), "ops-token")
    assert {"outbox", "consumers", "deadLetters", "payments", "registrations", "services", "reconcile"} <= set(o)
    assert o["outbox"] == [{"service": s, "pending": 3, "failed": 1, "oldestAgeSeconds": 12.5} for s in OUTBOX_SERVICES]
    assert o["consumers"] == [{"group": "hot-catalog-service", "topic": "kiwi-shop-product-like", "lag": 4,
                               "joined": True, "partitions": 3}]  # fmt: skip
    assert o["deadLetters"] == [{"topic": "kiwi-shop-product-like.DLT", "pending": 1, "total": 2}]
    assert o["payments"] == PAYMENTS
    assert o["registrations"] == REGISTRATIONS["registrations"]
    assert o["registrationCounts"] == REGISTRATIONS["counts"]
    assert o["services"] == [{"service": s, "ready": True} for s in SERVICES]
    assert o["reconcile"] is None  # never run
    assert set(peers.tokens) == {"ops-token"}
    assert len(peers.tokens) == len(OUTBOX_SERVICES) + 2  # each outbox, payments, registrations


async def test_a_service_that_does_not_answer_gives_its_parts_an_error_and_the_rest_is_there() -> None:
    o = await overview(sources(FakePeers(down={"order", "wallet"})), "ops-token")
    by_service = {r["service"]: r for r in o["outbox"]}
    assert by_service["wallet"] == {"service": "wallet", "error": "connection refused"}
    assert by_service["seller"]["pending"] == 3
    assert o["payments"] == {"service": "order", "error": "connection refused"}
    assert o["registrations"] == REGISTRATIONS["registrations"]
    ready = {r["service"]: r["ready"] for r in o["services"]}
    assert ready == {"order": False, "wallet": False, "seller": True, "catalog": True}
    assert o["consumers"][0]["lag"] == 4


async def test_a_broker_that_cannot_be_used_costs_only_the_kafka_parts() -> None:
    o = await overview(sources(FakePeers(), FakeBroker(down=True)), "ops-token")
    assert o["consumers"]["service"] == "kafka"
    assert "no brokers" in o["consumers"]["error"]
    assert o["deadLetters"]["service"] == "kafka"
    assert o["payments"] == PAYMENTS


async def test_a_part_that_does_not_answer_in_time_is_that_parts_error() -> None:
    o = await overview(sources(FakePeers(slow={"seller"}), peer_timeout_s=0.05), "ops-token")
    assert o["registrations"] == {"service": "seller", "error": "no answer within 0.05s"}
    assert o["registrationCounts"] == o["registrations"]
    assert o["payments"] == PAYMENTS


async def test_without_a_token_only_what_needs_none_is_read() -> None:
    peers = FakePeers()
    o = await overview(sources(peers), None)
    assert peers.tokens == []
    assert o["payments"] == {"service": "order", "error": NO_CREDENTIAL}
    assert all(r["error"] == NO_CREDENTIAL for r in o["outbox"])
    assert o["consumers"][0]["lag"] == 4
    assert all(r["ready"] for r in o["services"])


@pytest.mark.parametrize(
    ("peers", "broker", "token"),
    [
        (FakePeers(), FakeBroker(), "ops-token"),
        (FakePeers(down={"order", "wallet", "seller"}), FakeBroker(down=True), "ops-token"),
        (FakePeers(), FakeBroker(), None),
    ],
)
async def test_the_overview_is_what_its_schema_says_whether_parts_answer_or_not(
    peers: FakePeers, broker: FakeBroker, token: str | None
) -> None:
    o = await overview(sources(peers, broker), token)
    sent = validated(OverviewOut, o)  # raises if the overview is not what the schema says
    assert json.loads(bytes(sent.body)) == json.loads(json.dumps(o))  # and it leaves the same keys and values
