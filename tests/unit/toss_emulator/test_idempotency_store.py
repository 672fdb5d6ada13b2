"""The idempotency store, with its responses in memory and in the state file alike."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiwishop.toss_emulator.filestore import FileResponses
from kiwishop.toss_emulator.statefile import StateFile
from kiwishop.toss_emulator.store import Claim, IdempotencyStore, InFlight, Scope, StoredResponse

SCOPE: Scope = ("key-1", "test_sk_a", "/v1/payments/confirm", "POST")
OK = StoredResponse(200, b'{"status":"DONE"}')


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2025, 1, 10, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


Factory = Callable[[FakeClock], IdempotencyStore]


@pytest.fixture(params=["memory", "file"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    file = StateFile.open(tmp_path / "emulator.sqlite3") if request.param == "file" else None

    def make(clock: FakeClock) -> IdempotencyStore:
        return IdempotencyStore(clock, dt.timedelta(days=15), None if file is None else FileResponses(file))

    yield make
    if file is not None:
        file.close()


def claim(s: IdempotencyStore, scope: Scope = SCOPE) -> Claim:
    begun = s.begin(scope)
    assert isinstance(begun, Claim)
    return begun


def test_the_first_request_owns_the_scope_and_a_twin_is_told_it_is_in_flight(store: Factory) -> None:
    s = store(FakeClock())
    claim(s)
    assert s.begin(SCOPE) is InFlight.IN_FLIGHT
    assert s.in_flight == 1


def test_a_completed_response_is_replayed_for_the_same_scope(store: Factory) -> None:
    s = store(FakeClock())
    s.complete(claim(s), OK)
    assert s.begin(SCOPE) == OK
    assert (len(s), s.in_flight) == (1, 0)


def test_failures_are_stored_and_replayed_like_successes(store: Factory) -> None:
    s = store(FakeClock())
    failure = StoredResponse(400, b'{"code":"INVALID_REQUEST"}')
    s.complete(claim(s), failure)
    assert s.begin(SCOPE) == failure


def test_a_released_scope_lets_the_next_request_execute(store: Factory) -> None:
    s = store(FakeClock())
    s.release(claim(s))
    assert isinstance(s.begin(SCOPE), Claim)
    assert len(s) == 0


def test_key_secret_key_path_and_method_each_separate_the_scopes(store: Factory) -> None:
    s = store(FakeClock())
    s.complete(claim(s), OK)
    for other in (
        ("key-2", *SCOPE[1:]),
        (SCOPE[0], "test_sk_b", *SCOPE[2:]),
        (*SCOPE[:2], "/v1/payments/tgen_1/cancel", "POST"),
        (*SCOPE[:3], "PUT"),
    ):
        assert isinstance(s.begin(other), Claim)


def test_a_stored_response_is_kept_for_the_ttl_and_then_forgotten(store: Factory) -> None:
    clock = FakeClock()
    s = store(clock)
    s.complete(claim(s), OK)
    clock.advance(days=15, seconds=-1)
    assert s.begin(SCOPE) == OK
    clock.advance(seconds=1)
    assert isinstance(s.begin(SCOPE), Claim)
    assert len(s) == 0


def test_expired_entries_are_purged_while_fresh_ones_stay(store: Factory) -> None:
    clock = FakeClock()
    s = store(clock)
    s.complete(claim(s, ("old", "k", "/p", "POST")), OK)
    clock.advance(days=10)
    s.complete(claim(s, ("new", "k", "/p", "POST")), OK)
    clock.advance(days=6)
    s.begin(("other", "k", "/p", "POST"))
    assert len(s) == 1
    assert s.begin(("new", "k", "/p", "POST")) == OK


def test_after_a_clear_a_stale_claim_neither_stores_nor_releases_the_new_owner(store: Factory) -> None:
    s = store(FakeClock())
    stale = claim(s)
    s.clear()
    fresh = claim(s)
    s.complete(stale, OK)
    s.release(stale)
    assert s.begin(SCOPE) is InFlight.IN_FLIGHT
    s.complete(fresh, OK)
    assert s.begin(SCOPE) == OK
