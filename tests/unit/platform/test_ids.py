from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kiwishop.platform.ids import EPOCH_MS, Snowflake, parse


class FakeClock:
    def __init__(self, now_ms: int) -> None:
        self.now_ms = now_ms
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        return self.now_ms


def test_epoch_is_2024_01_01_utc() -> None:
    assert dt.datetime.fromtimestamp(EPOCH_MS / 1000, dt.UTC) == dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


def test_an_id_encodes_milliseconds_since_epoch_then_node_then_sequence() -> None:
    clock = FakeClock(EPOCH_MS + 123_456)
    gen = Snowflake(node_id=492, clock_ms=clock)
    first, second = gen.next_id(), gen.next_id()
    assert first == (123_456 << 22) | (492 << 12) | 0
    assert parse(second).sequence == 1
    assert parse(second).node_id == 492
    assert parse(second).timestamp_ms == EPOCH_MS + 123_456


def test_the_original_example_decodes_as_documented() -> None:
    parts = parse(136068476671279104)
    assert parts.node_id == 492
    assert parts.sequence == 0
    moment = dt.datetime.fromtimestamp(parts.timestamp_ms / 1000, dt.UTC)
    assert moment.isoformat(timespec="milliseconds") == "2025-01-10T11:27:32.868+00:00"


def test_sequence_exhaustion_moves_to_the_next_millisecond_without_waiting_for_the_clock() -> None:
    clock = FakeClock(EPOCH_MS + 10)
    gen = Snowflake(node_id=1, clock_ms=clock)
    ids = [gen.next_id() for _ in range(4096)]
    assert parse(ids[-1]).sequence == 4095
    nxt = gen.next_id()  # the clock still says EPOCH_MS + 10: no sleep, the next millisecond is borrowed
    assert parse(nxt).timestamp_ms == EPOCH_MS + 11
    assert parse(nxt).sequence == 0
    assert nxt > ids[-1]
    assert gen.skew_ms == 1


@pytest.mark.parametrize("step_back_ms", [2, 1_000, 3_600_000])
def test_a_backwards_clock_step_never_refuses_and_ids_stay_unique_and_increasing(step_back_ms: int) -> None:
    clock = FakeClock(EPOCH_MS + 10_000_000)
    gen = Snowflake(node_id=7, clock_ms=clock)
    before = [gen.next_id() for _ in range(10)]
    clock.now_ms -= step_back_ms
    after = [gen.next_id() for _ in range(10_000)]  # more than one millisecond's worth of sequence numbers
    ids = before + after
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert parse(after[0]).timestamp_ms == parse(before[-1]).timestamp_ms  # issued from the last timestamp
    clock.now_ms += step_back_ms + 10  # the clock catches up: ids follow it again
    caught_up = gen.next_id()
    assert parse(caught_up).timestamp_ms == clock.now_ms
    assert caught_up > ids[-1]


def test_a_backwards_step_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock(EPOCH_MS + 10_000)
    gen = Snowflake(node_id=7, clock_ms=clock)
    gen.next_id()
    clock.now_ms -= 1_000
    with caplog.at_level("WARNING", logger="kiwishop.ids"):
        gen.next_id()
    assert any("behind the last id" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("node", [-1, 1024])
def test_node_id_must_fit_ten_bits(node: int) -> None:
    with pytest.raises(ValueError, match="node id"):
        Snowflake(node_id=node)


def test_100k_ids_from_two_nodes_are_unique_and_increasing_per_node() -> None:
    a, b = Snowflake(node_id=1), Snowflake(node_id=2)
    ids_a, ids_b = [], []
    for _ in range(50_000):
        ids_a.append(a.next_id())
        ids_b.append(b.next_id())
    assert all(x < y for x, y in itertools.pairwise(ids_a))
    assert all(x < y for x, y in itertools.pairwise(ids_b))
    assert len(set(ids_a) | set(ids_b)) == 100_000
    assert {parse(i).node_id for i in ids_a} == {1}
    assert {parse(i).node_id for i in ids_b} == {2}
