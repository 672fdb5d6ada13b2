"""Snowflake ids: 41-bit milliseconds since 2024-01-01T00:00:00Z | 10-bit node id | 12-bit sequence.

One generator per process (node id from configuration), so ids never collide between instances
that are configured with distinct node ids, and they increase monotonically within a node.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("kiwishop.ids")

EPOCH_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_NODE = (1 << NODE_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
MAX_TIMESTAMP = (1 << 41) - 1
SKEW_LOG_EVERY_S = 10.0


@dataclass(frozen=True)
class SnowflakeParts:
    timestamp_ms: int
    node_id: int
    sequence: int


def _wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Snowflake:
    """Thread-safe snowflake generator that never refuses and never sleeps.

    The timestamp part is ``max(wall clock, last timestamp used)``: when the wall clock steps back (NTP, a VM
    resumed) the generator keeps issuing from its last timestamp, and when a millisecond's 4,096 sequence
    numbers are used up it moves on to the next millisecond without waiting for the clock. Ids therefore stay
    unique and increasing; their timestamp runs ahead of the clock by the skew, which is logged.
    """

    def __init__(self, node_id: int, clock_ms: Callable[[], int] = _wall_clock_ms) -> None:
        if not 0 <= node_id <= MAX_NODE:
            raise ValueError(f"node id must be in [0, {MAX_NODE}], got {node_id}")
        self.node_id = node_id
        self._clock_ms = clock_ms
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0
        self._skew_logged_at = 0.0

    def next_id(self) -> int:
        with self._lock:
            now = self._clock_ms() - EPOCH_MS
            if now < self._last_ms:
                self._note_skew(self._last_ms - now)
                now = self._last_ms
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:
                    now += 1  # this millisecond is used up: borrow the next one
            else:
                self._sequence = 0
            if now > MAX_TIMESTAMP:
                raise OverflowError("snowflake timestamp space exhausted")
            self._last_ms = now
            return (now << (NODE_BITS + SEQUENCE_BITS)) | (self.node_id << SEQUENCE_BITS) | self._sequence

    @property
    def skew_ms(self) -> int:
        """How far the last id's timestamp is ahead of the wall clock (0 when the clock is ahead)."""
        return max(0, self._last_ms - (self._clock_ms() - EPOCH_MS))

    def _note_skew(self, behind_ms: int) -> None:
        if behind_ms > 5 and time.monotonic() - self._skew_logged_at > SKEW_LOG_EVERY_S:
            self._skew_logged_at = time.monotonic()
            log.warning("the wall clock is %d ms behind the last id issued; issuing from the last timestamp", behind_ms)


def parse(snowflake_id: int) -> SnowflakeParts:
    return SnowflakeParts(
        timestamp_ms=(snowflake_id >> (NODE_BITS + SEQUENCE_BITS)) + EPOCH_MS,
        node_id=(snowflake_id >> SEQUENCE_BITS) & MAX_NODE,
        sequence=snowflake_id & MAX_SEQUENCE,
    )
