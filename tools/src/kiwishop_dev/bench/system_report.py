"""The system benchmark's table rows, Markdown report and JSON result (the chart: ``system_chart``)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from kiwishop.ops.reconcile import render
from kiwishop_dev.bench.report import Report, percentile
from kiwishop_dev.bench.system_chart import chart, series
from kiwishop_dev.bench.system_definitions import DEFINITIONS
from kiwishop_dev.bench.system_model import (
    SCENARIO,
    SETTLED_TARGET,
    Outcome,
    Phase,
    action_rate,
    endpoint_stats,
    lags_ms,
    settled_rate,
    share,
    shop_cpu_ms,
    storage_comparison,
)


def add_rows(report: Report, outcome: Outcome) -> None:
    for phase in outcome.phases:
        label = f"{phase.name}, PSP {phase.latency_ms[0]}–{phase.latency_ms[1]} ms, {phase.load_label()}"
        settled = settled_rate(phase)
        target = SETTLED_TARGET[phase.name]
        report.add(SCENARIO, f"fully settled payments/s ({label})", settled, "1/s", f">= {target:.0f}",
                   settled >= target)  # fmt: skip
        if phase.arrivals is not None:
            started = action_rate(phase)
            report.add(SCENARIO, f"  {phase.name} open loop: actions started/s in the window", started, "1/s",
                       _offer(phase))  # fmt: skip
        stats = endpoint_stats(phase)
        for endpoint, s in stats.items():
            report.add(SCENARIO, f"  {phase.name} {endpoint}: ok/s · p50 · p99", s["rate"], "1/s",
                       f"p50 {s['p50']:.0f} ms · p99 {s['p99']:.0f} ms · {int(s['errors'])} errors")  # fmt: skip
        psp_p99 = percentile(phase.psp_ms, 99)
        confirm_p99 = stats["confirm"]["p99"]
        report.add(SCENARIO, f"  {phase.name} confirm p99", confirm_p99, "ms", f"<= {psp_p99 + 50:.0f} (PSP p99 + 50)",
                   confirm_p99 <= psp_p99 + 50)  # fmt: skip
        lags = lags_ms(phase)
        report.add(SCENARIO, f"  {phase.name} confirm→credited p50", percentile(lags, 50), "ms")
        p99 = percentile(lags, 99)
        report.add(SCENARIO, f"  {phase.name} confirm→credited p99", p99, "ms", "< 1000", p99 < 1000)
        report.add(SCENARIO, f"  {phase.name} paid but not is_wallet_done after the drain", phase.not_done, "",
                   "0", phase.not_done == 0)  # fmt: skip
        c = phase.cancels
        if c:
            report.add(SCENARIO, f"  {phase.name} cancels requested · done · in doubt at the end · refused",
                       c["requested"], "", f"{c['done']} done · {c['inDoubtAtEnd']} in doubt · {c['refused']} "
                       f"refused · refunded {c['refunded']}", c["inDoubtAtEnd"] == 0 and not c["problems"])  # fmt: skip
    lost = len(outcome.lost)
    report.add(SCENARIO, f"lost payments (PSP approved, not credited; of {outcome.approved:,} approved)", lost, "", "0",
               lost == 0)  # fmt: skip
    report.add(SCENARIO, "reconcile discrepancies", len(outcome.findings.problems), "", "0", outcome.findings.clean)
    fast = outcome.phases[0]
    flush = outcome.flush_log_at_trx_commit
    report.add(SCENARIO, f"DB limit: payment SQL replayed, {outcome.replay.concurrency} connections, "
               f"innodb_flush_log_at_trx_commit={flush}", outcome.replay.rate, "1/s")  # fmt: skip
    ratio = share(settled_rate(fast), outcome.replay)
    report.add(SCENARIO, "service (fast) ÷ DB limit", ratio * 100, "%", ">= 50", ratio >= 0.5)
    if outcome.at_flush_1 is not None:
        phase, replay = outcome.at_flush_1
        report.add(SCENARIO, "at innodb_flush_log_at_trx_commit=1 (production's): fast settled/s", settled_rate(phase),
                   "1/s")  # fmt: skip
        report.add(SCENARIO, "  DB limit at 1", replay.rate, "1/s")
        strict = share(settled_rate(phase), replay)
        report.add(SCENARIO, "  service ÷ DB limit at 1", strict * 100, "%", ">= 50", strict >= 0.5)
    per_process = shop_cpu_ms(fast)
    total = sum(per_process.values())
    report.add(SCENARIO, "CPU per settled payment, the shop's own processes", total, "ms", "<= 8", total <= 8)
    for name, ms in sorted(per_process.items(), key=lambda kv: -kv[1]):
        report.add(SCENARIO, f"  CPU per settled payment: {name}", ms, "ms")
    for storage, phase, lost in storage_comparison(outcome)[1:]:
        report.add(SCENARIO, f"fast, broker on {storage}: settled/s", settled_rate(phase), "1/s")
        report.add(SCENARIO, f"  confirm→credited p99, broker on {storage}", percentile(lags_ms(phase), 99), "ms")
        report.add(SCENARIO, f"  lost payments, broker on {storage}", lost, "", "0", lost == 0)
    report.add(SCENARIO, "1-minute load average after the run (context)", outcome.machine["loadavg_after"][0], "")


def _offer(phase: Phase) -> str:
    a = phase.arrivals
    assert a is not None
    return (f"offered {a.rate_per_s:.1f}/s · {a.refused} refused (over {a.max_in_flight} in flight) · "
            f"peak {a.peak_in_flight} in flight")  # fmt: skip


def lag_parts_ms(phase: Phase) -> dict[str, list[float]]:
    """The lag in hops: confirm's tx2 wrote the outbox row → the relay had it acknowledged by the broker →
    the wallet wrote the CREDIT rows; and the confirm's answer reaching the driver after tx2's outbox row."""
    parts: dict[str, list[float]] = {"outbox row → published": [], "published → credited": [],
                                     "outbox row → confirm answer at the driver": []}  # fmt: skip
    began, ended = phase.window
    for order_id, paid in phase.orders.paid_at.items():
        if not began <= paid < ended or order_id not in phase.outbox or order_id not in phase.credited:
            continue
        made, sent = phase.outbox[order_id]
        parts["outbox row → published"].append((sent - made) * 1000)
        parts["published → credited"].append((phase.credited[order_id] - sent) * 1000)
        parts["outbox row → confirm answer at the driver"].append((paid - made) * 1000)
    return parts


def storage_rows(outcome: Outcome) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = [("broker storage, fast PSP", "settled/s", "confirm→credited p50", "p99", "lost")]
    for storage, phase, lost in storage_comparison(outcome):
        lags = lags_ms(phase)
        rows.append((storage, f"{settled_rate(phase):.1f}", f"{percentile(lags, 50):.0f} ms",
                     f"{percentile(lags, 99):.0f} ms", str(lost)))  # fmt: skip
    return rows


def broker_table(outcome: Outcome) -> str:
    """The memory:// and s3:// runs side by side, as text."""
    rows = storage_rows(outcome)
    widths = [max(map(len, column)) for column in zip(*rows, strict=True)]
    return "\n".join("  ".join([row[0].ljust(widths[0]), *map(str.rjust, row[1:], widths[1:])]) for row in rows)


