"""Snowflake ids: 41-bit milliseconds since 2024-01-01T00:00:00Z | 10-bit node id | 12-bit sequence.

One generator per process (node id from configuration), so ids never collide between instances
that are configured with distinct node ids, and they increase monotonically within a node.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_NODE = (1 << NODE_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
MAX_TIMESTAMP = (1 << 41) - 1


class ClockMovedBackwardsError(RuntimeError):
    """The wall clock went backwards further than the generator is willing to wait."""


@dataclass(frozen=True)
class SnowflakeParts:
    timestamp_ms: int
    node_id: int
    sequence: int


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Snowflake:
    """Thread-safe snowflake generator.

    A small backwards step of the clock (up to ``max_backwards_wait_ms``) is waited out; a larger one
    raises ClockMovedBackwardsError rather than risk handing out a duplicate.
    """

    def __init__(
        self,
        node_id: int,
        clock_ms: Callable[[], int] = _wall_clock_ms,
        max_backwards_wait_ms: int = 5,
    ) -> None:
        if not 0 <= node_id <= MAX_NODE:
            raise ValueError(f"node id must be in [0, {MAX_NODE}], got {node_id}")
        self.node_id = node_id
        self._clock_ms = clock_ms
        self._max_wait = max_backwards_wait_ms
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now = self._now()
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:
                    now = self._wait_next_ms(self._last_ms)
            else:
                self._sequence = 0
            self._last_ms = now
            return (now << (NODE_BITS + SEQUENCE_BITS)) | (self.node_id << SEQUENCE_BITS) | self._sequence

    def _now(self) -> int:
        now = self._clock_ms() - EPOCH_MS
        if now < self._last_ms:
            behind = self._last_ms - now
            if behind > self._max_wait:
                raise ClockMovedBackwardsError(f"clock moved backwards by {behind} ms; refusing to issue ids")
            now = self._wait_next_ms(self._last_ms - 1)
        if now > MAX_TIMESTAMP:
            raise OverflowError("snowflake timestamp space exhausted")
        return now

    def _wait_next_ms(self, last: int) -> int:
        now = self._clock_ms() - EPOCH_MS
        while now <= last:
            time.sleep(0.0001)
            now = self._clock_ms() - EPOCH_MS
        return now


def parse(snowflake_id: int) -> SnowflakeParts:
    return SnowflakeParts(
        timestamp_ms=(snowflake_id >> (NODE_BITS + SEQUENCE_BITS)) + EPOCH_MS,
        node_id=(snowflake_id >> SEQUENCE_BITS) & MAX_NODE,
        sequence=snowflake_id & MAX_SEQUENCE,
    )
