"""Webhook deliveries (webhooks.py): one per change with the Payment object, Toss's retry ladder scaled,
given up after the seventh retry; the same in memory and in the state file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiwishop.toss_emulator.domain import Payment, PaymentStatus
from kiwishop.toss_emulator.filestore import FileDeliveries
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from kiwishop.toss_emulator.statefile import StateFile
from kiwishop.toss_emulator.store import Stats
from kiwishop.toss_emulator.webhooks import (
    LADDER_MINUTES,
    Deliveries,
    MemoryDeliveries,
    Webhooks,
    event_body,
    retry_delay_us,
)

T0 = dt.datetime(2025, 1, 10, 11, 29, 30, tzinfo=dt.UTC)
MINUTE_US = 60_000_000


class Wall:
    def __init__(self) -> None:
        self.us = 1_000_000_000_000

    def __call__(self) -> int:
        return self.us


@pytest.fixture(params=["memory", "file"])
def deliveries(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Deliveries]:
    if request.param == "memory":
        yield MemoryDeliveries()
        return
    file = StateFile.open(tmp_path / "emulator.sqlite3")
    try:
        yield FileDeliveries(file)
    finally:
        file.close()


def done() -> Payment:
    p = Payment("tgen_1", "order-0001", "상품A", 6000, "4111111111111111", T0)
    p.status = PaymentStatus.DONE
    return p


def test_the_ladder_is_tosss_seven_retries_scaled() -> None:
    assert LADDER_MINUTES == (1, 4, 16, 64, 256, 1024, 4096)
    assert [retry_delay_us(n, 1.0) for n in range(1, 8)] == [m * MINUTE_US for m in LADDER_MINUTES]
    assert [retry_delay_us(n, 0.001) for n in (1, 2, 7)] == [60_000, 240_000, 245_760_000]
    assert retry_delay_us(8, 1.0) is None  # the first attempt and seven retries: spent
    assert retry_delay_us(0, 1.0) is None


def test_the_event_is_payment_status_changed_with_the_payment_object() -> None:
    body = json.loads(event_body(done(), T0))
    assert (body["eventType"], body["createdAt"]) == ("PAYMENT_STATUS_CHANGED", "2025-01-10T20:29:30+09:00")
    assert (body["data"]["paymentKey"], body["data"]["status"], body["data"]["totalAmount"]) == ("tgen_1", "DONE", 6000)


def test_a_notified_change_is_due_at_once_and_wakes_the_sender(deliveries: Deliveries) -> None:
    wall, stats, woken = Wall(), Stats(), []
    webhooks = Webhooks(deliveries, enabled=True, scale=1.0, wall=wall)
    webhooks.wake = lambda: woken.append(True)
    webhooks.notify(done(), T0, stats)
    [delivery] = deliveries.due(wall(), 10)
    assert (delivery.payment_key, delivery.attempts, delivery.due_us) == ("tgen_1", 0, wall())
    assert json.loads(delivery.body)["data"]["status"] == "DONE"
    assert (stats.webhook_events, len(deliveries), woken) == (1, 1, [True])


def test_no_webhook_url_no_deliveries(deliveries: Deliveries) -> None:
    stats = Stats()
    Webhooks(deliveries, enabled=False, scale=1.0).notify(done(), T0, stats)
    assert (len(deliveries), stats.webhook_events) == (0, 0)


def test_failed_attempts_climb_the_ladder_then_the_delivery_is_given_up(deliveries: Deliveries) -> None:
    wall, stats = Wall(), Stats()
    webhooks = Webhooks(deliveries, enabled=True, scale=0.5, wall=wall)
    webhooks.notify(done(), T0, stats)
    waits = []
    for _ in range(8):
        [delivery] = deliveries.due(wall(), 10)
        before = wall()
        webhooks.record(delivery, False, stats)
        if not len(deliveries):
            break
        next_due = deliveries.next_due_us()
        assert next_due is not None
        assert deliveries.due(next_due - 1, 10) == []  # not a microsecond early
        waits.append(next_due - before)
        wall.us = next_due
    assert waits == [m * MINUTE_US // 2 for m in LADDER_MINUTES]
    assert (len(deliveries), stats.webhooks_sent, stats.webhook_failed_attempts) == (0, 8, 8)
    assert (stats.webhooks_given_up, stats.webhooks_delivered) == (1, 0)


def test_a_delivered_attempt_removes_the_delivery(deliveries: Deliveries) -> None:
    wall, stats = Wall(), Stats()
    webhooks = Webhooks(deliveries, enabled=True, scale=1.0, wall=wall)
    webhooks.notify(done(), T0, stats)
    [first] = deliveries.due(wall(), 10)
    webhooks.record(first, False, stats)
    wall.us += MINUTE_US
    [second] = deliveries.due(wall(), 10)
    assert second.attempts == 1
    webhooks.record(second, True, stats)
    assert (len(deliveries), stats.webhooks_sent) == (0, 2)
    assert (stats.webhooks_delivered, stats.webhook_failed_attempts) == (1, 1)


def test_an_attempt_that_ends_after_a_reset_counts_nothing_and_ids_are_not_reused(deliveries: Deliveries) -> None:
    wall, stats = Wall(), Stats()
    webhooks = Webhooks(deliveries, enabled=True, scale=1.0, wall=wall)
    webhooks.notify(done(), T0, stats)
    [in_flight] = deliveries.due(wall(), 10)
    deliveries.clear()
    webhooks.notify(done(), T0, stats)
    webhooks.record(in_flight, True, stats)
    webhooks.record(in_flight, False, stats)
    assert (len(deliveries), stats.webhooks_sent) == (1, 0)
    assert deliveries.due(wall(), 10)[0].id != in_flight.id


def test_due_deliveries_come_longest_due_first_within_the_limit(deliveries: Deliveries) -> None:
    for due_us in (30, 10, 20, 99):
        deliveries.add("tgen_1", b"{}", due_us)
    assert [d.due_us for d in deliveries.due(50, 2)] == [10, 20]
    assert [d.due_us for d in deliveries.due(50, 10)] == [10, 20, 30]
    assert deliveries.next_due_us() == 10


@pytest.mark.parametrize("url", ["ftp://example.invalid/hook", "127.0.0.1:8080/api/webhooks/toss"])
def test_a_webhook_url_must_be_http_or_empty(url: str) -> None:
    with pytest.raises(ValueError, match="webhook_url"):
        TossEmulatorSettings(webhook_url=url)
    assert TossEmulatorSettings(webhook_url="").webhook_url == ""


def test_the_default_webhook_url_is_orders_receiver_in_the_local_stack() -> None:
    assert TossEmulatorSettings.model_fields["webhook_url"].default == "http://127.0.0.1:8080/api/webhooks/toss"
    assert TossEmulatorSettings.model_fields["webhook_time_scale"].default == 1.0