def _storage_section(outcome: Outcome) -> list[str]:
    head, *rows = storage_rows(outcome)
    lines = ["## What the durable broker costs", "", "The fast profile again on a new shop whose broker keeps its "
             "data in SeaweedFS (as `make run` runs it) instead of memory:", ""]  # fmt: skip
    lines += ["| " + " | ".join(head) + " |", "|---" + "|---:" * (len(head) - 1) + "|"]
    return [*lines, *("| " + " | ".join(row) + " |" for row in rows), ""]


def markdown(outcome: Outcome, table: str, chart_name: str) -> str:
    lines = ["# kiwi-shop system benchmark", ""]
    m = outcome.machine
    lines += [f"{m['cpus']} CPUs; 1/5/15-minute load average before the run "
              f"{' / '.join(f'{v:.2f}' for v in m['loadavg_before'])}, after it "
              f"{' / '.join(f'{v:.2f}' for v in m['loadavg_after'])} (other work on the machine counts too).",
              ""]  # fmt: skip
    lines += ["## Results", "", "```", table, "```", "", f"![throughput and latency over time]({chart_name})", ""]
    for phase in outcome.phases:
        lines += _phase_section(phase)
    lines += _storage_section(outcome)
    lines += ["## Money", ""]
    lines += [f"- PSP-approved orders: {outcome.approved:,}; lost (approved, never credited): {len(outcome.lost)}"]
    lines += [f"  {', '.join(outcome.lost[:20])}" if outcome.lost else ""]
    lines += ["", "`reconcile` at the end (lag bound 0 s, recovery window 0 s — nothing may be pending):", "", "```"]
    lines += [render(outcome.findings), "```", ""]
    r = outcome.replay
    fast = settled_rate(outcome.phases[0])
    share = fast / r.rate if r.rate else 0.0
    lines += ["## The database's own limit", ""]
    lines += [f"The payment's statements replayed straight against MariaDB ({r.concurrency} connections, "
              f"{r.seconds:.0f} s, no services): **{r.rate:,.0f} payments/s**. The services settled "
              f"{fast:,.1f}/s at the fast profile: {share * 100:.1f} % of what the database can do"
              f"{' — the database is not the bottleneck' if share < 0.5 else ''}. During the replay MariaDB used "
              f"{r.per_payment_ms(r.db_cpu_s):.1f} ms of CPU per payment and the replaying client (asyncmy, one "
              f"Python process) {r.per_payment_ms(r.client_cpu_s):.1f} ms; the two share the machine's cores, so "
              "the replayed rate is a floor for what MariaDB alone could do.", ""]  # fmt: skip
    lines += _flush_section(outcome)
    lines += _cpu_section(outcome)
    lines += DEFINITIONS
    return "\n".join(lines) + "\n"


