"""What a drill prints and keeps: the timeline, the load's answers, the money checks and reconcile."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING

from kiwishop.ops.reconcile import render

if TYPE_CHECKING:
    from kiwishop_dev.bench.drills import DrillResult


def render_result(result: DrillResult) -> str:
    lines = ["timeline (s since start):", *(f"  {at:6.1f}  {what}" for at, what in result.events), ""]
    lines.append(f"load: {result.paid} orders paid (confirm 200); answers that were not a success: {result.errors}")
    lines.append(f"longest call per endpoint (ms): {result.slowest_ms}")
    psp = {k: v for k, v in result.psp.items() if not isinstance(v, dict)}
    lines += [f"PSP (emulator) counters: {psp}", f"orders by status at the end: {result.order_counts}", ""]
    lines.append(f"poison records: {result.poison_injected} injected; parked per topic and consumer group:")
    for topic, groups in sorted(result.poison.items()):
        lines.append(f"  {topic}.DLT: " + ", ".join(f"{g} {n}" for g, n in sorted(groups.items())))
    lines += [f"  PROBLEM: {p}" for p in result.poison_problems] or ["  each exactly once per group: ok"]
    if result.pending:
        lines.append(f"still in flight at the drain deadline: {result.pending}")
    lines.append(
        f"orders in doubt when the PSP came back: {result.in_doubt_at_psp_back}, "
        f"all decided within {result.settled_after_psp_back_s} s"
    )
    done_but_failed = result.failed_but_done
    lines.append(f"orders FAILURE although the PSP says DONE: {len(done_but_failed)} {done_but_failed[:5]}")
    late = "; ".join(result.late_sale_problems) or "credited once"
    lines.append(f"late-wallet sale: {result.late_sale} {late}")
    lines += ["", render(result.findings) if result.findings else "reconcile did not run", ""]
    lines.append("drills: PASSED" if result.clean else "drills: FAILED")
    return "\n".join(lines)


def write_json(result: DrillResult) -> Path:
    folder = Path("results")
    folder.mkdir(exist_ok=True)
    path = folder / f"drills-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    data = {k: v for k, v in result.__dict__.items() if k != "findings"}
    if result.findings is not None:
        data["reconcile"] = {"clean": result.findings.clean, "problems": result.findings.problems,
                             "orders": result.findings.order_counts, "deadLetters": result.findings.dlt}  # fmt: skip
    path.write_text(json.dumps(data, indent=2, default=str))
    return path
