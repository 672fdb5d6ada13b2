"""The system benchmark's chart (PNG, matplotlib's Agg backend) and the per-second series it draws."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kiwishop_dev.bench.load import OK
from kiwishop_dev.bench.report import percentile
from kiwishop_dev.bench.system_model import Outcome, Phase

SHOWN = ("checkout", "confirm", "cancel", "like", "review", "hot", "history")


def series(phase: Phase) -> dict[str, Any]:
    """Per second since the phase's load started: ok answers per endpoint, confirm/checkout p50 and p99,
    and CREDITs written (settled orders) per second."""
    seconds = math.ceil(max((at for _, at, _, _ in phase.recorder.calls), default=0.0)) + 1
    counts: dict[str, list[int]] = {e: [0] * seconds for e in OK}
    latencies: dict[str, list[list[float]]] = {e: [[] for _ in range(seconds)] for e in ("checkout", "confirm")}
    for endpoint, at, ms, status in phase.recorder.calls:
        if status == OK[endpoint]:
            counts[endpoint][int(at)] += 1
            if endpoint in latencies:
                latencies[endpoint][int(at)].append(ms)
    origin = phase.window[0] - phase.window_rel[0]  # wall clock of the load's start
    settled = [0] * seconds
    for at in phase.credited.values():
        index = int(at - origin)
        if 0 <= index < seconds:
            settled[index] += 1
    return {
        "counts": counts,
        "settled": settled,
        "p50": {e: [percentile(v, 50) if v else None for v in per] for e, per in latencies.items()},
        "p99": {e: [percentile(v, 99) if v else None for v in per] for e, per in latencies.items()},
        "window": phase.window_rel,
    }


def chart(outcome: Outcome, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases = outcome.phases
    fig, axes = plt.subplots(2, len(phases), figsize=(7 * len(phases), 8), squeeze=False)
    for column, phase in enumerate(phases):
        data = series(phase)
        top, bottom = axes[0][column], axes[1][column]
        x = list(range(len(data["settled"])))
        for endpoint in SHOWN:
            top.plot(x, data["counts"][endpoint], label=f"{endpoint} ok/s", linewidth=1)
        top.plot(x, data["settled"], label="settled (credited)/s", linewidth=2, color="black")
        top.set_title(f"{phase.name}: PSP {phase.latency_ms[0]}–{phase.latency_ms[1]} ms, {phase.load_label()}")
        top.set_ylabel("per second")
        for endpoint, style in (("checkout", ":"), ("confirm", "-")):
            bottom.plot(x, _gaps(data["p50"][endpoint]), style, label=f"{endpoint} p50", linewidth=1)
            bottom.plot(x, _gaps(data["p99"][endpoint]), style, label=f"{endpoint} p99", linewidth=2)
        bottom.set_yscale("log")
        bottom.set_ylabel("latency (ms, per second)")
        bottom.set_xlabel("seconds since the load started")
        for axis in (top, bottom):
            axis.axvspan(*data["window"], color="grey", alpha=0.08)
            axis.grid(True, alpha=0.3)
            axis.legend(fontsize=7, loc="upper right")
    fig.suptitle("kiwi-shop under mixed load (shaded: measured window)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _gaps(values: list[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]
