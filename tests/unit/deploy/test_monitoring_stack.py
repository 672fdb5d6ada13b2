"""The "monitoring" Compose profile fits the rest: Prometheus scrapes every service by its Compose name and the
port its settings listen on, and Prometheus and Grafana read their configuration from deploy/ read-only."""

from __future__ import annotations

import re
from typing import Any

import yaml

from kiwishop.services import definitions
from tests.unit.deploy.metric_names import DEPLOY, GRAFANA_DIR, PROMETHEUS_DIR

NOT_SCRAPED = {"toss-emulator"}  # demo profile only: no part of production
CONSOLE = ("console", 8088)  # the ops collector; checked from its settings once it is a service


def scrape_targets() -> dict[str, list[str]]:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    return {
        job["job_name"]: [target for group in job["static_configs"] for target in group["targets"]]
        for job in config["scrape_configs"]
    }


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_every_service_is_scraped_by_its_name_and_port() -> None:
    wanted = {d.name: [f"{d.name}:{d.settings_class().port}"] for d in definitions() if d.name not in NOT_SCRAPED}
    wanted.setdefault(CONSOLE[0], [f"{CONSOLE[0]}:{CONSOLE[1]}"])
    assert scrape_targets() == wanted


def test_the_scrape_targets_are_the_compose_containers_of_the_services() -> None:
    services = compose()["services"]
    targets = scrape_targets()
    containers: dict[str, set[str]] = {}  # service → its containers (a second instance: "Scale a service")
    for name, spec in services.items():
        if spec.get("command", [])[:2] == ["kiwishop", "serve"] and "demo" not in spec.get("profiles", []):
            containers.setdefault(spec["command"][2], set()).add(name)
    assert containers, "no service containers found"
    for service, names in containers.items():
        assert {target.split(":")[0] for target in targets[service]} == names


def test_the_rule_files_are_the_alert_rules() -> None:
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    assert config["rule_files"] == ["alerts.yml"]


def test_prometheus_and_grafana_run_only_with_the_monitoring_profile_on_pinned_images() -> None:
    services = compose()["services"]
    for name in ("prometheus", "grafana"):
        spec = services[name]
        assert spec["profiles"] == ["monitoring"]
        assert re.fullmatch(r"[\w./-]+:v?\d+\.\d+\.\d+", spec["image"]), spec["image"]
        assert all(port.startswith("127.0.0.1:") for port in spec["ports"])


def test_their_configuration_is_mounted_read_only_from_deploy() -> None:
    services = compose()["services"]
    mounts = {
        name: {v.split(":")[0]: v.split(":", 1)[1] for v in services[name]["volumes"]}
        for name in ("prometheus", "grafana")
    }
    assert mounts["prometheus"]["./prometheus"] == "/etc/prometheus:ro"
    assert mounts["grafana"]["./grafana/provisioning"] == "/etc/grafana/provisioning:ro"
    dashboards = mounts["grafana"]["./grafana/dashboards"]
    assert dashboards.endswith(":ro")
    provider = yaml.safe_load((GRAFANA_DIR / "provisioning" / "dashboards" / "kiwi-shop.yml").read_text())
    assert [p["options"]["path"] for p in provider["providers"]] == [dashboards.removesuffix(":ro")]
    command = " ".join(services["prometheus"]["command"])
    assert "--config.file=/etc/prometheus/prometheus.yml" in command


def test_grafana_reads_the_compose_prometheus_and_its_password_from_env() -> None:
    services = compose()["services"]
    (source,) = yaml.safe_load((GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text())[
        "datasources"
    ]
    assert source["url"] == "http://prometheus:9090"
    assert "127.0.0.1:9090:9090" in services["prometheus"]["ports"]
    password = services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]
    assert password.startswith("${GRAFANA_ADMIN_PASSWORD:?")
    assert re.search(r"^GRAFANA_ADMIN_PASSWORD=$", (DEPLOY / ".env.example").read_text(), re.MULTILINE)
    assert {"prometheus-data", "grafana-data"} <= compose()["volumes"].keys()
