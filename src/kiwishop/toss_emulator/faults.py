"""Fault injection for the /v1 API: latency, 5xx, timeouts and "approved, then the response is lost".

- ``ERROR_5XX``: answer 500 FAILED_INTERNAL_SYSTEM_PROCESSING without doing anything (never stored for
  idempotency, so a retry with the same key really executes).
- ``TIMEOUT``: hang ``hang_s`` without doing anything, then answer that same 500 (the caller's read
  timeout fires first); the idempotency key is not held meanwhile.
- ``DROP``: execute the request (approve, cancel…), store its response for idempotency, then hang
  ``hang_s`` before answering: a retry with the same key replays the stored success.
"""

from __future__ import annotations

import asyncio
import enum
import random
from dataclasses import asdict, dataclass
from typing import Any

from kiwishop.toss_emulator.settings import TossEmulatorSettings


class Fault(enum.Enum):
    ERROR_5XX = "5xx"
    TIMEOUT = "timeout"
    DROP = "drop"


@dataclass
class FaultConfig:
    """The run-time fault settings, with the wire names of GET/PUT /emulator/faults; made from the settings
    (``from_settings``), which hold the defaults."""

    latencyMsMin: int
    latencyMsMax: int
    fault5xxRate: float
    faultTimeoutRate: float
    faultDropRate: float
    hangS: float
    faultLookups: bool

    @classmethod
    def from_settings(cls, s: TossEmulatorSettings) -> FaultConfig:
        return cls(
            latencyMsMin=s.latency_ms_min,
            latencyMsMax=s.latency_ms_max,
            fault5xxRate=s.fault_5xx_rate,
            faultTimeoutRate=s.fault_timeout_rate,
            faultDropRate=s.fault_drop_rate,
            hangS=s.hang_s,
            faultLookups=s.fault_lookups,
        )

    def problem(self) -> str | None:
        """Why this configuration is inconsistent, if it is."""
        if self.latencyMsMin > self.latencyMsMax:
            return "latencyMsMin must not exceed latencyMsMax"
        if self.fault5xxRate + self.faultTimeoutRate + self.faultDropRate > 1.0 + 1e-9:
            return "fault5xxRate + faultTimeoutRate + faultDropRate must be at most 1"
        return None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class Faults:
    """The current fault configuration and the dice."""

    def __init__(self, config: FaultConfig, rng: random.Random | None = None) -> None:
        self.config = config
        self._rng = rng or random.Random()

    def roll(self, *, lookup: bool) -> Fault | None:
        c = self.config
        if lookup and not c.faultLookups:
            return None
        draw = self._rng.random()
        if draw < c.fault5xxRate:
            return Fault.ERROR_5XX
        if draw < c.fault5xxRate + c.faultTimeoutRate:
            return Fault.TIMEOUT
        if draw < c.fault5xxRate + c.faultTimeoutRate + c.faultDropRate:
            return Fault.DROP
        return None

    async def delay(self) -> None:
        """The configured API latency (uniform in [min, max] ms)."""
        low, high = self.config.latencyMsMin, self.config.latencyMsMax
        if high > 0:
            await asyncio.sleep(self._rng.uniform(low, high) / 1000)

    async def hang(self) -> None:
        await asyncio.sleep(self.config.hangS)
