"""What a drill found (``DrillResult``), and how it is printed and kept: the timeline, the load's answers, the
money checks and reconcile."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiwishop.ops.reconcile import Findings, render


@dataclass
class DrillResult:
    events: list[tuple[float, str]] = field(default_factory=list)  # seconds since the load started, what
    errors: dict[str, int] = field(default_factory=dict)
    server_errors: dict[str, int] = field(default_factory=dict)  # per endpoint, answers 500 the load saw: none allowed
    no_retry_after: dict[str, int] = field(default_factory=dict)  # per endpoint, 503s without Retry-After: none
    slowest_ms: dict[str, float] = field(default_factory=dict)  # per endpoint, the longest answer (or failure)
    order_counts: dict[str, int] = field(default_factory=dict)
    paid: int = 0
    psp: dict[str, Any] = field(default_factory=dict)
    drained_in_s: float = 0.0
    pending: dict[str, int] = field(default_factory=dict)  # what was still in flight at the drain deadline
    findings: Findings | None = None
    poison: dict[str, dict[str, int]] = field(default_factory=dict)
    poison_problems: list[str] = field(default_factory=list)
    poison_injected: int = 0
    failed_but_done: list[str] = field(default_factory=list)  # FAILURE orders the PSP says DONE: must be none
    settled_after_psp_back_s: float | None = None  # the PSP's return → every order then in doubt decided
    in_doubt_at_psp_back: int = 0
    late_sale: dict[str, Any] = field(default_factory=dict)
    late_sale_problems: list[str] = field(default_factory=list)
    cancels: dict[str, Any] = field(default_factory=dict)  # the load's cancels: requested, done, in doubt, refused…
    cancel_books: dict[str, Any] = field(default_factory=dict)  # DONE at the PSP, CANCELED lines, DEBIT rows
    cancel_problems: list[str] = field(default_factory=list)  # none allowed (``drill_cancels``)
    console_problems: list[str] = field(default_factory=list)  # what the ops console shows afterwards: none allowed

    @property
    def clean(self) -> bool:
        money = not self.failed_but_done and not self.late_sale_problems and self.settled_after_psp_back_s is not None
        findings = bool(self.findings and self.findings.clean)
        honest = not self.server_errors and not self.no_retry_after  # an outage answers 503 with Retry-After
        return (
            findings
            and money
            and honest
            and not self.poison_problems
            and not self.pending
            and not self.cancel_problems
            and not self.console_problems
        )


def render_result(result: DrillResult) -> str:
    lines = ["timeline (s since start):", *(f"  {at:6.1f}  {what}" for at, what in result.events), ""]
    lines.append(f"load: {result.paid} orders paid (confirm 200); answers that were not a success: {result.errors}")
    server_errors, no_retry_after = result.server_errors, result.no_retry_after
    lines.append(f"answers 500 (an outage must answer 503): {sum(server_errors.values())} {server_errors}")
    lines.append(f"503 answers without Retry-After: {sum(no_retry_after.values())} {no_retry_after}")
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
    lines += _cancel_lines(result)
    lines += [f"  PROBLEM: {p}" for p in result.console_problems] or [
        "ops console: overview all answered, nothing in doubt, the parked records listed, its reconcile clean"
    ]
    lines += ["", render(result.findings) if result.findings else "reconcile did not run", ""]
    lines.append("drills: PASSED" if result.clean else "drills: FAILED")
    return "\n".join(lines)


def _cancel_lines(result: DrillResult) -> list[str]:
    c, b = result.cancels, result.cancel_books
    if not c:
        return ["cancels: none made"]
    lines = [f"cancels: {c['requested']} requested {c['byKind']}; {c['done']} done ({c['doneAfter202']} after a 202, "
             f"the longest wait {c['longest202WaitS']} s); {c['inDoubtAtEnd']} in doubt at the end; {c['refused']} "
             f"refused {c['refusedCodes']}; {c['noAnswer']} without an answer; refunded {c['refunded']}"]  # fmt: skip
    if b:
        lines.append(f"cancel books: PSP canceled {b['pspCanceled']} for {b['pspCanceledAmount']}; "
                     f"DONE cancels {b['doneCancels']}; CANCELED lines {b['canceledLines']} for {b['canceledAmount']}; "
                     f"DEBIT rows {b['debitRows']} for {b['debitAmount']}")  # fmt: skip
    return lines + ([f"  PROBLEM: {p}" for p in result.cancel_problems] or ["  each done exactly once: ok"])


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
