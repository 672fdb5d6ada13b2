"""What the monitoring files in deploy/ may name: the metrics the code defines, the console's system-wide gauges,
and Prometheus' own ``up``; and the metric names a PromQL expression uses."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kiwishop.order.metrics import PaymentMetrics
from kiwishop.platform.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
PROMETHEUS_DIR = DEPLOY / "prometheus"
GRAFANA_DIR = DEPLOY / "grafana"

# Exported by the console (port 8088) on its /metrics, collected from every service: the one list of them.
CONSOLE_METRICS = frozenset(
    {
        "kiwi_outbox_backlog_rows",
        "kiwi_outbox_oldest_age_seconds",
        "kiwi_consumer_group_lag",
        "kiwi_dead_letters_pending",
        "kiwi_payments_in_doubt",
        "kiwi_payments_quarantined",
        "kiwi_reconcile_discrepancies",
        "kiwi_reconcile_last_run_timestamp_seconds",
        "kiwi_service_ready",
    }
)
PROMETHEUS_METRICS = frozenset({"up"})  # set by Prometheus on every scrape

# The suffixes prometheus-client adds to a family's name in the exposition, by type.
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "histogram": ("_bucket", "_count", "_sum", "_created"),
    "summary": ("_count", "_sum", "_created"),
    "gauge": ("",),
    "info": ("_info",),
}


def code_metrics() -> frozenset[str]:
    """Every sample name a service's /metrics can carry: platform/metrics.py (with its process, GC and platform
    collectors) and order/metrics.py, read from the registries themselves, not from their source."""
    registry = Metrics("names").registry
    PaymentMetrics(registry)
    names: set[str] = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in _SUFFIXES.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return frozenset(names)


def known_metrics() -> frozenset[str]:
    return code_metrics() | CONSOLE_METRICS | PROMETHEUS_METRICS


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_VARIABLE = re.compile(r"\$\{[^}]*\}|\$\w+")
_IDENTIFIER = re.compile(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?")
_KEYWORDS = frozenset(
    {"and", "or", "unless", "atan2", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right"}
    | {"inf", "nan"}
)


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: label matchers, strings, ranges, grouping labels and
    Grafana's $variables are dropped first; what is left that is no function call or keyword is a metric."""
    text = _VARIABLE.sub("", _STRING.sub('""', expr))
    text = _GROUPING.sub("", _RANGES.sub("", _MATCHERS.sub("", text)))
    return {
        match.group(1)
        for match in _IDENTIFIER.finditer(text)
        if not match.group(2) and match.group(1).lower() not in _KEYWORDS
    }


def promtool() -> str:
    """promtool is installed by scripts/bootstrap.sh (Debian's ``prometheus`` package); a test that needs it fails
    without it rather than being skipped."""
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(
            "promtool is not installed: run scripts/bootstrap.sh (it installs Debian's package `prometheus`, which "
            "ships /usr/bin/promtool), or `apt-get install --no-install-recommends prometheus` with a policy-rc.d "
            "that exits 101 so no daemon starts"
        )
    return path
