"""`make image-check`'s parts that need no podman: how the containers are wired to each other (from the settings
classes, no list), where debootstrap fetches from, the Dockerfile's base name, the pinned limits, that a secret
never reaches podman's argv, and that a container that exits is given up on at once."""

from __future__ import annotations

import http.server
import json
import resource
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic_settings import SettingsConfigDict

from kiwishop import services
from kiwishop.platform.service import ServiceDefinition
from kiwishop.platform.settings import ServiceSettings
from kiwishop_dev.devstack.fleet import PREFIX, service_ports_env
from kiwishop_dev.image.base import apt_mirror, dockerfile_base
from kiwishop_dev.image.containers import ContainerFleet, wiring_env
from kiwishop_dev.image.podman import PODMAN_NPROC_CEILING, Podman, pinned_limits

ROOT = Path(__file__).resolve().parents[3]


def test_the_wiring_is_what_the_fleet_sets_for_the_services_it_knows() -> None:
    known = [s for s in services.definitions() if s.name in PREFIX]
    ports = {s.name: 20000 + i for i, s in enumerate(known)}
    wired = wiring_env(known, ports)
    expected = service_ports_env(ports)
    origins = "KIWI_TOSS_EMULATOR_ALLOWED_REDIRECT_ORIGINS"  # a list: JSON here, comma-separated there
    assert json.loads(wired.pop(origins)) == expected.pop(origins).split(",")
    assert wired == expected


class NewSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="KIWI_NEW_", extra="ignore")
    port: int = 8095
    catalog_url: str = "http://127.0.0.1:8081"
    docs_url: str = "http://127.0.0.1:9999/docs"  # no service's port: left alone


def test_a_new_service_is_wired_without_a_list() -> None:
    new = ServiceDefinition("new", NewSettings, lambda settings: None)  # type: ignore[arg-type,return-value]
    chosen = [*services.definitions(), new]
    ports = {s.name: 30000 + i for i, s in enumerate(chosen)}
    wired = wiring_env(chosen, ports)
    assert wired["KIWI_NEW_PORT"] == str(ports["new"])
    assert wired["KIWI_NEW_CATALOG_URL"] == f"http://127.0.0.1:{ports['catalog']}"
    assert "KIWI_NEW_DOCS_URL" not in wired
    assert wired["KIWI_IDENTITY_JWKS_URL"] == f"http://127.0.0.1:{ports['identity']}/.well-known/jwks.json"


def test_debootstrap_fetches_bookworm_from_where_apt_does(tmp_path: Path) -> None:
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list").write_text("# deb http://old.example/debian bookworm main\n")
    (tmp_path / "sources.list.d" / "cloud.list").write_text("deb https://vendor.example/apt cloud-sdk-bookworm main\n")
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\n\n"
        "Types: deb\nURIs: http://off.example/debian\nSuites: bookworm\nEnabled: no\n\n"
        "Types: deb deb-src\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\n"
    )
    assert apt_mirror(tmp_path) == "http://mirror.example/debian"
    (tmp_path / "sources.list.d" / "debian.sources").unlink()
    assert apt_mirror(tmp_path) is None  # debootstrap's own default then


def test_the_base_image_is_the_dockerfiles_first_foreign_from(tmp_path: Path) -> None:
    assert dockerfile_base(ROOT / "deploy" / "Dockerfile") == "python:3.11.13-slim-bookworm"
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM build AS x\n")
    assert dockerfile_base(dockerfile) == "build"
    dockerfile.write_text("# FROM nothing\nRUN true\n")
    with pytest.raises(ValueError, match="names no base image"):
        dockerfile_base(dockerfile)


def test_limits_are_ours_and_never_above_podmans_ceiling() -> None:
    limits = pinned_limits()
    assert limits["nofile"] == resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    assert limits["nproc"] <= PODMAN_NPROC_CEILING
    assert Podman(limits={"nofile": 7, "nproc": 9}).ulimits() == ["--ulimit=nofile=7:7", "--ulimit=nproc=9:9"]


def test_a_containers_settings_go_by_name_never_in_argv(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    class Done:
        returncode, stdout, stderr = 0, "", ""

    def fake_run(argv: list[str], **kwargs: Any) -> Done:
        calls.append({"argv": argv, **kwargs})
        return Done()

    monkeypatch.setattr(subprocess, "run", fake_run)
    podman = Podman(limits={"nofile": 10, "nproc": 10})
    podman.run_detached("c", "img", ["kiwishop", "serve", "identity"], env={"KIWI_SECRET": "s3cret"}, labels={})
    assert "--env=KIWI_SECRET" in calls[0]["argv"]
    assert not any("s3cret" in arg for arg in calls[0]["argv"])
    assert calls[0]["env"]["KIWI_SECRET"] == "s3cret"
    assert calls[0]["argv"][:3] == ["podman", "--runtime", "runc"]


class Ready(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/health/ready" else 404)
        self.end_headers()

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture
def ready_port() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


@dataclass(frozen=True)
class FakePodman(Podman):
    """Containers that are "started" without podman; ``crashed`` ones have exited."""

    crashed: frozenset[str] = frozenset()

    def run_detached(self, name: str, image: str, command: Sequence[str], **_: Mapping[str, str]) -> None:
        pass

    def states(self, label: str) -> dict[str, str]:
        return {f"kiwishop-check-{label.rsplit('=', 1)[1]}-{s}": "Exited (1) 1 second ago" for s in self.crashed}


def test_a_container_that_exits_is_given_up_on_at_once(ready_port: int) -> None:
    fleet = ContainerFleet(FakePodman(limits={}, crashed=frozenset({"wallet"})), "img", {})
    fleet.start("catalog", ready_port)
    fleet.start("wallet", 1)  # nothing listens there
    not_ready = fleet.wait_ready(timeout_s=60)
    assert [c.service for c in not_ready] == ["wallet"]
    assert not_ready[0].ended == "Exited (1) 1 second ago"  # its state ended the wait, not the deadline
    assert fleet.containers["catalog"].ready_after_s is not None


def test_a_build_keeps_its_own_images_and_drops_earlier_builds(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    build_output = (
        "STEP 1/2: WORKDIR /src\n--> Using cache 1111111111aa0000\n--> 1111111111a\nSTEP 2/2\n--> 2222222222b\n"
    )
    removed: list[list[str]] = []

    class Done:
        returncode, stderr = 0, ""
        stdout = "1111111111a9\n3333333333c9\n"  # `podman images --filter dangling=true`: the cache, an old stage

    def fake_run(argv: list[str], **kwargs: Any) -> Done:
        if "build" in argv:
            kwargs["stdout"].write(build_output)
        if "rmi" in argv:
            removed.append(argv[argv.index("rmi") + 1 :])
        return Done()

    monkeypatch.setattr(subprocess, "run", fake_run)
    podman = Podman(limits={"nofile": 10, "nproc": 10})
    used = podman.build(tmp_path / "Dockerfile", "t:1", tmp_path, tmp_path / "build.log")
    assert used == {"1111111111a", "2222222222b"}
    podman.remove_dangling("some=label", keep=used)
    assert removed == [["3333333333c9"]]
