"""The system bench's table: settled/s, the DB limit and the share in one table; the share at
innodb_flush_log_at_trx_commit=1 when the run's setting isn't 1; CPU per settled payment per shop process."""

from __future__ import annotations

from kiwishop.ops.reconcile import Findings
from kiwishop_dev.bench.arrivals import Arrivals
from kiwishop_dev.bench.load import Orders, Recorder
from kiwishop_dev.bench.replay import ReplayResult
from kiwishop_dev.bench.report import Report
from kiwishop_dev.bench.system_model import Outcome, Phase, shop_cpu_ms
from kiwishop_dev.bench.system_report import add_rows, markdown

WINDOW = (1000.0, 1010.0)  # 10 s


def _phase(settled: int, cpu: dict[str, float]) -> Phase:
    phase = Phase("fast", (100, 300), 32, Recorder(), Orders(), WINDOW, (2.0, 12.0), [150.0], cpu)
    phase.credited = {f"order-{i}": WINDOW[0] + i * 10 / settled for i in range(settled)}
    phase.credited["late"] = WINDOW[1] + 1  # credited after the window: not counted
    return phase


def _outcome(flush: int, at_1: tuple[Phase, ReplayResult] | None) -> Outcome:
    cpu = {"order": 2.0, "wallet": 1.0, "mariadb": 5.0, "toss-emulator": 3.0, "load driver": 4.0, "tansu": 1.0}
    outcome = Outcome(
        [_phase(200, cpu)],
        [],
        200,
        Findings(),
        ReplayResult(1000, 10.0, 32),
        {},
        {"cpus": 2, "loadavg_before": (0.5, 0.5, 0.5), "loadavg_after": (1.0, 1.0, 1.0)},
    )  # 20 settled/s against a limit of 100/s
    outcome.flush_log_at_trx_commit = flush
    outcome.at_flush_1 = at_1
    return outcome


def _rows(outcome: Outcome) -> dict[str, tuple[float, str, bool | None]]:
    report = Report()
    add_rows(report, outcome)
    return {row.metric: (row.value, row.target, row.met) for row in report.rows}


def test_cpu_per_settled_payment_counts_only_the_shops_processes() -> None:
    per_process = shop_cpu_ms(_phase(200, {"order": 2.0, "wallet": 1.0, "mariadb": 5.0, "toss-emulator": 3.0}))
    assert per_process == {"order": 10.0, "wallet": 5.0}  # 2 s / 200 payments, 1 s / 200


def test_the_table_has_the_share_and_the_cpu_against_their_targets() -> None:
    rows = _rows(_outcome(1, None))
    assert rows["service (fast) ÷ DB limit"] == (20.0, ">= 50", False)
    assert rows["DB limit: payment SQL replayed, 32 connections, innodb_flush_log_at_trx_commit=1"][0] == 100.0
    assert rows["CPU per settled payment, the shop's own processes"] == (15.0, "<= 8", False)
    assert rows["  CPU per settled payment: order"][0] == 10.0
    assert not any("at 1" in metric for metric in rows)  # the run was at 1 already


def test_a_run_at_another_flush_setting_reports_the_share_at_1_too() -> None:
    strict = _phase(100, {})  # 10 settled/s at 1
    rows = _rows(_outcome(2, (strict, ReplayResult(150, 10.0, 32))))  # the limit at 1: 15/s
    assert rows["DB limit: payment SQL replayed, 32 connections, innodb_flush_log_at_trx_commit=2"][0] == 100.0
    assert rows["  DB limit at 1"][0] == 15.0
    value, _, met = rows["  service ÷ DB limit at 1"]
    assert round(value, 1) == 66.7
    assert met is True
    text = markdown(_outcome(2, (strict, ReplayResult(150, 10.0, 32))), "table", "chart.png")
    assert "innodb_flush_log_at_trx_commit = 2" in text
    assert "66.7 %" in text


def test_an_open_loop_phase_reports_what_was_offered_and_started() -> None:
    outcome = _outcome(1, None)
    slow = Phase("slow", (2000, 3500), 0, Recorder(), Orders(), WINDOW, (2.0, 12.0), [2500.0], {},
                 arrivals=Arrivals(rate_per_s=30.0, offered=400, refused=7, peak_in_flight=1000))  # fmt: skip
    slow.recorder.calls = [("checkout", 2.0 + i / 10, 50.0, 201) for i in range(100)]  # 10/s in the window
    slow.recorder.calls += [("confirm", 3.0, 2500.0, 200), ("hot", 13.0, 5.0, 200)]  # not an action; after it
    outcome.phases.append(slow)
    rows = _rows(outcome)
    value, note, _ = rows["  slow open loop: actions started/s in the window"]
    assert value == 10.0
    assert note == "offered 30.0/s · 7 refused (over 1000 in flight) · peak 1000 in flight"
    assert any("open loop, 30 actions/s offered" in metric for metric in rows)
    assert "- open loop: 10.0 actions/s started in the window" in markdown(outcome, "table", "chart.png")
