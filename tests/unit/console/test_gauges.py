"""The console's /metrics: the overview becomes the gauges the alert rules read, under exactly their names; a
source that could not be read this round leaves no stale value behind."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry

from kiwishop.console.collector import ConsoleGauges
from kiwishop.console.ports import Json

NAMES = {
    "kiwi_outbox_backlog_rows", "kiwi_outbox_oldest_age_seconds", "kiwi_consumer_group_lag",
    "kiwi_dead_letters_pending", "kiwi_payments_in_doubt", "kiwi_payments_quarantined",
    "kiwi_reconcile_discrepancies", "kiwi_reconcile_last_run_timestamp_seconds", "kiwi_service_ready",
}  # fmt: skip
OVERVIEW: Json = {
    "outbox": [{"service": "wallet", "pending": 3, "failed": 1, "oldestAgeSeconds": 12.5},
               {"service": "order", "error": "connection refused"}],
    "consumers": [{"group": "order-query", "topic": "kiwi-shop-payment", "lag": 7, "joined": True}],
    "deadLetters": [{"topic": "kiwi-shop-payment.DLT", "pending": 2, "total": 5}],
    "payments": {"counts": {"UNKNOWN": 2, "EXECUTING": 1, "QUARANTINED": 4, "UNSETTLED": 0}},
    "services": [{"service": "order", "ready": False, "error": "down"}, {"service": "wallet", "ready": True}],
    "reconcile": {"discrepancies": 3, "finishedAt": "2026-01-01T00:00:00.000Z"},
}  # fmt: skip


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_the_gauges_carry_exactly_the_names_the_alert_rules_read() -> None:
    registry = CollectorRegistry()
    ConsoleGauges(registry)
    assert {metric.name for metric in registry.collect()} == NAMES


def test_the_overview_sets_every_gauge() -> None:
    registry = CollectorRegistry()
    ConsoleGauges(registry).export(OVERVIEW)
    assert value(registry, "kiwi_outbox_backlog_rows", service="wallet") == 3
    assert value(registry, "kiwi_outbox_oldest_age_seconds", service="wallet") == 12.5
    assert value(registry, "kiwi_outbox_backlog_rows", service="order") is None  # not read: absent
    assert value(registry, "kiwi_consumer_group_lag", group="order-query", topic="kiwi-shop-payment") == 7
    assert value(registry, "kiwi_dead_letters_pending", topic="kiwi-shop-payment.DLT") == 2
    assert value(registry, "kiwi_payments_in_doubt", status="UNKNOWN") == 2
    assert value(registry, "kiwi_payments_in_doubt", status="EXECUTING") == 1
    assert value(registry, "kiwi_payments_quarantined") == 4
    assert value(registry, "kiwi_service_ready", service="order") == 0
    assert value(registry, "kiwi_service_ready", service="wallet") == 1
    assert value(registry, "kiwi_reconcile_discrepancies") == 3
    assert value(registry, "kiwi_reconcile_last_run_timestamp_seconds") == 1767225600.0


def test_a_source_not_read_in_the_next_round_leaves_no_stale_series() -> None:
    registry = CollectorRegistry()
    gauges = ConsoleGauges(registry)
    gauges.export(OVERVIEW)
    broken = {**OVERVIEW, "outbox": [{"service": "wallet", "error": "down"}],
              "consumers": {"service": "kafka", "error": "no brokers"},
              "payments": {"service": "order", "error": "down"}}  # fmt: skip
    gauges.export(broken)
    assert value(registry, "kiwi_outbox_backlog_rows", service="wallet") is None
    assert value(registry, "kiwi_consumer_group_lag", group="order-query", topic="kiwi-shop-payment") is None
    assert value(registry, "kiwi_payments_in_doubt", status="UNKNOWN") is None
    quarantined = value(registry, "kiwi_payments_quarantined")
    assert quarantined is not None
    assert math.isnan(quarantined)
    assert value(registry, "kiwi_dead_letters_pending", topic="kiwi-shop-payment.DLT") == 2
