"""The drill's reading of the ops console's overview: what an operator would have to act on fails the drill."""

from __future__ import annotations

from typing import Any

from kiwishop_dev.bench.drill_console import overview_problems

PARKED = {"kiwi-shop-payment": {"wallet-settlement": 1, "order-query": 1}, "kiwi-shop-seller": {"catalog-seller": 1}}


def calm(**changes: Any) -> dict[str, Any]:
    overview: dict[str, Any] = {
        "outbox": [{"service": "order", "pending": 0}],
        "consumers": [{"group": "order-query", "topic": "kiwi-shop-payment", "lag": 0}],
        "deadLetters": [
            {"topic": "kiwi-shop-payment.DLT", "pending": 2},
            {"topic": "kiwi-shop-seller.DLT", "pending": 1},
        ],
        "services": [{"service": "order", "ready": True}],
        "payments": {"counts": {"UNKNOWN": 0, "EXECUTING": 0, "QUARANTINED": 0, "UNSETTLED": 0}},
    }
    overview.update(changes)
    return overview


def test_a_calm_overview_that_lists_every_parked_record_passes() -> None:
    assert overview_problems(calm(), PARKED) == []


def test_what_needs_an_operator_fails_the_drill() -> None:
    troubled = calm(
        outbox=[{"service": "wallet", "error": "503 SERVICE_UNAVAILABLE"}],
        services=[{"service": "order", "ready": False}],
        payments={"counts": {"UNKNOWN": 0, "EXECUTING": 0, "QUARANTINED": 2, "UNSETTLED": 1}},
        deadLetters=[{"topic": "kiwi-shop-payment.DLT", "pending": 1}],
    )
    assert overview_problems(troubled, PARKED) == [
        "console: outbox: {'service': 'wallet', 'error': '503 SERVICE_UNAVAILABLE'}",
        "console: order not ready",
        "console: 2 order(s) QUARANTINED",
        "console: 1 order(s) UNSETTLED",
        "console: kiwi-shop-payment.DLT lists 1 record(s), the drill parked 2",
        "console: kiwi-shop-seller.DLT lists 0 record(s), the drill parked 1",
    ]
