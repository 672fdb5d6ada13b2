"""deploy/prometheus/alerts.yml: valid for promtool, its unit tests (alerts_test.yml) pass and can fail, every
alert fires and stays quiet in them, and it names only metrics that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from kiwishop.contracts import topics
from tests.unit.deploy.metric_names import PROMETHEUS_DIR, known_metrics, metric_names, promtool

ALERTS = PROMETHEUS_DIR / "alerts.yml"
ALERTS_TEST = PROMETHEUS_DIR / "alerts_test.yml"
# What the "Operations" issue asks alerts for, by the names alerts.yml gives them.
REQUIRED_ALERTS = {
    "KiwiHigh5xxRate",
    "KiwiHighLatencyP99",
    "KiwiServiceNotReady",
    "KiwiTargetDown",
    "KiwiConsumerLagHigh",
    "KiwiMoneyDeadLetters",
    "KiwiOutboxBacklogOld",
    "KiwiPaymentsQuarantined",
    "KiwiPaymentsInDoubtLong",
    "KiwiReconcileDiscrepancies",
    "KiwiReconcileNotRun",
}
MONEY_TOPICS = {topics.PAYMENT, topics.WALLET}  # PAYMENT_CONFIRM/CANCELED and WALLET_SETTLED travel on them


def run_promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def rules() -> list[dict[str, Any]]:
    return [rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]]


def alerts() -> dict[str, dict[str, Any]]:
    return {rule["alert"]: rule for rule in rules() if "alert" in rule}


def test_promtool_accepts_the_rules_and_the_configuration() -> None:
    checked = run_promtool("check", "rules", ALERTS.name)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    config = run_promtool("check", "config", "prometheus.yml")
    assert config.returncode == 0, config.stdout + config.stderr


def test_the_rules_unit_tests_pass() -> None:
    result = run_promtool("test", "rules", ALERTS_TEST.name)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_unit_tests_fail_when_an_alert_stops_firing(tmp_path: Path) -> None:
    """The harness is not blind: money dead letters that page only above 5 break alerts_test.yml."""
    shutil.copy(ALERTS_TEST, tmp_path)
    text = ALERTS.read_text()
    broken = text.replace('kiwi-shop-wallet"} > 0\n', 'kiwi-shop-wallet"} > 5\n', 1)
    assert broken != text
    (tmp_path / ALERTS.name).write_text(broken)
    result = run_promtool("test", "rules", ALERTS_TEST.name, cwd=tmp_path)
    assert result.returncode != 0
    assert "KiwiMoneyDeadLetters" in result.stdout + result.stderr


def test_the_alerts_the_issue_asks_for_exist() -> None:
    assert alerts().keys() >= REQUIRED_ALERTS


@pytest.mark.parametrize("name", sorted(alerts()))
def test_every_alert_has_a_severity_a_summary_and_a_description(name: str) -> None:
    rule = alerts()[name]
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["annotations"]["summary"].strip()
    assert rule["annotations"]["description"].strip()


@pytest.mark.parametrize("name", sorted(alerts()))
def test_every_alert_is_tested_firing_and_staying_quiet(name: str) -> None:
    cases = [
        case
        for test in yaml.safe_load(ALERTS_TEST.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case["alertname"] == name
    ]
    assert any(case.get("exp_alerts") for case in cases), f"{name} is never shown firing"
    assert any(not case.get("exp_alerts") for case in cases), f"{name} is never shown staying quiet"


def test_every_metric_the_rules_name_exists() -> None:
    allowed = known_metrics() | {rule["record"] for rule in rules() if "record" in rule}
    unknown = {
        f"{rule.get('alert') or rule.get('record')}: {name}"
        for rule in rules()
        for name in metric_names(rule["expr"])
        if name not in allowed
    }
    assert not unknown


def test_the_money_topics_are_the_contracts_payment_and_wallet_topics() -> None:
    assert set(topics.BUSINESS_TOPICS) >= MONEY_TOPICS
    money = alerts()["KiwiMoneyDeadLetters"]["expr"]
    others = alerts()["KiwiDeadLetters"]["expr"]
    match = re.search(r'topic=~"([^"]+)"', money)
    assert match is not None
    assert set(match.group(1).split("|")) == MONEY_TOPICS
    assert f'topic!~"{match.group(1)}"' in others  # every other topic is KiwiDeadLetters'


@pytest.mark.parametrize(
    ("expr", "names"),
    [
        (
            'sum by (job) (rate(kiwi_http_request_duration_seconds_count{status=~"5.."}[5m]))',
            {"kiwi_http_request_duration_seconds_count"},
        ),
        ("histogram_quantile(0.99, sum by (job, le) (rate(x_bucket[5m])))", {"x_bucket"}),
        (
            'time() - kiwi_reconcile_last_run_timestamp_seconds > 3600 or on () absent(y) and on () up{job="c"} == 1',
            {"kiwi_reconcile_last_run_timestamp_seconds", "y", "up"},
        ),
        (
            'sum(rate(process_cpu_seconds_total{job=~"$job"}[$__rate_interval])) by (job) * 1e3',
            {"process_cpu_seconds_total"},
        ),
        ('label_replace(a, "dst", "$1", "src", "(.*)") / ignoring(x) group_left b offset 5m', {"a", "b"}),
    ],
)
def test_metric_names_finds_the_selected_metrics_only(expr: str, names: set[str]) -> None:
    assert metric_names(expr) == names


def test_an_unknown_metric_is_not_known() -> None:
    assert metric_names("rate(kiwi_outbox_publishd_total[5m])") == {"kiwi_outbox_publishd_total"}
    assert "kiwi_outbox_publishd_total" not in known_metrics()
    assert {"kiwi_outbox_published_total", "kiwi_payments_by_state", "python_info", "up"} <= known_metrics()
