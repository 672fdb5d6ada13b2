"""Webhooks over real HTTP: PAYMENT_STATUS_CHANGED for every status change and cancel, sent in the background,
retried on Toss's ladder (scaled: ``webhook_time_scale``), counted in /emulator/stats, and never in the way
of the API when the receiver is slow or down."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiwishop.toss_emulator.app import create_app
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from tests.integration.toss_emulator.conftest import ADMIN, FakeClock, Toss
from tests.integration.toss_emulator.receiver import Receiver, receiving
from tests.support import dead_port, eventually, running_app

FAST = 0.001  # a minute of the ladder is 60 ms


async def counted(toss: Toss, **expected: int) -> dict[str, int]:
    """Wait until the stats show ``expected`` (camelCase names)."""
    return await eventually(toss.stats, lambda s: all(s[name] == value for name, value in expected.items()))


async def test_approval_and_each_cancel_are_sent_as_payment_status_changed(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    async with receiving(Receiver()) as receiver, running_app(emulator_app(webhook_url=receiver.url)) as http:
        toss = Toss(http, clock)
        payment = await toss.authorise(amount=6000)
        assert (await toss.stats())["webhookEvents"] == 0  # an authorisation is no status change
        approved = (await toss.confirm(payment)).json()
        await eventually(lambda: _count(receiver), lambda n: n == 1)
        partial = (await toss.cancel(payment["paymentKey"], cancelReason="부분", cancelAmount=2000)).json()
        await eventually(lambda: _count(receiver), lambda n: n == 2)
        clock.advance(1)
        rest = (await toss.cancel(payment["paymentKey"], cancelReason="나머지")).json()
        stats = await counted(toss, webhooksDelivered=3)
    assert receiver.delivered == [
        {"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": created, "data": data}
        for created, data in [
            ("2025-01-10T20:29:30+09:00", approved),
            ("2025-01-10T20:29:30+09:00", partial),
            ("2025-01-10T20:29:31+09:00", rest),
        ]
    ]
    assert receiver.statuses_delivered() == ["DONE", "PARTIAL_CANCELED", "CANCELED"]
    assert (stats["webhookEvents"], stats["webhooksSent"], stats["webhookFailedAttempts"]) == (3, 3, 0)
    assert (stats["webhooksPending"], stats["webhooksGivenUp"]) == (0, 0)


async def _count(receiver: Receiver) -> int:
    return len(receiver.delivered)


async def test_a_receiver_answering_500_twice_gets_it_on_the_third_attempt_at_the_scaled_ladder(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    async with (
        receiving(Receiver([500, 500])) as receiver,
        running_app(emulator_app(webhook_url=receiver.url, webhook_time_scale=FAST)) as http,
    ):
        toss = Toss(http, clock)
        payment = await toss.authorise()
        confirmed = (await toss.confirm(payment)).json()
        stats = await counted(toss, webhooksDelivered=1)
    first, second, third = receiver.calls
    assert [call.answered for call in receiver.calls] == [500, 500, 200]
    assert first.body == second.body == third.body == receiver.delivered[0]
    assert third.body["data"] == confirmed
    assert 0.055 <= second.at - first.at < 5  # 1 minute × 0.001
    assert 0.235 <= third.at - second.at < 5  # 4 minutes × 0.001
    assert (stats["webhooksSent"], stats["webhookFailedAttempts"], stats["webhooksPending"]) == (3, 2, 0)


async def test_a_change_that_is_never_accepted_is_given_up_after_seven_retries(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    scale = 0.000005  # the whole ladder (5461 minutes) in about 1.6 s
    async with (
        receiving(Receiver([404] * 10)) as receiver,
        running_app(emulator_app(webhook_url=receiver.url, webhook_time_scale=scale)) as http,
    ):
        toss = Toss(http, clock)
        await toss.confirm(await toss.authorise())
        stats = await counted(toss, webhooksGivenUp=1)
    assert [call.answered for call in receiver.calls] == [404] * 8  # the first attempt and seven retries
    assert (stats["webhooksSent"], stats["webhookFailedAttempts"], stats["webhooksDelivered"]) == (8, 8, 0)
    assert stats["webhooksPending"] == 0


async def test_aborted_and_expired_payments_are_sent_too(emulator_app: Callable[..., Any], clock: FakeClock) -> None:
    async with receiving(Receiver()) as receiver, running_app(emulator_app(webhook_url=receiver.url)) as http:
        toss = Toss(http, clock)
        declined = await toss.authorise(confirmErrors=["PROVIDER_ERROR", "REJECT_CARD_PAYMENT"])
        await toss.confirm(declined)  # transient: still IN_PROGRESS, no webhook
        await toss.confirm(declined)  # aborted
        left = await toss.authorise()
        clock.advance(1800)
        assert await toss.status(left["paymentKey"]) == "EXPIRED"  # seen (and sent) when next read
        await counted(toss, webhooksDelivered=2)
    assert receiver.statuses_delivered() == ["ABORTED", "EXPIRED"]
    failures = [body["data"]["failure"]["code"] for body in receiver.delivered]
    assert failures == ["REJECT_CARD_PAYMENT", "EXPIRED_PAYMENT"]


async def test_a_slow_receiver_never_holds_up_the_api(emulator_app: Callable[..., Any], clock: FakeClock) -> None:
    async with (
        receiving(Receiver(delay_s=1.0)) as receiver,
        running_app(emulator_app(webhook_url=receiver.url, webhook_timeout_s=0.2, webhook_time_scale=1.0)) as http,
    ):
        toss = Toss(http, clock)
        payment = await toss.authorise()
        started = time.monotonic()
        assert (await toss.confirm(payment)).status_code == 200
        assert (await toss.cancel(payment["paymentKey"], cancelReason="x")).status_code == 200
        assert time.monotonic() - started < 1.0
        stats = await counted(toss, webhookFailedAttempts=2)  # the 0.2 s timeout: not delivered, retried later
    assert (stats["webhooksPending"], stats["webhooksDelivered"]) == (2, 0)


async def test_a_receiver_that_is_down_leaves_the_deliveries_pending(
    emulator_app: Callable[..., Any], clock: FakeClock
) -> None:
    url = f"http://127.0.0.1:{dead_port()}/api/webhooks/toss"
    async with running_app(emulator_app(webhook_url=url)) as http:
        toss = Toss(http, clock)
        payment = await toss.authorise()
        assert (await toss.confirm(payment)).status_code == 200
        stats = await counted(toss, webhookFailedAttempts=1)
        assert await toss.status(payment["paymentKey"]) == "DONE"
    assert (stats["webhookEvents"], stats["webhooksPending"], stats["webhooksDelivered"]) == (1, 1, 0)


async def test_no_webhook_url_sends_nothing(toss: Toss) -> None:
    await toss.confirm(await toss.authorise())
    stats = await toss.stats()
    assert (stats["webhookEvents"], stats["webhooksPending"]) == (0, 0)


async def test_reset_forgets_the_pending_deliveries(emulator_app: Callable[..., Any], clock: FakeClock) -> None:
    url = f"http://127.0.0.1:{dead_port()}/api/webhooks/toss"
    async with running_app(emulator_app(webhook_url=url)) as http:
        toss = Toss(http, clock)
        await toss.confirm(await toss.authorise())
        await counted(toss, webhooksPending=1)
        assert (await http.post("/emulator/reset", headers=ADMIN)).status_code == 204
        assert (await toss.stats())["webhooksPending"] == 0


async def test_pending_deliveries_survive_a_restart_and_resume_their_ladder(tmp_path: Path, clock: FakeClock) -> None:
    """The first attempt fails; the emulator stops before the retry (1 minute × 1/60 = 1 s) is due; the next
    emulator on the same file makes it."""
    async with receiving(Receiver([503])) as receiver:
        settings = TossEmulatorSettings(
            data_path=str(tmp_path / "emulator.sqlite3"), webhook_url=receiver.url, webhook_time_scale=1 / 60
        )
        async with running_app(create_app(settings, clock=clock)) as http:
            before = Toss(http, clock)
            payment = await before.authorise()
            confirmed = (await before.confirm(payment)).json()
            stopped_with = await counted(before, webhookFailedAttempts=1)
        assert len(receiver.calls) == 1
        async with running_app(create_app(settings, clock=clock)) as http:
            after = Toss(http, clock)
            assert (await after.stats())["webhooksPending"] == 1
            resumed = await counted(after, webhooksDelivered=1)
    first, retry = receiver.calls
    assert (first.answered, retry.answered, retry.body["data"]) == (503, 200, confirmed)
    assert retry.at - first.at >= 0.95
    assert (stopped_with["webhooksPending"], stopped_with["webhooksDelivered"]) == (1, 0)
    assert (resumed["webhookEvents"], resumed["webhooksSent"], resumed["webhookFailedAttempts"]) == (1, 2, 1)
    assert resumed["webhooksPending"] == 0
