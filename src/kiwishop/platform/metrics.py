"""Prometheus metrics, one registry per app (tests build several apps in one process).

Each registry also carries the process, GC and platform collectors (``process_*``, ``python_gc_*``,
``python_info``) that prometheus-client only puts on its global registry, which no app serves: the alert rules
and the "processes" dashboard in deploy/ read them from every service's /metrics."""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        self.service = service
        ProcessCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.http_latency = Histogram(
            "kiwi_http_request_duration_seconds",
            "HTTP request latency by route template",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.outbox_pending = Gauge(
            "kiwi_outbox_pending_rows",
            "Outbox rows not yet acknowledged by the broker",
            registry=self.registry,
        )
        self.outbox_published = Counter(
            "kiwi_outbox_published", "Outbox rows acknowledged by the broker", registry=self.registry
        )
        self.outbox_failures = Counter(
            "kiwi_outbox_publish_failures",
            "Outbox publish attempts that were not acknowledged",
            registry=self.registry,
        )
        self.consumer_lag = Gauge(
            "kiwi_consumer_lag",
            "Records between the committed position and the high watermark",
            ["group", "topic", "partition"],
            registry=self.registry,
        )
        self.consumed = Counter(
            "kiwi_consumer_records",
            "Records handled by consumers",
            ["group", "topic", "outcome"],
            registry=self.registry,
        )
        self.consumer_retries = Counter(
            "kiwi_consumer_retries",
            "Failed handler attempts that are retried instead of parked (money topics, infrastructure down)",
            ["group", "topic"],
            registry=self.registry,
        )
        self.dlt = Counter(
            "kiwi_consumer_dead_lettered",
            "Records parked in a dead-letter topic",
            ["group", "topic"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
