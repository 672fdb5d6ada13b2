"""Every service's /metrics carries the process, GC and platform metrics the ops rules and dashboards read
(deploy/prometheus, deploy/grafana), on its own registry, however many apps one process builds."""

from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from kiwishop.platform.metrics import Metrics
from kiwishop.platform.service import ServiceDefinition
from kiwishop.platform.web import build_app
from kiwishop.services import definitions
from tests.support import running_app

# Sample names (not family names): what deploy/grafana/dashboards/processes.json and the alert rules query.
PROCESS_SAMPLES = {
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "process_start_time_seconds",
    "python_gc_collections_total",
    "python_gc_objects_collected_total",
    "python_info",
}


def sample_names(exposition: str) -> set[str]:
    return {sample.name for family in text_string_to_metric_families(exposition) for sample in family.samples}


def test_a_registry_has_the_process_gc_and_platform_collectors() -> None:
    names = sample_names(Metrics("one").render().decode())
    assert names >= PROCESS_SAMPLES
    assert "kiwi_outbox_pending_rows" in names  # the shop's own metrics are still there


def test_several_apps_in_one_process_each_register_them_on_their_own_registry() -> None:
    first, second = Metrics("first"), Metrics("second")  # a second ProcessCollector would clash on one registry
    assert first.registry is not second.registry
    assert sample_names(first.render().decode()) >= PROCESS_SAMPLES
    assert sample_names(second.render().decode()) >= PROCESS_SAMPLES


def test_the_process_values_describe_this_process() -> None:
    samples = {s.name: s for f in text_string_to_metric_families(Metrics("x").render().decode()) for s in f.samples}
    rss = samples["process_resident_memory_bytes"].value
    cpu = samples["process_cpu_seconds_total"].value
    info = samples["python_info"].labels
    assert rss > 0
    assert cpu > 0
    assert (info["major"], info["minor"]) == ("3", "11")


async def test_a_built_apps_metrics_endpoint_serves_them() -> None:
    app = build_app(title="t", metrics=Metrics("test"))
    async with running_app(app) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert sample_names(response.text) >= PROCESS_SAMPLES


@pytest.mark.parametrize("service", definitions(), ids=lambda d: d.name)
async def test_every_services_app_serves_them(service: ServiceDefinition) -> None:
    """Built with the local defaults and not started: /metrics needs none of the servers."""
    app = service.create_app(service.settings_class())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    names = sample_names(response.text)
    assert names >= PROCESS_SAMPLES
    assert "kiwi_outbox_pending_rows" in names  # and the registry is the service's own, with its metrics
