"""The system scenario's sizes, what one phase measured, and the figures derived from it (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kiwishop.ops.reconcile import Findings
from kiwishop_dev.bench import profiling
from kiwishop_dev.bench.arrivals import Arrivals
from kiwishop_dev.bench.load import OK, Orders, Recorder
from kiwishop_dev.bench.replay import ReplayResult
from kiwishop_dev.bench.report import percentile

SCENARIO = "system"


@dataclass(frozen=True)
class Sizes:
    warmup_s: float
    duration_s: float
    users: int  # the fast profile's closed loop (and the replay's connections)
    replay_s: float
    profile_s: float
    # The slow profile is an open loop offering this many times the actions/s the fast profile carried: a closed
    # loop would measure users ÷ latency at 3 s a PSP call, not what the shop can carry.
    slow_offer: float = 1.1


FULL = Sizes(warmup_s=5, duration_s=90, users=48, replay_s=30, profile_s=30)
QUICK = Sizes(warmup_s=2, duration_s=12, users=32, replay_s=6, profile_s=6)
ACTION_ENDPOINTS = ("checkout", "like", "review", "hot", "history")  # the first call of each action
PROFILES = {"fast": (100, 300), "slow": (2000, 3500)}
SETTLED_TARGET = {"fast": 400.0, "slow": 300.0}


@dataclass
class Phase:
    name: str
    latency_ms: tuple[int, int]
    users: int
    recorder: Recorder
    orders: Orders
    window: tuple[float, float]  # wall clock (epoch s) of the measured window
    window_rel: tuple[float, float]  # the same in seconds since the recorder started
    psp_ms: list[float]
    cpu: dict[str, float]
    credited: dict[str, float] = field(default_factory=dict)  # orderId → epoch s of its first CREDIT row
    outbox: dict[str, tuple[float, float]] = field(default_factory=dict)  # orderId → PAYMENT_CONFIRM written, sent
    not_done: int = 0  # paid orders without is_wallet_done = 1 after the drain
    profile: profiling.Profile | None = None
    cancels: dict[str, Any] = field(default_factory=dict)  # the buyers' cancels (``Cancels.summary``)
    arrivals: Arrivals | None = None  # an open loop's offer (``users`` is then 0)

    def load_label(self) -> str:
        if self.arrivals is None:
            return f"{self.users} users"
        return f"open loop, {self.arrivals.rate_per_s:.0f} actions/s offered"


@dataclass
class Outcome:
    phases: list[Phase]
    lost: list[str]
    approved: int
    findings: Findings
    replay: ReplayResult
    processes: dict[str, int | None]
    machine: dict[str, Any]
    durable: Phase | None = None  # the fast profile again, the broker on s3:// (SeaweedFS) instead of memory://
    durable_lost: list[str] = field(default_factory=list)
    flush_log_at_trx_commit: int = 1  # MariaDB's setting during the phases and the first replay
    # When that isn't production's 1: the fast profile and the replay again with it at 1.
    at_flush_1: tuple[Phase, ReplayResult] | None = None


def endpoint_stats(phase: Phase) -> dict[str, dict[str, float]]:
    """Per endpoint, inside the measured window: successful answers/s, their p50/p95/p99, and errors."""
    low, high = phase.window_rel
    seconds = high - low
    stats: dict[str, dict[str, float]] = {}
    for endpoint, ok in OK.items():
        calls = [(ms, status) for e, at, ms, status in phase.recorder.calls if e == endpoint and low <= at < high]
        good = [ms for ms, status in calls if status == ok]
        stats[endpoint] = {
            "rate": len(good) / seconds, "p50": percentile(good, 50), "p95": percentile(good, 95),
            "p99": percentile(good, 99), "errors": len(calls) - len(good),
        }  # fmt: skip
    return stats


def settled_rate(phase: Phase) -> float:
    began, ended = phase.window
    inside = sum(1 for at in phase.credited.values() if began <= at < ended)
    return inside / (ended - began)


def action_rate(phase: Phase) -> float:
    """Actions started per second of the window (a buy counts once, by its checkout)."""
    low, high = phase.window_rel
    started = sum(1 for e, at, _, _ in phase.recorder.calls if e in ACTION_ENDPOINTS and low <= at < high)
    return started / (high - low)


def lags_ms(phase: Phase) -> list[float]:
    began, ended = phase.window
    return [
        (phase.credited[order_id] - paid) * 1000
        for order_id, paid in phase.orders.paid_at.items()
        if began <= paid < ended and order_id in phase.credited
    ]


def storage_comparison(outcome: Outcome) -> list[tuple[str, Phase, int]]:
    """The fast profile per broker storage: (storage, phase, payments lost)."""
    fast = outcome.phases[0]
    runs = [("memory://", fast, sum(1 for order_id in outcome.lost if order_id in fast.orders.authorised))]
    if outcome.durable is not None:
        runs.append(("s3:// (SeaweedFS)", outcome.durable, len(outcome.durable_lost)))
    return runs


def share(settled_per_s: float, replay: ReplayResult) -> float:
    """The services' settled rate as a share of the replayed DB limit."""
    return settled_per_s / replay.rate if replay.rate else 0.0


NOT_THE_SHOP = ("toss-emulator", "mariadb", "redis", "tansu", "seaweedfs", "load driver")


def shop_cpu_ms(phase: Phase) -> dict[str, float]:
    """CPU ms per settled payment in the window, per process of the shop's own (the services: not the PSP's
    emulator, the servers or the load driver). The mixed load's reads, likes and reviews are in it too."""
    began, ended = phase.window
    settled = max(1, sum(1 for at in phase.credited.values() if began <= at < ended))
    return {name: used / settled * 1000 for name, used in phase.cpu.items() if name not in NOT_THE_SHOP}