def _flush_section(outcome: Outcome) -> list[str]:
    flush = outcome.flush_log_at_trx_commit
    text = f"The phases and the replay above ran with `innodb_flush_log_at_trx_commit = {flush}`."
    if outcome.at_flush_1 is not None:
        phase, replay = outcome.at_flush_1
        settled = settled_rate(phase)
        text += (f" The local stack runs with {flush}: a commit reaches the OS at once and the disk about once a "
                 "second, so an OS crash or a power cut (not a crash of mariadbd) can lose the last second of commits "
                 "— fine for a laptop, not for money in production, which runs with 1 (every commit flushed). At 1, "
                 f"the fast profile settled **{settled:,.1f}/s** and the replay reached **{replay.rate:,.0f} "
                 f"payments/s**: {share(settled, replay) * 100:.1f} % of it.")  # fmt: skip
    return [text, ""]


def _phase_section(phase: Phase) -> list[str]:
    stats = endpoint_stats(phase)
    lines = [f"## {phase.name}: PSP {phase.latency_ms[0]}–{phase.latency_ms[1]} ms, {phase.load_label()}", ""]
    lines += ["| endpoint | ok/s | p50 ms | p95 ms | p99 ms | errors |", "|---|---:|---:|---:|---:|---:|"]
    for endpoint, s in stats.items():
        lines.append(f"| {endpoint} | {s['rate']:.1f} | {s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} | "
                     f"{int(s['errors'])} |")  # fmt: skip
    lags = lags_ms(phase)
    settled = settled_rate(phase)
    lines += ["", f"- fully settled payments/s: **{settled:.1f}** (target ≥ {SETTLED_TARGET[phase.name]:.0f})",
              f"- confirm→credited lag: p50 {percentile(lags, 50):.0f} ms, p99 {percentile(lags, 99):.0f} ms "
              f"({len(lags):,} orders; target p99 < 1000 ms)",
              f"- PSP latency probed directly: p50 {percentile(phase.psp_ms, 50):.0f} ms, "
              f"p99 {percentile(phase.psp_ms, 99):.0f} ms",
              *(f"  - {hop}: p50 {percentile(v, 50):.0f} ms, p99 {percentile(v, 99):.0f} ms"
                for hop, v in lag_parts_ms(phase).items()),
              *([f"- open loop: {action_rate(phase):.1f} actions/s started in the window; {_offer(phase)}"]
                if phase.arrivals is not None else []),
              f"- paid orders not `is_wallet_done` after the drain: {phase.not_done}",
              f"- cancels (the whole phase): {_cancels(phase)}",
              f"- errors: {phase.recorder.errors() or 'none'}", ""]  # fmt: skip
    return lines


def _cancels(phase: Phase) -> str:
    c = phase.cancels
    if not c:
        return "none"
    return (f"{c['requested']} requested {c['byKind']}, {c['done']} done ({c['doneAfter202']} after a 202), "
            f"{c['inDoubtAtEnd']} in doubt at the end, {c['refused']} refused {c['refusedCodes']}, "
            f"{c['noAnswer']} without an answer, other answers {c['problems'] or 'none'}; "
            f"refunded {c['refunded']}")  # fmt: skip


