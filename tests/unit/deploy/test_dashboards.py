"""deploy/grafana/dashboards: valid JSON Grafana can provision, panels on the provisioned data source, every
query valid PromQL (promtool) that names only metrics that exist, and the panels the "Operations" issue asks for."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.deploy.metric_names import GRAFANA_DIR, known_metrics, metric_names, promtool

DASHBOARDS = sorted((GRAFANA_DIR / "dashboards").glob("*.json"))
DATASOURCES = GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml"
# Per dashboard title: metrics some panel must show (the issue's list).
REQUIRED = {
    "kiwi-shop overview": {
        "kiwi_http_request_duration_seconds_count",  # request rate, 5xx rate
        "kiwi_http_request_duration_seconds_bucket",  # p99
        "kiwi_service_ready",
        "kiwi_outbox_backlog_rows",
        "kiwi_outbox_oldest_age_seconds",
        "kiwi_consumer_group_lag",
        "kiwi_dead_letters_pending",
        "kiwi_payments_in_doubt",
        "kiwi_payments_quarantined",
        "kiwi_reconcile_discrepancies",
    },
    "processes": {
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "python_gc_collections_total",
        "python_gc_objects_collected_total",
    },
}
# What Grafana substitutes before a query reaches Prometheus.
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "15s", "$__range": "1h", "$job": ".*"}


def load(path: Path) -> dict[str, Any]:
    board = json.loads(path.read_text())
    assert isinstance(board, dict)
    return board


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # a collapsed row keeps its panels inside


def exprs(board: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in panels(board) for target in panel.get("targets", [])]


def datasource_uid() -> str:
    (source,) = yaml.safe_load(DATASOURCES.read_text())["datasources"]
    assert source["type"] == "prometheus"
    return str(source["uid"])


def test_the_two_dashboards_exist_with_unique_uids() -> None:
    boards = [load(path) for path in DASHBOARDS]
    assert {board["title"] for board in boards} == set(REQUIRED)
    assert len({board["uid"] for board in boards}) == len(boards)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_queries_the_provisioned_prometheus(path: Path) -> None:
    board = load(path)
    uid = datasource_uid()
    queried = [panel for panel in panels(board) if panel["type"] != "row"]
    assert queried
    for panel in queried:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == uid, panel["title"]
        assert all(target["expr"].strip() and target["datasource"]["uid"] == uid for target in panel["targets"])
    for variable in board["templating"]["list"]:
        assert variable["datasource"]["uid"] == uid


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_have_unique_ids_and_do_not_overlap(path: Path) -> None:
    board = load(path)
    ids = [panel["id"] for panel in panels(board)]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for panel in panels(board):
        pos = panel["gridPos"]
        assert pos["x"] >= 0, panel["title"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(pos["x"], pos["x"] + pos["w"]) for y in range(pos["y"], pos["y"] + pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_query_names_only_metrics_that_exist(path: Path) -> None:
    board = load(path)
    known = known_metrics()
    unknown = {name for expr in exprs(board) for name in metric_names(expr) if name not in known}
    for variable in board["templating"]["list"]:
        match = re.fullmatch(r"label_values\((\w+),\s*\w+\)", variable["definition"])
        assert match is not None, variable["definition"]
        unknown |= {match.group(1)} - known
    assert not unknown


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_the_dashboard_shows_what_the_issue_asks_for(path: Path) -> None:
    board = load(path)
    shown = {name for expr in exprs(board) for name in metric_names(expr)}
    assert REQUIRED[board["title"]] <= shown


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_query_is_valid_promql(path: Path, tmp_path: Path) -> None:
    """promtool parses them as recording rules, with Grafana's variables substituted as Grafana would."""
    queries = []
    for expr in exprs(load(path)):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"unsubstituted variable in {expr}"
        queries.append(expr)
    rules = {
        "groups": [{"name": "dashboard", "rules": [{"record": f"q{i}", "expr": q} for i, q in enumerate(queries)]}]
    }
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool(), "check", "rules", "queries.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_would_refuse_a_broken_query(tmp_path: Path) -> None:
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": "q", "expr": "sum by (job) (rate(x[5m])"}]}]}
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    result = subprocess.run(
        [promtool(), "check", "rules", "queries.yml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
