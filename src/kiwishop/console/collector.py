"""The console's /metrics: system-wide gauges the alert rules read, refreshed by a collection loop
(``platform.periodic``) from the same overview the page shows, read with the console's service credential.

``kiwi_outbox_backlog_rows`` / ``kiwi_outbox_oldest_age_seconds`` {service}, ``kiwi_consumer_group_lag``
{group, topic}, ``kiwi_dead_letters_pending`` {topic}, ``kiwi_payments_in_doubt`` {status},
``kiwi_payments_quarantined``, ``kiwi_reconcile_discrepancies``, ``kiwi_reconcile_last_run_timestamp_seconds``,
``kiwi_service_ready`` {service}. A labelled series whose source could not be read this round is removed (absent,
not stale); ``kiwi_payments_quarantined`` is NaN while order cannot be read; the reconcile gauges follow the
latest report (0 until there is one)."""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

from kiwishop.console.credentials import ServiceCredential
from kiwishop.console.domain import is_error
from kiwishop.console.ports import Json
from kiwishop.console.queries import OverviewSources, overview

IN_DOUBT = ("UNKNOWN", "EXECUTING")


def _replace(gauge: Gauge, values: dict[tuple[str, ...], float]) -> None:
    """The gauge holds exactly these labelled values: the others are removed."""
    for labels in {tuple(sample.labels.values()) for metric in gauge.collect() for sample in metric.samples}:
        if labels not in values:
            with contextlib.suppress(KeyError):
                gauge.remove(*labels)
    for labels, value in values.items():
        gauge.labels(*labels).set(value)


def _rows(part: Any) -> Iterable[Json]:
    return [] if is_error(part) or not isinstance(part, list) else [r for r in part if not is_error(r)]


class ConsoleGauges:
    def __init__(self, registry: CollectorRegistry) -> None:
        def gauge(name: str, text: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(name, text, list(labels), registry=registry)

        self.outbox_backlog = gauge("kiwi_outbox_backlog_rows", "Outbox rows the broker has not taken", ("service",))
        self.outbox_oldest = gauge("kiwi_outbox_oldest_age_seconds", "Age of the oldest such row", ("service",))
        self.group_lag = gauge("kiwi_consumer_group_lag", "Records a group has not consumed", ("group", "topic"))
        self.dead_letters = gauge("kiwi_dead_letters_pending", "Parked records not yet redriven", ("topic",))
        self.in_doubt = gauge("kiwi_payments_in_doubt", "Orders whose payment is in doubt", ("status",))
        self.quarantined = gauge("kiwi_payments_quarantined", "Orders quarantined for a person to decide")
        self.discrepancies = gauge("kiwi_reconcile_discrepancies", "Discrepancies the latest reconcile found")
        self.last_run = gauge("kiwi_reconcile_last_run_timestamp_seconds", "When the latest reconcile finished")
        self.ready = gauge("kiwi_service_ready", "1 when the service answers /health/ready with 200", ("service",))

    def export(self, o: Json) -> None:
        outbox = list(_rows(o.get("outbox")))
        _replace(self.outbox_backlog, {(r["service"],): float(r["pending"]) for r in outbox})
        _replace(self.outbox_oldest, {(r["service"],): float(r["oldestAgeSeconds"]) for r in outbox})
        _replace(self.group_lag, {(r["group"], r["topic"]): float(r["lag"]) for r in _rows(o.get("consumers"))})
        _replace(self.dead_letters, {(r["topic"],): float(r["pending"]) for r in _rows(o.get("deadLetters"))})
        _replace(self.ready, {(r["service"],): float(bool(r.get("ready"))) for r in o.get("services") or []})
        payments = o.get("payments")
        counts = payments.get("counts", {}) if isinstance(payments, dict) and not is_error(payments) else None
        _replace(self.in_doubt, {(s,): float(counts.get(s, 0)) for s in IN_DOUBT} if counts is not None else {})
        self.quarantined.set(float(counts.get("QUARANTINED", 0)) if counts is not None else math.nan)
        report = o.get("reconcile")
        if isinstance(report, dict) and not is_error(report):
            self.discrepancies.set(float(report.get("discrepancies", 0)))
            finished = dt.datetime.fromisoformat(str(report["finishedAt"]).replace("Z", "+00:00"))
            self.last_run.set(finished.timestamp())


def collect_step(sources: OverviewSources, credential: ServiceCredential, gauges: ConsoleGauges) -> Callable[..., Any]:
    """One round of the loop: the overview with the service credential's token, into the gauges."""

    async def step() -> bool:
        gauges.export(await overview(sources, await credential.token()))
        return False

    return step