def _cpu_section(outcome: Outcome) -> list[str]:
    fast = outcome.phases[0]
    seconds = fast.window[1] - fast.window[0]
    settled = max(1, sum(1 for at in fast.credited.values() if fast.window[0] <= at < fast.window[1]))
    lines = ["## Where the time goes", "", f"CPU per process during the fast window ({seconds:.0f} s):", ""]
    lines += ["| process | CPU s | cores busy | CPU ms per settled payment |", "|---|---:|---:|---:|"]
    for name, used in sorted(fast.cpu.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {name} | {used:.1f} | {used / seconds:.2f} | {used / settled * 1000:.1f} |")
    total = sum(fast.cpu.values())
    per_payment = total / settled * 1000
    cores = outcome.machine["cpus"]
    lines += [f"| **all** | {total:.1f} | {total / seconds:.2f} | {per_payment:.1f} |", ""]
    lines += [f"Everything the shop does per settled payment (the mixed load's reads, likes and reviews included) "
              f"costs {per_payment:.0f} ms of CPU here, so {cores} cores allow at most "
              f"~{cores / per_payment * 1000:.0f} payments/s; 400/s would need {cores / 400 * 1000:.1f} ms or "
              f"{per_payment * 400 / 1000:.0f} cores. Other work on the machine (the load average above) takes "
              "its share of the cores too.", ""]  # fmt: skip
    if fast.profile is None:
        return [*lines, "(py-spy was not found: no profile of the order process)", ""]
    p = fast.profile
    lines += [f"py-spy, order process, {p.samples:,} CPU samples — innermost frame by library:", ""]
    lines += ["| library | share |", "|---|---:|", *(f"| {g} | {s * 100:.1f} % |" for g, s in p.by_group), ""]
    lines += ["kiwishop functions on the stack (inclusive):", "", "| function | share |", "|---|---:|"]
    lines += [*(f"| `{f}` | {s * 100:.1f} % |" for f, s in p.inclusive), ""]
    lines += ["Hottest innermost frames:", "", "| frame | share |", "|---|---:|"]
    lines += [*(f"| `{f}` | {s * 100:.1f} % |" for f, s in p.top_self), ""]
    return lines


def write(outcome: Outcome, folder: Path, table: str = "") -> tuple[Path, Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    png, md, js = (folder / f"system-{stamp}.{ext}" for ext in ("png", "md", "json"))
    chart(outcome, png)
    md.write_text(markdown(outcome, table, png.name))
    js.write_text(json.dumps(_json(outcome), indent=2, default=str))
    return md, png, js


def _json(outcome: Outcome) -> dict[str, Any]:
    phases = []
    for phase in outcome.phases:
        lags = lags_ms(phase)
        per_second: dict[str, list[int]] = defaultdict(list)
        data = series(phase)
        per_second.update(data["counts"])
        per_second["settled"] = data["settled"]
        phases.append({
            "name": phase.name, "pspLatencyMs": phase.latency_ms, "users": phase.users,
            "windowS": phase.window[1] - phase.window[0], "settledPerS": settled_rate(phase),
            "endpoints": endpoint_stats(phase), "lagMs": {"p50": percentile(lags, 50), "p99": percentile(lags, 99)},
            "pspMs": {"p50": percentile(phase.psp_ms, 50), "p99": percentile(phase.psp_ms, 99)},
            "notWalletDone": phase.not_done, "errors": phase.recorder.errors(), "cpuS": phase.cpu,
            "perSecond": per_second, "confirmP99PerSecond": data["p99"]["confirm"], "cancels": phase.cancels,
            "openLoop": None if phase.arrivals is None else {
                "offeredPerS": phase.arrivals.rate_per_s, "startedPerS": action_rate(phase),
                "refused": phase.arrivals.refused, "peakInFlight": phase.arrivals.peak_in_flight},
        })  # fmt: skip
    r = outcome.replay
    return {
        "machine": outcome.machine, "phases": phases, "lost": outcome.lost, "approved": outcome.approved,
        "brokerStorage": storage_rows(outcome),
        "reconcile": {"clean": outcome.findings.clean, "problems": outcome.findings.problems[:100],
                      "orders": outcome.findings.order_counts, "deadLetters": outcome.findings.dlt},
        "innodbFlushLogAtTrxCommit": outcome.flush_log_at_trx_commit,
        "atFlushLogAtTrxCommit1": None if outcome.at_flush_1 is None else {
            "settledPerS": settled_rate(outcome.at_flush_1[0]), "dbLimitPaymentsPerS": outcome.at_flush_1[1].rate},
        "shopCpuMsPerSettledPayment": shop_cpu_ms(outcome.phases[0]),
        "dbLimit": {"paymentsPerS": r.rate, "connections": r.concurrency, "seconds": r.seconds,
                    "mariadbCpuMsPerPayment": r.per_payment_ms(r.db_cpu_s),
                    "clientCpuMsPerPayment": r.per_payment_ms(r.client_cpu_s)},
    }  # fmt: skip
