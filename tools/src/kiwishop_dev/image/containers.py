"""Every service in a container of the checked image, on the host network, against private servers.

The services and their settings come from ``kiwishop.services`` alone: each gets a free port through its own
``KIWI_<SERVICE>_PORT``, and every URL setting whose default points at another service's default port on a
loopback host (order's ``catalog_url``, the shared ``identity_jwks_url``, the emulator's allowed redirect
origins, …) is pointed at that service's port here instead: what devstack's ``service_ports_env`` sets, without
its list. A service that joins ``SERVICE_MODULES`` is checked with no change to this module. Only identity
gets a signing key (a throw-away one); the others verify tokens against its JWKS over HTTP, as in production.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic_settings import BaseSettings

from kiwishop.identity.keys import generate_private_pem
from kiwishop.platform.service import ServiceDefinition
from kiwishop.platform.settings import InfraSettings
from kiwishop_dev.devstack.procs import running
from kiwishop_dev.image.podman import Podman

LABEL = "kiwishop.image-check"  # its value: the pid of the image-check that started the container
ENDED = {"exited", "stopped", "dead", "removing", "gone"}
_LOOPBACK_URL = re.compile(r"^(https?://(?:127\.0\.0\.1|localhost)):(\d+)(.*)$")


def env_prefix(service: ServiceDefinition) -> str:
    return str(service.settings_class.model_config.get("env_prefix", ""))


def wiring_env(services: Sequence[ServiceDefinition], ports: Mapping[str, int]) -> dict[str, str]:
    """Each service's port setting, and every loopback URL setting moved to the port its service has here."""
    by_default_port = {int(s.settings_class.model_fields["port"].default): s.name for s in services}
    env = {f"{env_prefix(s)}PORT": str(ports[s.name]) for s in services if s.name in ports}
    settings: list[tuple[str, type[BaseSettings]]] = [
        ("KIWI_", InfraSettings),
        *((env_prefix(s), s.settings_class) for s in services),
    ]
    for prefix, settings_class in settings:
        for field_name, info in settings_class.model_fields.items():
            value = _moved_setting(info.default, by_default_port, ports)
            if value is not None:
                env[f"{prefix}{field_name.upper()}"] = value
    return env


def _moved_setting(default: object, by_default_port: Mapping[int, str], ports: Mapping[str, int]) -> str | None:
    """The setting's value with its service URLs moved, or None when nothing moved (a list goes as JSON)."""
    if isinstance(default, str):
        moved = _moved(default, by_default_port, ports)
        return moved if moved != default else None
    if isinstance(default, tuple) and default and all(isinstance(item, str) for item in default):
        items = [_moved(item, by_default_port, ports) for item in default]
        return json.dumps(items) if items != list(default) else None
    return None


def _moved(url: str, by_default_port: Mapping[int, str], ports: Mapping[str, int]) -> str:
    match = _LOOPBACK_URL.match(url)
    if not match:
        return url
    name = by_default_port.get(int(match.group(2)))
    if name is None or name not in ports:
        return url
    return f"{match.group(1)}:{ports[name]}{match.group(3)}"


def sweep_leftovers(podman: Podman) -> list[str]:
    """Removes the containers of an image-check that is gone (killed before it could clean up)."""
    owners = podman.label_values(LABEL)
    orphans = [name for name, pid in owners.items() if not (pid.isdigit() and running(int(pid)))]
    podman.remove(orphans, stop_timeout_s=2)
    return orphans


@dataclass
class Container:
    service: str
    name: str
    port: int
    started_at: float
    ready_after_s: float | None = None
    last_answer: str = ""  # what /health/ready said last
    ended: str | None = None  # the state it ended in before it got ready ("Exited (1) 2 seconds ago", …)


class ContainerFleet:
    def __init__(self, podman: Podman, image: str, env: Mapping[str, str]) -> None:
        self.podman = podman
        self.image = image
        self.env = dict(env)
        self.owner = str(os.getpid())
        self.containers: dict[str, Container] = {}

    def start(self, service: str, port: int) -> None:
        name = f"kiwishop-check-{self.owner}-{service}"
        env = dict(self.env)
        if service == "identity":  # its key alone; every other service reads identity's public keys
            env["KIWI_IDENTITY_SIGNING_KEY"] = generate_private_pem()
        started_at = time.monotonic()
        self.containers[service] = Container(service, name, port, started_at)  # before: removed even if half-made
        self.podman.run_detached(name, self.image, ["kiwishop", "serve", service], env=env, labels={LABEL: self.owner})

    def wait_ready(self, timeout_s: float) -> list[Container]:
        """Polls each container's ``/health/ready`` until 200; gives up on one that ended, and on all of them at
        the deadline. Returns the containers that never got ready."""
        deadline = time.monotonic() + timeout_s
        pending = dict(self.containers)
        next_state_check = 0.0
        while pending and time.monotonic() < deadline:
            for service, container in list(pending.items()):
                ready, container.last_answer = _probe(container.port)
                if ready:
                    container.ready_after_s = time.monotonic() - container.started_at
                    del pending[service]
            if pending and time.monotonic() >= next_state_check:
                states = self.podman.states(f"{LABEL}={self.owner}")
                for service, container in list(pending.items()):
                    state = states.get(container.name, "gone")
                    if state.split(" ", 1)[0].lower() in ENDED:  # "Exited (1) 2 seconds ago" (podman 4.3), "exited"
                        container.ended = state
                        del pending[service]
                next_state_check = time.monotonic() + 1.0
            time.sleep(0.2)
        return [c for c in self.containers.values() if c.ready_after_s is None]

    def last_logs(self, container: Container, lines: int = 40) -> str:
        return self.podman.logs(container.name, lines)

    def remove_all(self) -> None:
        """Every container it started, stopped (SIGTERM first) and removed."""
        names = [c.name for c in self.containers.values()]
        with contextlib.suppress(Exception):  # cleanup: never hide the error that brought us here
            self.podman.remove(names)


def _probe(port: int) -> tuple[bool, str]:
    """Whether ``/health/ready`` answers 200, and what it last said (its status and body, or why no answer)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=1) as response:
            return response.status == 200, f"{response.status} {response.read(300).decode(errors='replace')}"
    except urllib.error.HTTPError as exc:
        return False, f"{exc.code} {exc.read(300).decode(errors='replace')}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"no answer ({getattr(exc, 'reason', exc)})"
