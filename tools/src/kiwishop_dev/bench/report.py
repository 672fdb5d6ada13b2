"""Percentiles, tables and the JSON result file."""

from __future__ import annotations

import datetime as dt
import json
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of the values; 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class Row:
    scenario: str
    metric: str
    value: float
    unit: str
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self, scenario: str, metric: str, value: float, unit: str, target: str = "", met: bool | None = None
    ) -> None:
        self.rows.append(Row(scenario, metric, value, unit, target, met))

    def table(self) -> str:
        header = ("scenario", "metric", "value", "unit", "target", "")
        lines = [header]
        for r in self.rows:
            flag = "" if r.met is None else ("ok" if r.met else "MISSED")
            lines.append((r.scenario, r.metric, f"{r.value:,.1f}", r.unit, r.target, flag))
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        out = []
        for n, line in enumerate(lines):
            out.append(
                "  ".join(
                    cell.rjust(w) if i == 2 else cell.ljust(w)
                    for i, (cell, w) in enumerate(zip(line, widths, strict=False))
                )
            )
            if n == 0:
                out.append("  ".join("-" * w for w in widths))
        return "\n".join(out)

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = folder / f"bench-{stamp}.json"
        payload: dict[str, Any] = {
            "at": stamp,
            "machine": {"cpus": _cpus(), "python": platform.python_version(), "system": platform.platform()},
            "rows": [r.__dict__ for r in self.rows],
            "notes": self.notes,
        }
        path.write_text(json.dumps(payload, indent=2))
        return path


def _cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))
