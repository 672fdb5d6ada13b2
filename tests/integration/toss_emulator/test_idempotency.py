"""Idempotency-Key on POST: replay of the first response, 409 while in flight, scope, limits, concurrency."""

from __future__ import annotations

import asyncio
import collections

from kiwishop.toss_emulator.app import create_app
from kiwishop.toss_emulator.settings import TossEmulatorSettings
from tests.integration.toss_emulator.conftest import SECRET, Toss, basic, error, new_order_id
from tests.support import eventually, running_app

REPLAYED = "x-emulator-replayed"


async def test_a_success_is_replayed_for_the_same_key_without_a_second_approval(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    first = await toss.confirm(payment, key="confirm-1")
    again = await toss.confirm(payment, key="confirm-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.content == first.content
    assert again.headers[REPLAYED] == "true"
    assert REPLAYED not in first.headers
    assert (await toss.stats())["approved"] == 1


async def test_a_failure_is_replayed_too_even_for_a_corrected_body(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    wrong = await toss.confirm(payment, key="confirm-2", amount=7000)
    corrected = await toss.confirm(payment, key="confirm-2")  # the body is not part of the key's scope
    assert error(wrong) == error(corrected) == (400, "INVALID_REQUEST")
    assert corrected.content == wrong.content
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"
    assert (await toss.confirm(payment, key="confirm-3")).status_code == 200


async def test_a_malformed_request_is_not_stored_so_the_corrected_retry_executes(toss: Toss) -> None:
    payment = await toss.authorise()
    headers = {**basic(), "Idempotency-Key": "confirm-4"}
    bad = await toss.http.post("/v1/payments/confirm", content=b"{oops", headers=headers)
    assert error(bad) == (400, "INVALID_REQUEST")
    assert (await toss.confirm(payment, key="confirm-4")).status_code == 200


async def test_the_same_key_on_another_path_is_another_request(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    assert (await toss.confirm(payment, key="shared-key")).status_code == 200
    cancel = await toss.cancel(payment["paymentKey"], key="shared-key", cancelReason="변심")
    assert cancel.status_code == 200
    assert cancel.json()["status"] == "CANCELED"


async def test_the_same_key_used_by_another_secret_key_is_another_request() -> None:
    other = "test_sk_secondMerchant000000000"
    async with running_app(create_app(TossEmulatorSettings(secret_keys=(SECRET, other), webhook_url=""))) as http:
        created = (
            await http.post("/emulator/payments", json={"orderId": new_order_id(), "amount": 1000, "orderName": "x"})
        ).json()
        first = await http.post("/v1/payments/confirm", json=created, headers={**basic(), "Idempotency-Key": "k"})
        second = await http.post("/v1/payments/confirm", json=created, headers={**basic(other), "Idempotency-Key": "k"})
        assert first.status_code == 200
        assert error(second) == (400, "ALREADY_PROCESSED_PAYMENT")


async def test_a_key_longer_than_300_characters_is_refused_and_nothing_happens(toss: Toss) -> None:
    payment = await toss.authorise()
    assert error(await toss.confirm(payment, key="k" * 301)) == (400, "INVALID_IDEMPOTENCY_KEY")
    assert await toss.status(payment["paymentKey"]) == "IN_PROGRESS"
    assert (await toss.confirm(payment, key="k" * 300)).status_code == 200


async def test_get_requests_ignore_the_idempotency_key(toss: Toss) -> None:
    payment = await toss.authorise()
    headers = {**basic(), "Idempotency-Key": "k" * 400}
    response = await toss.http.get(f"/v1/payments/{payment['paymentKey']}", headers=headers)
    assert response.status_code == 200


async def test_a_twin_request_while_the_first_is_in_flight_gets_409_then_the_replay(toss: Toss) -> None:
    payment = await toss.authorise()
    await toss.faults(latencyMsMin=1500, latencyMsMax=1500)
    first = asyncio.create_task(toss.confirm(payment, key="slow-key"))
    await eventually(toss.stats, lambda s: s["inFlight"] == 1)
    twin = await toss.confirm(payment, key="slow-key")
    assert error(twin) == (409, "IDEMPOTENT_REQUEST_PROCESSING")
    assert (await first).status_code == 200
    await toss.faults(latencyMsMin=0, latencyMsMax=0)
    replay = await toss.confirm(payment, key="slow-key")
    assert replay.status_code == 200
    assert replay.headers[REPLAYED] == "true"


async def test_a_hundred_concurrent_confirms_with_one_key_approve_exactly_once(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    await toss.faults(latencyMsMin=10, latencyMsMax=50)
    responses = await asyncio.gather(*(toss.confirm(payment, key="one-key") for _ in range(100)))
    statuses = collections.Counter(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}, statuses
    executed = [r for r in responses if r.status_code == 200 and REPLAYED not in r.headers]
    assert len(executed) == 1
    assert {r.content for r in responses if r.status_code == 200} == {executed[0].content}
    assert all(error(r) == (409, "IDEMPOTENT_REQUEST_PROCESSING") for r in responses if r.status_code == 409)
    stats = await toss.stats()
    assert (stats["approved"], stats["approvedAmount"], stats["confirmRequests"]) == (1, 6000, 100)


async def test_a_hundred_concurrent_confirms_without_a_key_approve_exactly_once(toss: Toss) -> None:
    payment = await toss.authorise(amount=6000)
    await toss.faults(latencyMsMin=0, latencyMsMax=20)
    responses = await asyncio.gather(*(toss.confirm(payment) for _ in range(100)))
    outcomes = collections.Counter(r.json().get("code", r.json().get("status")) for r in responses)
    assert outcomes == {"DONE": 1, "ALREADY_PROCESSED_PAYMENT": 99}
    assert (await toss.stats())["approved"] == 1


async def test_a_stored_response_expires_after_the_ttl(toss: Toss) -> None:
    payment = await toss.authorise()
    assert (await toss.confirm(payment, key="old-key")).status_code == 200
    toss.clock.advance(15 * 24 * 3600 - 1)
    assert (await toss.confirm(payment, key="old-key")).status_code == 200
    toss.clock.advance(1)
    assert error(await toss.confirm(payment, key="old-key")) == (400, "ALREADY_PROCESSED_PAYMENT")
